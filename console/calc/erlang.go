package calc

// MaxCPS is the call rate, in new calls a second, under which the sizing
// guide advises keeping a recorder: above it, size the hardware for the
// rate rather than for the channels alone.
const MaxCPS = 3

// MinGoS is the smallest grade of service Channels works to: a smaller,
// zero or NaN gos is raised to it (a zero blocking probability would need
// infinitely many channels).
const MinGoS = 1e-9

// MaxChannels bounds the search of Channels: traffic that needs more
// channels than this (about a million erlangs) gets MaxChannels.
const MaxChannels = 1_000_000

// Erlangs is the busy-hour traffic, in erlangs, of bhca call attempts in
// the busy hour lasting avgSeconds on average: bhca x avgSeconds / 3600.
// Negative or NaN inputs count as 0.
func Erlangs(bhca int, avgSeconds float64) float64 {
	return nonNeg(float64(bhca)) * nonNeg(avgSeconds) / 3600
}

// CPS is the mean rate of new calls, per second, of bhca busy-hour call
// attempts: bhca / 3600. A negative bhca counts as 0. Compare it with
// MaxCPS.
func CPS(bhca int) float64 {
	return nonNeg(float64(bhca)) / 3600
}

// ErlangB is the blocking probability of erlangs of offered traffic on
// channels channels (Erlang's B formula), computed with the recurrence
// B(E,0) = 1, B(E,n) = E·B(E,n-1) / (n + E·B(E,n-1)), which neither
// overflows nor loses precision for large E or n. With no channels
// (channels <= 0) every call is blocked: 1. Negative or NaN erlangs count
// as 0, so with at least one channel nothing is blocked: 0.
func ErlangB(erlangs float64, channels int) float64 {
	e := nonNeg(erlangs)
	b := 1.0
	for n := 1; n <= channels; n++ {
		b = step(e, b, n)
	}
	return b
}

// step is one step of the recurrence: B(E,n) from B(E,n-1).
func step(e, prev float64, n int) float64 {
	eb := e * prev
	return eb / (float64(n) + eb)
}

// Channels is the fewest channels N that carry erlangs of traffic with a
// blocking probability of at most gos (the grade of service, 0.01 for one
// call in a hundred): the least N with ErlangB(erlangs, N) <= gos.
//
// No traffic (erlangs <= 0 or NaN) needs no channels: 0. A gos of 1 or
// more is met by 0 channels too. A gos under MinGoS (or NaN) is raised to
// MinGoS, and the answer is at most MaxChannels.
func Channels(erlangs, gos float64) int {
	e := nonNeg(erlangs)
	if e == 0 {
		return 0
	}
	if !(gos >= MinGoS) {
		gos = MinGoS
	}
	b := 1.0
	n := 0
	for b > gos && n < MaxChannels {
		n++
		b = step(e, b, n)
	}
	return n
}
