package siprec

import (
	"net/netip"
	"testing"
	"time"
)

func TestGateAllow(t *testing.T) {
	g := newGate(Admission{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.7/24"), netip.MustParsePrefix("2001:db8::/32")}})
	for addr, want := range map[string]bool{
		"192.0.2.1": true, "192.0.2.255": true, "192.0.3.1": false, "::ffff:192.0.2.9": true,
		"2001:db8::1": true, "2001:db9::1": false, "127.0.0.1": false,
	} {
		if got := g.allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("allowed(%s) = %t, want %t", addr, got, want)
		}
	}
	open := newGate(Admission{})
	if !open.allowed(netip.MustParseAddr("203.0.113.9")) {
		t.Error("an empty allow-list refused a source")
	}
	g.setAllow(nil)
	if !g.allowed(netip.MustParseAddr("192.0.3.1")) {
		t.Error("allow-list not replaced")
	}
}

func TestGateRate(t *testing.T) {
	g := newGate(Admission{SourceRate: 2, SourceBurst: 3})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if ok := admits(g, a, "", t0); !ok {
			t.Fatalf("session %d of a burst of 3 refused", i+1)
		}
	}
	r, wait := g.open(a, "", t0)
	if r != RefuseRate || wait < time.Second {
		t.Fatalf("4th session in the same instant: %v, wait %v; want RefuseRate, wait >= 1s", r, wait)
	}
	if ok := admits(g, b, "", t0); !ok {
		t.Error("another source was refused: buckets are per source")
	}
	if ok := admits(g, a, "", t0.Add(500*time.Millisecond)); !ok {
		t.Error("a token refilled after 0.5 s at 2/s was not given")
	}
	if ok := admits(g, a, "", t0.Add(500*time.Millisecond)); ok {
		t.Error("a second token in 0.5 s at 2/s was given")
	}
}

func TestGateRetransmissionKeepsItsVerdict(t *testing.T) {
	g := newGate(Admission{SourceRate: 1, SourceBurst: 1})
	a := netip.MustParseAddr("192.0.2.1")
	t0 := time.Unix(1000, 0)
	if ok := admits(g, a, "z9hG4bK-1", t0); !ok {
		t.Fatal("first INVITE refused")
	}
	// Its retransmissions pass without spending a token; a new INVITE in
	// the same second is refused, and so are its retransmissions, even
	// once a token is back.
	for i := range 3 {
		if ok := admits(g, a, "z9hG4bK-1", t0.Add(time.Duration(i)*500*time.Millisecond)); !ok {
			t.Fatalf("retransmission %d refused", i+1)
		}
	}
	if ok := admits(g, a, "z9hG4bK-2", t0.Add(100*time.Millisecond)); ok {
		t.Fatal("second INVITE within the second admitted")
	}
	if ok := admits(g, a, "z9hG4bK-2", t0.Add(2*time.Second)); ok {
		t.Error("retransmission of a refused INVITE admitted")
	}
	if ok := admits(g, a, "z9hG4bK-3", t0.Add(2*time.Second)); !ok {
		t.Error("new INVITE after the refill refused")
	}
}

func TestGateForgetsAFlood(t *testing.T) {
	g := newGate(Admission{SourceRate: 10, SourceBurst: 10})
	t0 := time.Unix(1000, 0)
	for i := range 3 * gateSweep {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		g.open(a, "b"+itoa(i), t0.Add(time.Duration(i)*10*time.Millisecond))
	}
	if n := g.entries(); n > 2*gateSweep+200 {
		t.Errorf("%d entries while flooded, want a sweep to keep them near %d", n, 2*gateSweep)
	}
	later := t0.Add(time.Hour)
	g.open(netip.MustParseAddr("192.0.2.1"), "last", later)
	if n := g.entries(); n > 2 {
		t.Errorf("%d entries an hour after the flood, want the last source only", n)
	}
}

// TestGateServerRate: max_cps bounds the new sessions of all sources
// together, with a burst of one second's worth, after each source's own
// rate; a session refused by either spends no token of the other.
func TestGateServerRate(t *testing.T) {
	src := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }
	t0 := time.Unix(1000, 0)

	g := newGate(Admission{MaxCPS: 5})
	for i := range 5 {
		if !admits(g, src(i), "", t0) {
			t.Fatalf("session %d of the first second's 5 refused", i+1)
		}
	}
	r, wait := g.open(src(9), "", t0)
	if r.Code != 503 || r.Text != "recorder over its call rate (5 calls/s)" || retryAfterValue(wait) != "1" {
		t.Fatalf("6th session: %v, wait %v; want 503 for max_cps, Retry-After 1", r, wait)
	}
	if !admits(g, src(9), "", t0.Add(200*time.Millisecond)) {
		t.Error("a token refilled after 0.2 s at 5/s was not given")
	}
	if admits(g, src(10), "", t0.Add(200*time.Millisecond)) {
		t.Error("a second token in 0.2 s at 5/s was given")
	}
	if admits(g, src(10), "", t0.Add(-time.Hour)) {
		t.Error("a clock gone back gave a token")
	}
	for i := range 5 { // a burst is one second's worth, however long the quiet
		if !admits(g, src(i), "", t0.Add(time.Hour)) {
			t.Fatalf("session %d of a burst after an hour refused", i+1)
		}
	}
	if admits(g, src(5), "", t0.Add(time.Hour)) {
		t.Error("a burst after an hour was larger than a second's worth")
	}

	// Below 1/s the burst is one session, and Retry-After the wait for it.
	slow := newGate(Admission{MaxCPS: 0.5})
	if !admits(slow, src(1), "", t0) || admits(slow, src(2), "", t0) {
		t.Fatal("max_cps 0.5: want the first session admitted and the second refused")
	}
	if r, wait := slow.open(src(2), "", t0); retryAfterValue(wait) != "2" || r.Text != "recorder over its call rate (0.5 calls/s)" {
		t.Errorf("max_cps 0.5: %v, Retry-After %s; want 2", r, retryAfterValue(wait))
	}

	// The source's rate is checked first; a session it refuses spends
	// none of the server's tokens, nor one the server refuses a source's.
	both := newGate(Admission{SourceRate: 0.001, SourceBurst: 1, MaxCPS: 2})
	if !admits(both, src(1), "", t0) {
		t.Fatal("first session refused")
	}
	if r, _ := both.open(src(1), "", t0); r != RefuseRate {
		t.Fatalf("second session of a source at 0.001/s: %v, want RefuseRate", r)
	}
	if !admits(both, src(2), "", t0) {
		t.Fatal("another source's session refused: the refused one spent a server token")
	}
	if r, _ := both.open(src(3), "", t0); r.Code != 503 || r == RefuseRate {
		t.Fatalf("third source over max_cps: %v, want the max_cps refusal", r)
	}
	if !admits(both, src(3), "", t0.Add(time.Second)) {
		t.Error("a source refused for max_cps lost its own token")
	}
	if got, want := [2]int64{both.overRate.Load(), both.overCPS.Load()}, [2]int64{1, 1}; got != want {
		t.Errorf("refusals counted %v, want %v", got, want)
	}
}

// TestGateServerRateRetransmission: a retransmission of an INVITE refused
// for max_cps is refused again, even once tokens are back, spends none
// and is not counted again; one of an admitted INVITE is admitted.
func TestGateServerRateRetransmission(t *testing.T) {
	g := newGate(Admission{MaxCPS: 1})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	t0 := time.Unix(1000, 0)
	if !admits(g, a, "z9hG4bK-1", t0) {
		t.Fatal("first INVITE refused")
	}
	if admits(g, b, "z9hG4bK-2", t0.Add(100*time.Millisecond)) {
		t.Fatal("second INVITE within the second admitted")
	}
	later := t0.Add(2 * time.Second)
	for range 3 {
		r, wait := g.open(b, "z9hG4bK-2", later)
		if r.Text != RefuseCPS.With(1.0).Text || retryAfterValue(wait) != "1" {
			t.Fatalf("retransmission of the refused INVITE: %v, wait %v; want the max_cps refusal again", r, wait)
		}
		if !admits(g, a, "z9hG4bK-1", later) {
			t.Fatal("retransmission of the admitted INVITE refused")
		}
	}
	if !admits(g, b, "z9hG4bK-3", later) {
		t.Error("new INVITE after the refill refused: a retransmission spent the token")
	}
	if n := g.overCPS.Load(); n != 1 {
		t.Errorf("%d refusals counted, want 1", n)
	}
}

// TestGateNoLimits: with neither rate set every session is admitted and
// nothing is kept.
func TestGateNoLimits(t *testing.T) {
	g := newGate(Admission{})
	t0 := time.Unix(1000, 0)
	for i := range 1000 {
		if !admits(g, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), "b"+itoa(i), t0) {
			t.Fatalf("session %d refused with no limits", i+1)
		}
	}
	if n := g.entries(); n != 0 {
		t.Errorf("%d entries kept with no limits", n)
	}
}

// admits reports whether g lets a new session from a open.
func admits(g *gate, a netip.Addr, branch string, now time.Time) bool {
	r, _ := g.open(a, branch, now)
	return r.Code == 0
}

func TestQuietLog(t *testing.T) {
	q := newQuietLog(10 * time.Second)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	t0 := time.Unix(1000, 0)
	if _, ok := q.allow(a, t0); !ok {
		t.Fatal("first line refused")
	}
	for i := range 5 {
		if _, ok := q.allow(a, t0.Add(time.Duration(i)*time.Second)); ok {
			t.Fatalf("line %d within the interval allowed", i+2)
		}
	}
	if _, ok := q.allow(b, t0); !ok {
		t.Error("another source's first line refused")
	}
	if skipped, ok := q.allow(a, t0.Add(10*time.Second)); !ok || skipped != 5 {
		t.Errorf("after the interval: ok %t, %d held back; want true, 5", ok, skipped)
	}
}
