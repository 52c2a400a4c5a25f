package siprec

import (
	"net/netip"
	"sync"
	"time"
)

// quietLog lets a flood be logged without flooding the log: at most one
// line per source address per interval.
type quietLog struct {
	every time.Duration

	mu    sync.Mutex
	last  map[netip.Addr]*quietEntry
	swept time.Time
}

type quietEntry struct {
	at      time.Time
	skipped int
}

func newQuietLog(every time.Duration) *quietLog {
	return &quietLog{every: every, last: make(map[netip.Addr]*quietEntry)}
}

// allow reports whether a line about src may be logged at now, and how
// many were held back since the last one.
func (q *quietLog) allow(src netip.Addr, now time.Time) (skipped int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.last[src]
	if e != nil && now.Sub(e.at) < q.every {
		e.skipped++
		return 0, false
	}
	if e == nil {
		if len(q.last) >= gateSweep && now.Sub(q.swept) >= time.Second {
			q.swept = now
			for a, old := range q.last {
				if now.Sub(old.at) >= q.every {
					delete(q.last, a)
				}
			}
		}
		if len(q.last) >= gateMax {
			return 0, true
		}
		e = &quietEntry{}
		q.last[src] = e
	}
	skipped, e.skipped, e.at = e.skipped, 0, now
	return skipped, true
}
