package siprec

import "time"

// UCMPairWindow is how long the first call of a UCM recording waits for
// its partner. UCM places the two calls back to back (5 to 50 ms apart,
// in either order); 2 s also covers a partner whose INVITE was lost on
// UDP and came again with the first two retransmissions (0.5 s, then
// 1 s later). A partner later than that is recorded as a call of its own.
const UCMPairWindow = 2 * time.Second

// UCMPairs decides which UCM recording calls are the two halves of one
// recording. The first half of a key is pending for the window; a half of
// the other role with the same key within the window is its partner. It
// is pure bookkeeping: the clock is passed in and it is not safe for
// concurrent use (its owner locks it).
type UCMPairs struct {
	// Window is how long a half waits for its partner (UCMPairWindow
	// when zero).
	Window  time.Duration
	pending map[string]ucmPending
	swept   time.Time
}

// ucmPending is a half waiting for its partner.
type ucmPending struct {
	role string
	id   string // the waiting half's id (its Call-ID)
	at   time.Time
}

// ucmPairsSweep is the table size above which stale entries are swept.
const ucmPairsSweep = 256

// Pair decides for the half h, known by id, arriving at now. When a half
// of the other role with h's key is pending within the window, Pair takes
// it and returns its id and true: h joins that half's recording. Otherwise
// h starts a recording of its own and is pending in its turn (replacing a
// pending half of its own role, whose partner never came), unless it has
// no key. A clock gone back counts as within the window.
func (p *UCMPairs) Pair(h UCMHalf, id string, now time.Time) (partner string, ok bool) {
	key := h.Key()
	if key == "" {
		return "", false
	}
	if p.pending == nil {
		p.pending = make(map[string]ucmPending)
	}
	p.sweep(now)
	if e, found := p.pending[key]; found && e.role != h.Role && !p.expired(e, now) {
		delete(p.pending, key)
		return e.id, true
	}
	p.pending[key] = ucmPending{role: h.Role, id: id, at: now}
	return "", false
}

// Forget drops the pending half id of h's key, if it still waits: its
// recording was refused or has ended.
func (p *UCMPairs) Forget(h UCMHalf, id string) {
	key := h.Key()
	if e, ok := p.pending[key]; ok && e.id == id {
		delete(p.pending, key)
	}
}

// Pending is the number of halves waiting for a partner.
func (p *UCMPairs) Pending() int { return len(p.pending) }

func (p *UCMPairs) window() time.Duration {
	if p.Window > 0 {
		return p.Window
	}
	return UCMPairWindow
}

func (p *UCMPairs) expired(e ucmPending, now time.Time) bool {
	return now.Sub(e.at) > p.window()
}

// sweep drops the halves whose window passed, once the table has grown
// and at most once a window.
func (p *UCMPairs) sweep(now time.Time) {
	if len(p.pending) < ucmPairsSweep || now.Sub(p.swept) < p.window() {
		return
	}
	p.swept = now
	for k, e := range p.pending {
		if p.expired(e, now) {
			delete(p.pending, k)
		}
	}
}
