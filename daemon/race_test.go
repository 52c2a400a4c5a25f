//go:build race

package main

// raceEnabled: the tests run with -race, and so do the binaries the
// end-to-end tests build.
const raceEnabled = true
