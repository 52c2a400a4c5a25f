package format

import (
	"fmt"
	"math"

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
