package recorder

import (
	"testing"
	"time"
)

func TestCallStatsCPS(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	s := &callStats{started: t0.Add(-time.Hour)}
	for i := range 120 {
		s.admitted(t0.Add(time.Duration(i) * 500 * time.Millisecond)) // 2 per second for 60 s
	}
	now := t0.Add(60 * time.Second)
	if got := s.cps(now); got < 1.9 || got > 2.0 {
		t.Fatalf("cps after 60 s at 2/s = %.2f, want about 2", got)
	}
	if got := s.cps(now.Add(2 * time.Minute)); got != 0 {
		t.Fatalf("cps two idle minutes later = %.2f, want 0", got)
	}
	s.rejected()
	if total, rej := s.counts(); total != 120 || rej != 1 {
		t.Fatalf("counts = %d, %d; want 120, 1", total, rej)
	}
}

func TestCallStatsYoungDaemon(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	s := &callStats{started: t0}
	for range 10 {
		s.admitted(t0.Add(time.Second))
	}
	if got := s.cps(t0.Add(5 * time.Second)); got != 2 {
		t.Fatalf("cps 5 s after start with 10 calls = %.2f, want 2", got)
	}
}
