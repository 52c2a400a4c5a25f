// Package format turns the control API's figures into the text the
// console shows: durations, sizes, local times, leg counters. The
// subcommands of callvault and the interactive console (console/tui) share
// it, so that a figure reads the same in both.
//
// Every function is pure: no I/O, and no clock (a time is printed in the
// process's local zone, nothing more).
package format
