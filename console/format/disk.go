package format

import (
	"fmt"
	"math"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// RecordingsShare is what the recordings take of a disk of total bytes:
// "12.3 GiB in 4512 files, 4% of the disk"; "counting" until the daemon
// has counted them.
func RecordingsShare(u *control.DiskUsage, total uint64) string {
	if u == nil {
		return "counting"
	}
	share := ""
	if total > 0 {
		share = fmt.Sprintf(", %s of the disk", Percent(float64(u.RecordingsBytes)/float64(total)))
	}
	return fmt.Sprintf("%s in %d files%s", Bytes(u.RecordingsBytes), u.RecordingsFiles, share)
}

// Percent prints a fraction as a whole percentage, or "<1%" for a share
// above nothing that rounds to nothing.
func Percent(f float64) string {
	p := math.Round(f * 100)
	if p == 0 && f > 0 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

// Growth is how fast the recordings grow: "1.5 GiB/day (7-day mean)",
// "300.0 MiB today so far"; "" until the daemon has counted them.
func Growth(u *control.DiskUsage) string {
	switch {
	case u == nil:
		return ""
	case u.GrowthDays > 0:
		return fmt.Sprintf("%s (%d-day mean)", GrowthShort(u), u.GrowthDays)
	}
	return GrowthShort(u) + " so far"
}

// GrowthShort is Growth without its basis: "1.5 GiB/day", "300.0 MiB
// today".
func GrowthShort(u *control.DiskUsage) string {
	switch {
	case u == nil:
		return ""
	case u.GrowthDays > 0:
		return Bytes(u.GrowthBytesPerDay) + "/day"
	}
	return Bytes(u.GrowthBytesPerDay) + " today"
}

// UntilFull is when the free space above the reserve runs out at the
// recordings' growth: "full in 340 days", "full in 12 hours", "reserve
// reached"; "not growing" with no growth, "" until counted.
func UntilFull(u *control.DiskUsage) string {
	switch {
	case u == nil:
		return ""
	case u.DaysUntilFull == nil:
		return "not growing"
	}
	d := *u.DaysUntilFull
	switch {
	case d <= 0:
		return "reserve reached"
	case d < 2:
		return fmt.Sprintf("full in %.0f hours", math.Max(1, math.Floor(d*24)))
	case d >= 3650:
		return "full in over 10 years"
	}
	return fmt.Sprintf("full in %.0f days", math.Floor(d))
}

// CopyLine describes a recording's copy on a target: "archive: copied
// 2026-11-28 10:15:02, sha256 verified, key site-a/node-0/records/…";
// "archive: failed (3 attempts): <error>; next try 10:20:00".
func CopyLine(c control.Copy) string {
	switch c.State {
	case "copied":
		return fmt.Sprintf("%s: copied %s, sha256 verified, key %s", c.Target, Local(c.At), c.Key)
	case "failed":
		return fmt.Sprintf("%s: failed (%d attempts): %s; next try %s", c.Target, c.Attempts, c.Error, Local(c.NextTry))
	}
	return fmt.Sprintf("%s: %s since %s", c.Target, c.State, Local(c.At))
}

// Rate prints bytes a second: "1.5 MiB/s".
func Rate(bytesPerSecond float64) string {
	return Bytes(int64(math.Round(bytesPerSecond))) + "/s"
}

// Age prints a keep-for time: "30 days" when whole days, else as Go
// prints durations ("1h30m0s").
func Age(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// StorageLine sums the copies off the box in a line: "backlog 1520
// (1.6 GiB); nas up, archive down".
func StorageLine(s *control.Storage) string {
	line := fmt.Sprintf("backlog %d (%s)", s.Backlog, Bytes(s.BacklogBytes))
	for i, t := range s.Targets {
		sep := ", "
		if i == 0 {
			sep = "; "
		}
		line += sep + t.Name + " " + t.State
	}
	return line
}
