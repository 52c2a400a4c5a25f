package pace

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTick is how often a pacing goroutine wakes: a leg's packet goes
// out at most this long after it is due, and legs that started at
// different times go out at different wakes, not in one burst.
const DefaultTick = 2 * time.Millisecond

// DefaultMaxBurst is the most packets one leg sends at a wake when the
// pacer fell behind: 200 ms, the recorder's default reorder window.
const DefaultMaxBurst = 10

// Pacer sends the packets of every added leg from one goroutine per
// shard.
type Pacer struct {
	tick     time.Duration
	maxBurst int64
	epoch    time.Time
	shards   []*shard
	next     atomic.Uint32
	mu       sync.Mutex
	ended    Stats // of the legs removed
}

type shard struct {
	mu   sync.Mutex
	legs []*Leg
}

// New returns a pacer of shards goroutines (at least one), waking every
// tick (DefaultTick when 0).
func New(shards int, tick time.Duration) *Pacer {
	if tick <= 0 {
		tick = DefaultTick
	}
	p := &Pacer{tick: tick, maxBurst: DefaultMaxBurst, epoch: time.Now()}
	for range max(shards, 1) {
		p.shards = append(p.shards, &shard{})
	}
	return p
}

// since is the pacer's monotonic clock.
func (p *Pacer) since() time.Duration { return time.Since(p.epoch) }

// Add starts l: its first packet is due now.
func (p *Pacer) Add(l *Leg) {
	s := p.shards[int(p.next.Add(1))%len(p.shards)]
	s.mu.Lock()
	l.start = p.since()
	l.shard, l.idx = s, len(s.legs)
	s.legs = append(s.legs, l)
	s.mu.Unlock()
}

// Remove stops l and returns its counts; a leg not added returns zeros.
func (p *Pacer) Remove(l *Leg) Stats {
	s := l.shard
	if s == nil {
		return Stats{}
	}
	s.mu.Lock()
	last := len(s.legs) - 1
	s.legs[l.idx] = s.legs[last]
	s.legs[l.idx].idx = l.idx
	s.legs[last] = nil
	s.legs = s.legs[:last]
	l.shard, l.idx = nil, -1
	st := l.stats
	s.mu.Unlock()
	p.mu.Lock()
	p.ended.Add(st)
	p.mu.Unlock()
	return st
}

// Totals returns the counts of every leg, removed or still running.
func (p *Pacer) Totals() Stats {
	p.mu.Lock()
	t := p.ended
	p.mu.Unlock()
	for _, s := range p.shards {
		s.mu.Lock()
		for _, l := range s.legs {
			t.Add(l.stats)
		}
		s.mu.Unlock()
	}
	return t
}

// Run paces until ctx ends.
func (p *Pacer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range p.shards {
		wg.Go(func() { p.loop(ctx, s) })
	}
	wg.Wait()
}

// loop wakes s every tick and sends what its legs owe.
func (p *Pacer) loop(ctx context.Context, s *shard) {
	timer := time.NewTimer(p.tick)
	defer timer.Stop()
	next := p.since()
	for {
		next += p.tick
		if wait := next - p.since(); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		} else if -wait > 10*p.tick {
			next = p.since() // far behind: do not spin to catch up wakes
		}
		s.pass(p.since(), p.maxBurst)
	}
}

// pass sends what each leg of s owes at now.
func (s *shard) pass(now time.Duration, maxBurst int64) {
	s.mu.Lock()
	for _, l := range s.legs {
		l.step(now, Period, maxBurst)
	}
	s.mu.Unlock()
}
