package recorder

import (
	"slices"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// latencyWindow is how many recent durations a latencies keeps.
const latencyWindow = 8192

// latencies keeps the most recent durations of something (hang-up to
// searchable) and sums them up on demand. Safe for concurrent use.
type latencies struct {
	mu   sync.Mutex
	ring []time.Duration
	next int
}

// add records one duration, forgetting the oldest beyond the window.
func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < latencyWindow {
		l.ring = append(l.ring, d)
		return
	}
	l.ring[l.next] = d
	l.next = (l.next + 1) % latencyWindow
}

// summary is the window's count, median, 99th percentile and maximum;
// nil before the first.
func (l *latencies) summary() *control.Latency {
	l.mu.Lock()
	ds := slices.Clone(l.ring)
	l.mu.Unlock()
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return &control.Latency{Count: len(ds), P50MS: ms(nearestRank(ds, 50)), P99MS: ms(nearestRank(ds, 99)), MaxMS: ms(ds[len(ds)-1])}
}

// nearestRank is the p-th percentile of sorted ds by the nearest-rank
// method.
func nearestRank(ds []time.Duration, p int) time.Duration {
	i := (p*len(ds)+99)/100 - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// sealedAfter records how long a call took from its hang-up until its
// recording was indexed.
func (t *totals) sealedAfter(d time.Duration) { t.seal.add(d) }

// sealLatency sums up the recent calls' hang-up to searchable.
func (t *totals) sealLatency() *control.Latency { return t.seal.summary() }
