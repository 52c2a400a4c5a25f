package recorder

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/callvault/callvault/siprec"
)

// statsStart is a daemon start on a whole second.
var statsStart = time.Unix(1_800_000_000, 0)

// at is statsStart plus a number of seconds.
func at(sec float64) time.Time { return statsStart.Add(time.Duration(sec * float64(time.Second))) }

// spread admits perSec calls in each second from first for secs seconds,
// evenly within each second.
func spread(s *callStats, first float64, secs, perSec int) {
	for i := range secs {
		for j := range perSec {
			s.admitted(at(first + float64(i) + float64(j)/float64(perSec)))
		}
	}
}

func TestCallStatsSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		started time.Time
		feed    func(s *callStats)
		now     time.Time
		want    CPS
	}{{
		name:    "5/s for the first 5 s",
		started: statsStart,
		feed:    func(s *callStats) { spread(s, 0, 5, 5) },
		now:     at(5.5),
		want:    CPS{Last1s: 5, Last5s: 5, Avg1m: 5, Avg15m: 5, Peak: 5, PeakAt: at(0).UTC()},
	}, {
		// The daemon starts mid-second: that second is not a whole one of
		// uptime, so the averages start with the next.
		name:    "5/s for 5 s from the first whole second, read 6 s after start",
		started: at(0.5),
		feed:    func(s *callStats) { spread(s, 1, 5, 5) },
		now:     at(6.5),
		want:    CPS{Last1s: 5, Last5s: 5, Avg1m: 5, Avg15m: 5, Peak: 5, PeakAt: at(1).UTC()},
	}, {
		name:    "the second now is in does not count yet",
		started: statsStart,
		feed:    func(s *callStats) { spread(s, 0, 5, 5); spread(s, 5, 1, 9) },
		now:     at(5.99),
		want:    CPS{Last1s: 5, Last5s: 5, Avg1m: 5, Avg15m: 5, Peak: 9, PeakAt: at(5).UTC()},
	}, {
		name:    "a burst, then 10 s of silence",
		started: statsStart,
		feed:    func(s *callStats) { spread(s, 10, 1, 50) },
		now:     at(21),
		want:    CPS{Last1s: 0, Last5s: 0, Avg1m: 50.0 / 21, Avg15m: 50.0 / 21, Peak: 50, PeakAt: at(10).UTC()},
	}, {
		name:    "a burst 3 s ago",
		started: statsStart,
		feed:    func(s *callStats) { spread(s, 100, 1, 50) },
		now:     at(103),
		want:    CPS{Last1s: 0, Last5s: 10, Avg1m: 50.0 / 60, Avg15m: 50.0 / 103, Peak: 50, PeakAt: at(100).UTC()},
	}, {
		name:    "the peak is the busiest second, kept after it leaves every window",
		started: statsStart,
		feed: func(s *callStats) {
			spread(s, 0, 3, 2)
			spread(s, 3, 1, 40)
			spread(s, 4, 3, 2)
			spread(s, 3600, 1, 1)
		},
		now:  at(3601),
		want: CPS{Last1s: 1, Last5s: 0.2, Avg1m: 1.0 / 60, Avg15m: 1.0 / 900, Peak: 40, PeakAt: at(3).UTC()},
	}, {
		name:    "1/s for 20 min: the 15 min window wraps",
		started: statsStart,
		feed:    func(s *callStats) { spread(s, 0, 1200, 1) },
		now:     at(1200),
		want:    CPS{Last1s: 1, Last5s: 1, Avg1m: 1, Avg15m: 1, Peak: 1, PeakAt: at(0).UTC()},
	}, {
		name:    "2/s, then 1/s for the last 10 min",
		started: statsStart,
		feed:    func(s *callStats) { spread(s, 0, 600, 2); spread(s, 600, 600, 1) },
		now:     at(1200),
		want:    CPS{Last1s: 1, Last5s: 1, Avg1m: 1, Avg15m: (300*2 + 600*1) / 900.0, Peak: 2, PeakAt: at(0).UTC()},
	}, {
		name:    "hours between calls leave no stale counts",
		started: statsStart,
		feed: func(s *callStats) {
			spread(s, 0, 900, 3)
			spread(s, 17+20*statsRing, 1, 1) // 5 h on, in the ring slot that second 17 had
		},
		now:  at(18 + 20*statsRing),
		want: CPS{Last1s: 1, Last5s: 0.2, Avg1m: 1.0 / 60, Avg15m: 1.0 / 900, Peak: 3, PeakAt: at(0).UTC()},
	}, {
		name:    "nothing yet",
		started: statsStart,
		feed:    func(s *callStats) {},
		now:     at(0.2),
		want:    CPS{},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := &callStats{started: tc.started}
			tc.feed(s)
			checkCPS(t, s.snapshot(tc.now), tc.want)
		})
	}
}

func checkCPS(t *testing.T, got, want CPS) {
	t.Helper()
	near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
	if !near(got.Last1s, want.Last1s) || !near(got.Last5s, want.Last5s) || !near(got.Avg1m, want.Avg1m) ||
		!near(got.Avg15m, want.Avg15m) || got.Peak != want.Peak || !got.PeakAt.Equal(want.PeakAt) {
		t.Errorf("snapshot\n got  %s\n want %s", fmtCPS(got), fmtCPS(want))
	}
	if got.PeakAt.Location() != time.UTC {
		t.Errorf("PeakAt in %v, want UTC", got.PeakAt.Location())
	}
}

func fmtCPS(c CPS) string {
	return fmt.Sprintf("1s %.4g  5s %.4g  1m %.4g  15m %.4g  peak %g at %s",
		c.Last1s, c.Last5s, c.Avg1m, c.Avg15m, c.Peak, c.PeakAt.Format(time.RFC3339))
}

// TestCallStatsClockBack: a clock that steps back a little counts into
// the newest second; one that steps back far starts the history afresh.
// Neither panics or reads negative.
func TestCallStatsClockBack(t *testing.T) {
	s := &callStats{started: statsStart}
	spread(s, 0, 10, 4)
	s.admitted(at(8.5)) // 1.5 s back: counted in second 9
	c := s.snapshot(at(10.2))
	if c.Last1s != 5 || c.Peak != 5 {
		t.Errorf("after a small step back: %s; want the call in the newest second (1s 5, peak 5)", fmtCPS(c))
	}
	c = s.snapshot(at(9.1)) // a read a little in the past
	if c.Last1s < 0 || c.Avg1m < 0 || c.Last5s < 0 {
		t.Errorf("negative rate after a read in the past: %s", fmtCPS(c))
	}

	// An hour back: the history starts again from there; total and peak stay.
	back := at(-3600)
	spread(s, -3600, 2, 3)
	c = s.snapshot(back.Add(2500 * time.Millisecond))
	if c.Last1s != 3 || c.Avg1m != 3 || c.Avg15m != 3 || c.Peak != 5 {
		t.Errorf("an hour back: %s; want 1s 3, 1m 3 (the step's second left out), 15m 3, peak 5", fmtCPS(c))
	}
	if total, _ := s.counts(); total != 47 {
		t.Errorf("total %d, want 47", total)
	}

	// Times before 1970, and a start after now: zeros, no panic.
	odd := &callStats{started: at(100)}
	odd.admitted(time.Unix(-5, 0))
	odd.admitted(at(50))
	for _, now := range []time.Time{time.Unix(-100, 0), at(50), at(51), at(200)} {
		c := odd.snapshot(now)
		if c.Last1s < 0 || c.Last5s < 0 || c.Avg1m < 0 || c.Avg15m < 0 {
			t.Errorf("at %v: %s", now, fmtCPS(c))
		}
	}
}

func TestCallStatsRejections(t *testing.T) {
	s := &callStats{started: statsStart}
	spread(s, 0, 2, 3)
	for _, r := range []string{"disk_full", "disk_full", "unknown_user", ""} {
		s.rejected(r)
	}
	if total, rej := s.counts(); total != 6 || rej != 4 {
		t.Errorf("counts = %d, %d; want 6, 4", total, rej)
	}
	by := s.rejectedBy()
	want := map[string]int64{"disk_full": 2, "unknown_user": 1, "other": 1}
	if fmt.Sprint(by) != fmt.Sprint(want) {
		t.Errorf("rejectedBy = %v, want %v", by, want)
	}
	by["disk_full"] = 99
	if s.rejectedBy()["disk_full"] != 2 {
		t.Error("rejectedBy returned the live map")
	}
	for i := range 2 * statsReasons {
		s.rejected(fmt.Sprintf("r%d", i))
	}
	if n := len(s.rejectedBy()); n > statsReasons+1 {
		t.Errorf("%d reasons kept, want at most %d", n, statsReasons+1)
	}
}

// TestRefusalReason: every refusal of the recorder has its own word, found
// from the error Admit returns with the specifics filled in.
func TestRefusalReason(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range recorderRefusals {
		args := []any{"x1", 7, "x3"}
		err := r.Err(args[:countVerbs(r.Text)]...)
		got := refusalReason(fmt.Errorf("admit: %w", err))
		if got == "other" || got == "" {
			t.Errorf("%q counts as %q: add it to refusalReasons", r.Text, got)
		}
		if seen[got] {
			t.Errorf("reason %q given twice", got)
		}
		seen[got] = true
	}
	for _, err := range []error{
		errors.New("boom"), nil, siprec.Errorf(503, "something new"),
		siprec.Errorf(488, "no supported codec offered (PCMU)"), // the pattern's end missing
	} {
		if got := refusalReason(err); got != "other" {
			t.Errorf("refusalReason(%v) = %q, want other", err, got)
		}
	}
	if got := refusalReason(refuseDiskFull.Err("1 MiB", "2 MiB")); got != "disk_full" {
		t.Errorf("disk full counts as %q", got)
	}
}

func countVerbs(p string) int {
	n := 0
	for i := 0; i+1 < len(p); i++ {
		if p[i] == '%' {
			n++
			i++
		}
	}
	return n
}

// TestCallStatsNoAllocation: admitting a call allocates nothing, however
// many there are.
func TestCallStatsNoAllocation(t *testing.T) {
	s := &callStats{started: statsStart}
	now := statsStart
	allocs := testing.AllocsPerRun(1_000_000, func() {
		now = now.Add(time.Millisecond)
		s.admitted(now)
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per admission", allocs)
	}
	if total, _ := s.counts(); total < 1_000_000 {
		t.Errorf("total %d, want at least 1e6", total)
	}
	c := s.snapshot(now)
	if c.Last1s != 1000 || c.Avg15m != 1000 || c.Peak != 1000 {
		t.Errorf("1000/s for 1000 s: %s", fmtCPS(c))
	}
}
