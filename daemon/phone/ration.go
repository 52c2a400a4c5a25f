package phone

import (
	"net/netip"
	"sync"
	"time"
)

// ration lets a log line about a source through at most once per period,
// and counts the ones it held back, so that a phone stuck retrying or a
// scanner cannot fill the journal. It remembers at most max sources;
// when a new one finds it full of sources seen within the period, that
// source's line is dropped too. The caller gives the time, so tests need
// no clock.
type ration struct {
	period time.Duration
	max    int

	mu   sync.Mutex
	seen map[netip.Addr]*rationEntry
}

type rationEntry struct {
	last       time.Time // when a line was last let through
	suppressed int       // lines held back since
}

func newRation(period time.Duration, max int) *ration {
	return &ration{period: period, max: max, seen: make(map[netip.Addr]*rationEntry)}
}

// take reports whether a line about src may be logged at now, and how
// many were held back since the last one that was.
func (r *ration) take(src netip.Addr, now time.Time) (ok bool, suppressed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.seen[src]; e != nil {
		if now.Sub(e.last) < r.period {
			e.suppressed++
			return false, 0
		}
		suppressed = e.suppressed
		*e = rationEntry{last: now}
		return true, suppressed
	}
	if len(r.seen) >= r.max {
		r.prune(now)
		if len(r.seen) >= r.max {
			return false, 0
		}
	}
	r.seen[src] = &rationEntry{last: now}
	return true, 0
}

// prune forgets the sources whose period is over (and the count of lines
// they had held back).
func (r *ration) prune(now time.Time) {
	for src, e := range r.seen {
		if now.Sub(e.last) >= r.period {
			delete(r.seen, src)
		}
	}
}
