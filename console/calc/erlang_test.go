package calc

import (
	"math"
	"testing"
)

func TestErlangBExact(t *testing.T) {
	tests := []struct {
		e    float64
		n    int
		want float64
	}{
		{1, 0, 1},
		{1, 1, 0.5},
		{1, 2, 0.2},     // 0.5 / (2 + 0.5)
		{2, 1, 2.0 / 3}, // E / (1 + E)
		{2, 2, 0.4},     // (4/3) / (2 + 4/3)
		{0, 0, 1},       // no channels: everything blocked
		{0, 5, 0},       // no traffic: nothing blocked
		{-3, 5, 0},      // negative traffic counts as 0
		{math.NaN(), 5, 0},
		{5, -1, 1}, // negative channels: none
	}
	for _, tt := range tests {
		if got := ErlangB(tt.e, tt.n); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("ErlangB(%g, %d) = %v, want %v", tt.e, tt.n, got, tt.want)
		}
	}
}

// erlangTable holds rows of the standard Erlang B table: the traffic, to
// the table's precision, that n channels carry at the given blocking.
var erlangTable = []struct {
	gos float64
	n   int
	e   float64
}{
	{0.01, 1, 0.0101},
	{0.01, 2, 0.153},
	{0.01, 5, 1.36},
	{0.01, 10, 4.46},
	{0.01, 18, 10.44},
	{0.01, 20, 12.03},
	{0.01, 50, 37.90},
	{0.01, 100, 84.06},
	{0.02, 10, 5.08},
	{0.05, 10, 6.22},
	{0.05, 20, 15.25},
	{0.001, 10, 3.09},
}

// TestErlangBTable checks the formula against the published table: at the
// table's traffic the blocking is the table's grade of service, to the
// table's three or four significant figures.
func TestErlangBTable(t *testing.T) {
	for _, r := range erlangTable {
		got := ErlangB(r.e, r.n)
		if math.Abs(got-r.gos)/r.gos > 0.01 {
			t.Errorf("ErlangB(%g, %d) = %.5f, want %g within 1%%", r.e, r.n, got, r.gos)
		}
	}
}

func TestChannels(t *testing.T) {
	tests := []struct {
		e, gos float64
		want   int
	}{
		{10, 0.01, 18},
		{2, 0.01, 7},
		{1, 0.01, 5},
		{1, 0.5, 1}, // B(1,1) = 0.5 meets 0.5 exactly
		{4.4, 0.01, 10},
		{12, 0.01, 20},
		{37.5, 0.01, 50},
		{84, 0.01, 100},
		{6.2, 0.05, 10},
		{0, 0.01, 0},          // no traffic needs no channels
		{-1, 0.01, 0},         // nor does negative traffic
		{math.NaN(), 0.01, 0}, // nor NaN
		{5, 1, 0},             // any blocking is fine
	}
	for _, tt := range tests {
		if got := Channels(tt.e, tt.gos); got != tt.want {
			t.Errorf("Channels(%g, %g) = %d, want %d", tt.e, tt.gos, got, tt.want)
		}
	}
}

// TestChannelsIsLeast checks the definition over a range of traffic: N
// meets the grade of service and N-1 does not.
func TestChannelsIsLeast(t *testing.T) {
	for _, gos := range []float64{0.001, 0.01, 0.05, 0.2} {
		for e := 0.05; e < 500; e *= 1.37 {
			n := Channels(e, gos)
			if ErlangB(e, n) > gos {
				t.Errorf("Channels(%g, %g) = %d, but B = %g is over the grade", e, gos, n, ErlangB(e, n))
			}
			if n > 0 && ErlangB(e, n-1) <= gos {
				t.Errorf("Channels(%g, %g) = %d, but %d channels already meet it", e, gos, n, n-1)
			}
		}
	}
}

func TestChannelsClamps(t *testing.T) {
	// A zero or negative grade of service is raised to MinGoS, not looped on.
	for _, gos := range []float64{0, -0.01, math.NaN()} {
		if got, want := Channels(10, gos), Channels(10, MinGoS); got != want {
			t.Errorf("Channels(10, %g) = %d, want %d (MinGoS)", gos, got, want)
		}
	}
	if got := Channels(5e6, 0.01); got != MaxChannels {
		t.Errorf("Channels(5e6, 0.01) = %d, want MaxChannels", got)
	}
	// Large traffic stays finite and sensible (no overflow in the recurrence).
	if n := Channels(10000, 0.01); n < 9900 || n > 10100 {
		t.Errorf("Channels(10000, 0.01) = %d, want about 10000", n)
	}
}

func TestErlangsAndCPS(t *testing.T) {
	if got := Erlangs(360, 100); got != 10 {
		t.Errorf("Erlangs(360, 100) = %v, want 10", got)
	}
	if got := Erlangs(1200, 180); got != 60 {
		t.Errorf("Erlangs(1200, 180) = %v, want 60", got)
	}
	if got := Erlangs(-5, 100); got != 0 {
		t.Errorf("Erlangs(-5, 100) = %v, want 0", got)
	}
	if got := Erlangs(100, math.NaN()); got != 0 {
		t.Errorf("Erlangs(100, NaN) = %v, want 0", got)
	}
	if got := CPS(10800); got != 3 {
		t.Errorf("CPS(10800) = %v, want 3", got)
	}
	if got := CPS(-1); got != 0 {
		t.Errorf("CPS(-1) = %v, want 0", got)
	}
}
