package phone

import (
	"net/netip"
	"testing"
	"time"
)

func TestRation(t *testing.T) {
	r := newRation(10*time.Second, 3)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	steps := []struct {
		src  netip.Addr
		at   time.Duration
		ok   bool
		held int
	}{
		{a, 0, true, 0},
		{a, time.Second, false, 0},
		{b, time.Second, true, 0}, // sources are rationed apart
		{a, 9 * time.Second, false, 0},
		{a, 11 * time.Second, true, 2}, // the period is over: two were held
		{a, 12 * time.Second, false, 0},
		{a, 21 * time.Second, true, 1},
		{b, 30 * time.Second, true, 0},
	}
	for i, s := range steps {
		ok, held := r.take(s.src, t0.Add(s.at))
		if ok != s.ok || held != s.held {
			t.Errorf("step %d (%s at %v): take = %t, %d; want %t, %d", i, s.src, s.at, ok, held, s.ok, s.held)
		}
	}
}

func TestRationBound(t *testing.T) {
	r := newRation(10*time.Second, 2)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	addr := func(i byte) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, i}) }
	r.take(addr(1), t0)
	r.take(addr(2), t0.Add(5*time.Second))
	if ok, _ := r.take(addr(3), t0.Add(6*time.Second)); ok {
		t.Error("a third source got through a full ration of live sources")
	}
	// Once the first source's period is over it is forgotten for a new one.
	if ok, _ := r.take(addr(3), t0.Add(11*time.Second)); !ok {
		t.Error("a new source is held back after the oldest one expired")
	}
	if len(r.seen) > 2 {
		t.Errorf("ration remembers %d sources, want at most 2", len(r.seen))
	}
}
