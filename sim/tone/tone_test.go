package tone

import (
	"math"
	"testing"
)

func TestForCallTonesAreDistinctAndPeriodic(t *testing.T) {
	for i := range 16 {
		f1, f2 := ForCall(i)
		if f1 == f2 || 2*f1 == f2 || 3*f1 == f2 {
			t.Errorf("call %d: tones %v and %v collide", i, f1, f2)
		}
		for _, f := range []float64{f1, f2} {
			if math.Mod(f, 50) != 0 {
				t.Errorf("call %d: %v Hz does not repeat every 20 ms", i, f)
			}
		}
	}
	if a, _ := ForCall(0); a == func() float64 { b, _ := ForCall(1); return b }() {
		t.Error("calls 0 and 1 share leg 1's tone")
	}
}

func TestSineRepeatsEveryPacket(t *testing.T) {
	f1, f2 := ForCall(3)
	for _, f := range []float64{f1, f2} {
		s := Sine(f, 2*PacketSamples, Amplitude)
		for i := range PacketSamples {
			if d := int(s[i]) - int(s[i+PacketSamples]); d < -1 || d > 1 {
				t.Fatalf("%v Hz: sample %d is %d, a packet later %d", f, i, s[i], s[i+PacketSamples])
			}
		}
	}
}

func TestShareOfPureAndMixedTones(t *testing.T) {
	a := Sine(500, Window, Amplitude)
	if s := Share(a, 500); s < 0.95 || s > 1.05 {
		t.Errorf("pure 500 Hz: share %.3f, want about 1", s)
	}
	if s := Share(a, 1200); s > 0.01 {
		t.Errorf("pure 500 Hz: share at 1200 Hz %.3f, want about 0", s)
	}
	b := Sine(1200, Window, Amplitude)
	mix := make([]int16, Window)
	for i := range mix {
		mix[i] = int16((int(a[i]) + int(b[i])) / 2)
	}
	for _, f := range []float64{500, 1200} {
		if s := Share(mix, f); s < 0.4 || s > 0.6 {
			t.Errorf("mix: share at %v Hz %.3f, want about 1/2", f, s)
		}
	}
	if s := Share(make([]int16, Window), 500); s != 0 {
		t.Errorf("silence: share %.3f, want 0", s)
	}
}

func TestPresenceCountsWindows(t *testing.T) {
	// One second: the tone for 0.7 s, then silence.
	s := make([]int16, Rate)
	copy(s, Sine(600, 7*Window, Amplitude))
	if p := Presence(s, 600); math.Abs(p-0.7) > 0.01 {
		t.Errorf("presence %.3f, want 0.7", p)
	}
	if p := Presence(s, 900); p != 0 {
		t.Errorf("presence of an absent tone %.3f, want 0", p)
	}
	if p := Presence(s[:Window-1], 600); p != 0 {
		t.Errorf("presence in less than a window %.3f, want 0", p)
	}
}
