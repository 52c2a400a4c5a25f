package main

import "time"

// legActivity is what the silence check knows of one leg.
type legActivity struct {
	// last is the arrival of the leg's last accepted packet, or when the
	// leg was offered or last changed direction, whichever is later.
	last time.Time
	// held: the gateway's latest offer puts the leg on hold (a=inactive or
	// a=recvonly: it will send nothing), so it may stay silent longer.
	held bool
}

// silentTooLong reports whether every leg has been silent past its limit:
// timeout for a leg in use, holdTimeout for a held one. A call with no leg
// is never silent (there is nothing to wait for but the gateway's BYE).
func silentTooLong(legs []legActivity, now time.Time, timeout, holdTimeout time.Duration) bool {
	if len(legs) == 0 || timeout <= 0 {
		return false
	}
	for _, l := range legs {
		limit := timeout
		if l.held {
			limit = holdTimeout
		}
		if now.Sub(l.last) < limit {
			return false
		}
	}
	return true
}

// heldDirection reports whether an offered stream direction means the
// gateway sends nothing on it for now.
func heldDirection(dir string) bool {
	return dir == "inactive" || dir == "recvonly"
}
