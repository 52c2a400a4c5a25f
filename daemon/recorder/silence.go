package recorder

import (
	"fmt"
	"time"
)

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

// CheckSilence seals and hangs up every call whose legs have all been
// silent past [rtp] timeout (held legs: hold_timeout), reason rtp-timeout.
func (r *Recorder) CheckSilence(now time.Time) {
	if r.rtpTimeout <= 0 {
		return
	}
	for _, c := range r.live() {
		if c.silent(now, r.rtpTimeout, r.holdTimeout) {
			r.hangupCall(c, 408, fmt.Sprintf("no RTP for %ds", int(r.rtpTimeout.Seconds())), "rtp-timeout")
		}
	}
}

// silent reports whether every leg of the call has been silent too long.
func (c *call) silent(now time.Time, timeout, holdTimeout time.Duration) bool {
	stats := c.rec.Stats()
	c.mu.Lock()
	acts := make([]legActivity, len(c.legs))
	for i, l := range c.legs {
		acts[i] = legActivity{last: l.since, held: l.held}
		for _, st := range stats {
			if st.Label == l.label && st.LastArrival.After(acts[i].last) {
				acts[i].last = st.LastArrival
			}
		}
	}
	c.mu.Unlock()
	return silentTooLong(acts, now, timeout, holdTimeout)
}
