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
		if ok, _ := g.open(a, "", t0); !ok {
			t.Fatalf("session %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := g.open(a, "", t0)
	if ok || wait < time.Second {
		t.Fatalf("4th session in the same instant: ok %t, wait %v; want refused, wait >= 1s", ok, wait)
	}
	if ok, _ := g.open(b, "", t0); !ok {
		t.Error("another source was refused: buckets are per source")
	}
	if ok, _ := g.open(a, "", t0.Add(500*time.Millisecond)); !ok {
		t.Error("a token refilled after 0.5 s at 2/s was not given")
	}
	if ok, _ := g.open(a, "", t0.Add(500*time.Millisecond)); ok {
		t.Error("a second token in 0.5 s at 2/s was given")
	}
}

func TestGateRetransmissionKeepsItsVerdict(t *testing.T) {
	g := newGate(Admission{SourceRate: 1, SourceBurst: 1})
	a := netip.MustParseAddr("192.0.2.1")
	t0 := time.Unix(1000, 0)
	if ok, _ := g.open(a, "z9hG4bK-1", t0); !ok {
		t.Fatal("first INVITE refused")
	}
	// Its retransmissions pass without spending a token; a new INVITE in
	// the same second is refused, and so are its retransmissions, even
	// once a token is back.
	for i := range 3 {
		if ok, _ := g.open(a, "z9hG4bK-1", t0.Add(time.Duration(i)*500*time.Millisecond)); !ok {
			t.Fatalf("retransmission %d refused", i+1)
		}
	}
	if ok, _ := g.open(a, "z9hG4bK-2", t0.Add(100*time.Millisecond)); ok {
		t.Fatal("second INVITE within the second admitted")
	}
	if ok, _ := g.open(a, "z9hG4bK-2", t0.Add(2*time.Second)); ok {
		t.Error("retransmission of a refused INVITE admitted")
	}
	if ok, _ := g.open(a, "z9hG4bK-3", t0.Add(2*time.Second)); !ok {
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
