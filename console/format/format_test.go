package format

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.Local)
	for _, c := range []struct {
		in   string
		end  bool
		want time.Time
		ok   bool
	}{
		{"2026-11-27", false, day, true},
		{"2026-11-27", true, day.AddDate(0, 0, 1).Add(-time.Nanosecond), true},
		{"2026-11-27 09:30", false, day.Add(9*time.Hour + 30*time.Minute), true},
		{"2026-11-27T09:30:05", true, day.Add(9*time.Hour + 30*time.Minute + 5*time.Second), true},
		{"2026-11-27T09:30:00Z", false, time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC), true},
		{"yesterday", false, time.Time{}, false},
	} {
		got, ok := ParseTime(c.in, c.end)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %v, %v", c.in, c.end, got, ok, c.want, c.ok)
		}
	}
}

func TestFigures(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Duration(61499), "1:01"}, {Bytes(1536), "1.5 KiB"}, {Dash(""), "-"},
		{Num(58.46), "58.5"}, {Num(54), "54"}, {Exact(0.001), "0.001"},
		{Local(time.Time{}), "-"}, {Shorten("abcdef", 4), "abc…"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
