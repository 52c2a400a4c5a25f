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
}

// gate decides, per source address, whether a request may be served and
// whether a new session may start now. It is pure bookkeeping: the clock
// is passed in, so tests need none.
type gate struct {
	allow atomic.Pointer[[]netip.Prefix]
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
	// seen remembers the decision on each new INVITE by Via branch for a
	// while, so that a UDP retransmission gets the same answer and does
	// not spend a token.
	seen  map[string]verdict
	swept time.Time // last sweep: at most one a second
}

type bucket struct {
	tokens float64
	at     time.Time
}

type verdict struct {
	ok bool
	at time.Time
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
		rate:    a.SourceRate,
		burst:   float64(max(a.SourceBurst, 1)),
		buckets: make(map[netip.Addr]*bucket),
		seen:    make(map[string]verdict),
	}
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

// open takes a token for a new session from a at now. branch, when not
// empty, identifies the INVITE so that its retransmissions get the same
// verdict without spending another token. It returns false with how long
// to wait when the source is over its rate.
func (g *gate) open(a netip.Addr, branch string, now time.Time) (bool, time.Duration) {
	if g.rate <= 0 {
		return true, 0
	}
	a = a.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	key := ""
	if branch != "" {
		key = a.String() + "|" + branch
		if v, ok := g.seen[key]; ok && now.Sub(v.at) < gateMemory {
			return v.ok, g.wait(a, now)
		}
	}
	if len(g.buckets)+len(g.seen) >= gateSweep || now.Sub(g.swept) >= gateMemory {
		g.sweep(now)
	}
	b := g.buckets[a]
	if b == nil {
		b = &bucket{tokens: g.burst, at: now}
		if len(g.buckets) < gateMax {
			g.buckets[a] = b
		}
	}
	g.refill(b, now)
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	if key != "" {
		if len(g.seen) < gateMax {
			g.seen[key] = verdict{ok: ok, at: now}
		}
	}
	if ok {
		return true, 0
	}
	return false, g.wait(a, now)
}

// wait is how long until a has a token again (at least a second, as
// Retry-After counts whole seconds).
func (g *gate) wait(a netip.Addr, now time.Time) time.Duration {
	b := g.buckets[a]
	if b == nil || b.tokens >= 1 {
		return 0
	}
	d := time.Duration((1 - b.tokens) / g.rate * float64(time.Second))
	return max(d, time.Second)
}

func (g *gate) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(g.burst, b.tokens+el.Seconds()*g.rate)
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
		g.refill(b, now)
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
