package license

import (
	"testing"
	"time"
)

func TestNextLevel(t *testing.T) {
	for _, c := range []struct {
		prev        Level
		used, count int
		want        Level
	}{
		{OK, 0, 10, OK},
		{OK, 7, 10, OK},   // 70 %: below the raise
		{OK, 8, 10, Warn}, // 80 %
		{OK, 10, 10, Full},
		{OK, 11, 10, Full},
		{Warn, 9, 10, Warn},
		{Warn, 7, 10, Warn}, // 70 %: not cleared yet
		{Warn, 6, 10, OK},   // 60 %: cleared
		{Warn, 10, 10, Full},
		{Full, 10, 10, Full},
		{Full, 9, 10, Warn},
		{Full, 7, 10, Warn}, // 70 %: below the count, not yet cleared
		{Full, 6, 10, OK},
		{Full, 0, 10, OK},
		// Small counts: 80 % and the count can be the same step.
		{OK, 0, 1, OK},
		{OK, 1, 1, Full},
		{Full, 0, 1, OK},
		{OK, 3, 4, OK}, // 75 %
		{OK, 4, 4, Full},
		{Full, 3, 4, Warn},
		{Warn, 3, 4, Warn},
		{Warn, 2, 4, OK},
		// No count allows nothing.
		{OK, 0, 0, Full},
		// Exact thresholds with counts that do not divide.
		{OK, 79, 99, OK},     // 79.8 %
		{OK, 80, 99, Warn},   // 80.8 %
		{Warn, 60, 99, Warn}, // 60.6 %
		{Warn, 59, 99, OK},   // 59.6 %
	} {
		if got := NextLevel(c.prev, c.used, c.count); got != c.want {
			t.Errorf("NextLevel(%v, %d, %d) = %v, want %v", c.prev, c.used, c.count, got, c.want)
		}
	}
}

func TestNextLevelDoesNotFlap(t *testing.T) {
	// Use wavering around 80 % raises the alarm once.
	level, raised := OK, 0
	for _, used := range []int{5, 8, 7, 8, 7, 8, 7, 6, 7, 8} {
		next := NextLevel(level, used, 10)
		if next == Warn && level != Warn {
			raised++
		}
		level = next
	}
	if raised != 2 {
		t.Errorf("raised the alarm %d times, want twice (once more after falling to 60 %%)", raised)
	}
}

func TestExpiryWarning(t *testing.T) {
	l := acme() // expires 2027-03-31
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		now  string
		days int
		warn bool
	}{
		{"2026-04-01T09:30:00Z", 364, false},
		{"2027-02-28T23:59:59Z", 31, false},
		{"2027-03-01T00:00:00Z", 30, true},
		{"2027-03-30T12:00:00Z", 1, true},
		{"2027-03-31T00:00:00Z", 0, true},
		{"2027-03-31T23:59:59Z", 0, true},
		{"2027-04-01T00:00:00Z", -1, true},
		{"2027-03-31T20:00:00-05:00", -1, true}, // already April 1st in UTC
	} {
		days, warn := ExpiryWarning(l, at(c.now))
		if days != c.days || warn != c.warn {
			t.Errorf("at %s: ExpiryWarning = %d, %v; want %d, %v", c.now, days, warn, c.days, c.warn)
		}
	}
	l.Expires = ""
	if days, warn := ExpiryWarning(l, issued); days != 0 || warn {
		t.Errorf("no expiry: ExpiryWarning = %d, %v", days, warn)
	}
	l.Expires = "9999-12-31"
	if days, warn := ExpiryWarning(l, issued); days < 2_900_000 || warn {
		t.Errorf("far expiry: ExpiryWarning = %d, %v", days, warn)
	}
}
