package siprec

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Admission bounds who may open recording sessions and how fast.
type Admission struct {
	// Allow lists the networks whose requests are served; any other source
	// gets 403 before its body is read. Empty: every source.
	Allow []netip.Prefix
	// MaxSessions caps the live sessions in all (503 with Retry-After
	// above it); 0: no cap.
	MaxSessions int
	// SourceRate is the new sessions one source address may open per
	// second, with bursts of SourceBurst (503 with Retry-After above it);
	// 0: no limit.
	SourceRate  float64
	SourceBurst int
	// MaxCPS is the new sessions the whole server may open per second,
	// from all sources together, with bursts of one second's worth (at
	// least 1): above it a new INVITE gets 503 with Retry-After, after
	// the source's own rate was checked; 0: no limit.
	MaxCPS float64
}

// gate decides, per source address, whether a request may be served and
// whether a new session may start now: within the source's rate and the
// server's. It is pure bookkeeping: the clock is passed in, so tests need
// none.
type gate struct {
	allow    atomic.Pointer[[]netip.Prefix]
	rate     float64 // per source
	burst    float64
	cps      float64 // the server's
	cpsBurst float64

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
	server  bucket
	// seen remembers the decision on each new INVITE by Via branch for a
	// while, so that a UDP retransmission gets the same answer and does
	// not spend a token.
	seen  map[string]verdict
	swept time.Time // last sweep: at most one a second

	// overRate and overCPS count the new sessions refused for the
	// source's rate and for the server's (not their retransmissions).
	overRate, overCPS atomic.Int64
}

type bucket struct {
	tokens float64
	at     time.Time
}

// limit is the bound a new session was refused for, or withinLimits.
type limit uint8

const (
	withinLimits limit = iota
	overSourceRate
	overServerRate
)

type verdict struct {
	over limit
	at   time.Time
}

const (
	// gateMemory is how long a branch's verdict is kept: an INVITE's
	// retransmissions end after 64*T1 = 32 s.
	gateMemory = 32 * time.Second
	// gateSweep is the table size above which stale entries are swept;
	// gateMax the size no flood of forged addresses can grow it past (a
	// source not tracked then gets a full bucket: the global cap on live
	// sessions still holds).
	gateSweep = 4096
	gateMax   = 65536
)

func newGate(a Admission) *gate {
	g := &gate{
		rate:     a.SourceRate,
		burst:    float64(max(a.SourceBurst, 1)),
		cps:      a.MaxCPS,
		cpsBurst: max(a.MaxCPS, 1),
		buckets:  make(map[netip.Addr]*bucket),
		seen:     make(map[string]verdict),
	}
	g.server.tokens = g.cpsBurst
	g.setAllow(a.Allow)
	return g
}

// setAllow replaces the allow-list; safe while requests are served.
func (g *gate) setAllow(prefixes []netip.Prefix) {
	p := make([]netip.Prefix, len(prefixes))
	for i, pr := range prefixes {
		p[i] = pr.Masked()
	}
	g.allow.Store(&p)
}

// allowed reports whether requests from a may be served.
func (g *gate) allowed(a netip.Addr) bool {
	list := *g.allow.Load()
	if len(list) == 0 {
		return true
	}
	a = a.Unmap()
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// open takes a token for a new session from a at now, from a's bucket and
// from the server's. branch, when not empty, identifies the INVITE so that
// its retransmissions get the same verdict without spending another token.
// It returns the zero Refusal to admit, or the refusal (RefuseRate for the
// source's rate, checked first, RefuseCPS for the server's) with how long
// to wait. A refused session spends no token.
func (g *gate) open(a netip.Addr, branch string, now time.Time) (Refusal, time.Duration) {
	if g.rate <= 0 && g.cps <= 0 {
		return Refusal{}, 0
	}
	a = a.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	key := ""
	if branch != "" {
		key = a.String() + "|" + branch
		if v, ok := g.seen[key]; ok && now.Sub(v.at) < gateMemory {
			return g.answer(v.over, a, now)
		}
	}
	if len(g.buckets)+len(g.seen) >= gateSweep || now.Sub(g.swept) >= gateMemory {
		g.sweep(now)
	}
	over := g.take(a, now)
	if key != "" {
		if len(g.seen) < gateMax {
			g.seen[key] = verdict{over: over, at: now}
		}
	}
	switch over {
	case overSourceRate:
		g.overRate.Add(1)
	case overServerRate:
		g.overCPS.Add(1)
	}
	return g.answer(over, a, now)
}

// take spends a token of a's bucket and one of the server's, or none if
// either has none, and says which had none; with g.mu held.
func (g *gate) take(a netip.Addr, now time.Time) limit {
	var b *bucket
	if g.rate > 0 {
		b = g.buckets[a]
		if b == nil {
			b = &bucket{tokens: g.burst, at: now}
			if len(g.buckets) < gateMax {
				g.buckets[a] = b
			}
		}
		b.refill(now, g.rate, g.burst)
		if b.tokens < 1 {
			return overSourceRate
		}
	}
	if g.cps > 0 {
		g.server.refill(now, g.cps, g.cpsBurst)
		if g.server.tokens < 1 {
			return overServerRate
		}
		g.server.tokens--
	}
	if b != nil {
		b.tokens--
	}
	return withinLimits
}

// answer is the refusal for over, with how long until the bucket that
// refused has a token again (at least a second, as Retry-After counts
// whole seconds); with g.mu held.
func (g *gate) answer(over limit, a netip.Addr, now time.Time) (Refusal, time.Duration) {
	switch over {
	case overSourceRate:
		b := g.buckets[a]
		if b != nil {
			b.refill(now, g.rate, g.burst)
		}
		return RefuseRate, b.wait(g.rate)
	case overServerRate:
		g.server.refill(now, g.cps, g.cpsBurst)
		return RefuseCPS.With(g.cps), g.server.wait(g.cps)
	}
	return Refusal{}, 0
}

// wait is how long until b, filling at rate, has a token again: at least
// a second; 0 if it has one (or b is nil: a source not tracked).
func (b *bucket) wait(rate float64) time.Duration {
	if b == nil || b.tokens >= 1 {
		return 0
	}
	d := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return max(d, time.Second)
}

// refill adds the tokens earned since b was last filled, up to burst. A
// clock gone back earns nothing.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(burst, b.tokens+el.Seconds()*rate)
		b.at = now
	}
}

// sweep forgets full buckets and old verdicts, so that a flood from many
// addresses leaves nothing behind once it stops; with g.mu held. It runs
// at most once a second.
func (g *gate) sweep(now time.Time) {
	if now.Sub(g.swept) < time.Second {
		return
	}
	g.swept = now
	for a, b := range g.buckets {
		b.refill(now, g.rate, g.burst)
		if b.tokens >= g.burst {
			delete(g.buckets, a)
		}
	}
	for k, v := range g.seen {
		if now.Sub(v.at) >= gateMemory {
			delete(g.seen, k)
		}
	}
}

// entries is the number of sources and verdicts tracked (for tests).
func (g *gate) entries() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.buckets) + len(g.seen)
}
