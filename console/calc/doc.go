// Package calc is the sizing calculator of the callvault console: how much
// disk a recording workload fills, and how many recording channels and
// calls per second its busy hour needs.
//
// Every function is pure: no clock, no I/O, no daemon. The disk figures
// follow a call-recording vendor's sizing guide (16 MB per recorded hour,
// 1024 MB to the GB), and Examples holds the seven published rows that
// guide gives, which DiskGB reproduces exactly. Channels come from Erlang B
// (ErlangB, Channels) on the busy-hour traffic (Erlangs); CPS is the
// busy-hour call rate, to be kept under MaxCPS.
//
// Invalid inputs are clamped, never reported as errors: a negative or NaN
// count, duration or rate counts as 0, and each function documents what
// it does at the edges. Callers that take user input (the callvault calc
// command) reject such input before calling.
package calc
