package format

import (
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
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

func TestDiskUsage(t *testing.T) {
	days := func(d float64) *float64 { return &d }
	u := &control.DiskUsage{RecordingsFiles: 4512, RecordingsBytes: 5 << 30, GrowthBytesPerDay: 3 << 29, GrowthDays: 7, DaysUntilFull: days(340.7)}
	for _, tc := range []struct{ got, want string }{
		{RecordingsShare(nil, 1), "counting"},
		{RecordingsShare(u, 100<<30), "5.0 GiB in 4512 files, 5% of the disk"},
		{RecordingsShare(&control.DiskUsage{RecordingsBytes: 1, RecordingsFiles: 1}, 1<<40), "1 B in 1 files, <1% of the disk"},
		{Growth(u), "1.5 GiB/day (7-day mean)"},
		{Growth(&control.DiskUsage{GrowthBytesPerDay: 300 << 20}), "300.0 MiB today so far"},
		{Growth(nil), ""},
		{UntilFull(u), "full in 340 days"},
		{UntilFull(&control.DiskUsage{DaysUntilFull: days(0.5)}), "full in 12 hours"},
		{UntilFull(&control.DiskUsage{DaysUntilFull: days(0)}), "reserve reached"},
		{UntilFull(&control.DiskUsage{DaysUntilFull: days(5000)}), "full in over 10 years"},
		{UntilFull(&control.DiskUsage{}), "not growing"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
