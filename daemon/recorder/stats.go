package recorder

import (
	"sync"
	"time"
)

// cpsWindow is the span over which calls per second are averaged.
const cpsWindow = 60

// callStats counts admitted and rejected calls and keeps per-second
// admissions for the last minute. Callers pass the time, so it needs no
// clock of its own.
type callStats struct {
	mu      sync.Mutex
	total   int64
	rejects int64
	buckets [cpsWindow]int64
	lastSec int64 // unix second of the newest bucket
	started time.Time
}

func (s *callStats) admitted(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(now.Unix())
	s.buckets[now.Unix()%cpsWindow]++
	s.total++
}

func (s *callStats) rejected() {
	s.mu.Lock()
	s.rejects++
	s.mu.Unlock()
}

// advance clears the buckets of the seconds between the last admission
// and sec.
func (s *callStats) advance(sec int64) {
	if sec <= s.lastSec {
		return
	}
	gap := sec - s.lastSec
	if gap > cpsWindow {
		gap = cpsWindow
	}
	for i := int64(1); i <= gap; i++ {
		s.buckets[(s.lastSec+i)%cpsWindow] = 0
	}
	s.lastSec = sec
}

// cps is the average of calls set up per second over the last minute (or
// since start, when the daemon is younger than that).
func (s *callStats) cps(now time.Time) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(now.Unix())
	var n int64
	for _, b := range s.buckets {
		n += b
	}
	span := now.Sub(s.started).Seconds()
	if span > cpsWindow || span <= 0 {
		span = cpsWindow
	}
	if span < 1 {
		span = 1
	}
	return float64(n) / span
}

func (s *callStats) counts() (total, rejected int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total, s.rejects
}
