package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callvault/callvault/daemon/control"
)

// LocalLayout is how Local prints a time.
const LocalLayout = "2006-01-02 15:04:05"

// Local prints t in the local time zone; "-" for the zero time.
func Local(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(LocalLayout)
}

// Duration prints milliseconds as m:ss, rounded to the second (minutes go
// past 59: "60:00").
func Duration(ms int64) string {
	s := (ms + 500) / 1000
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Bytes prints a size with binary units: "512 B", "1.5 KiB", "5.0 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Shorten cuts s to n runes, marking the cut with "…".
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Dash prints "-" for an empty string.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Offset prints a position in a recording to the millisecond, as
// m:ss.mmm (minutes go past 59, as in Duration).
func Offset(ms int64) string {
	ms = max(ms, 0)
	return fmt.Sprintf("%d:%02d.%03d", ms/60000, ms/1000%60, ms%1000)
}

// Seconds prints milliseconds as seconds with the digits they need and at
// least one decimal: "2.0 s", "1.4 s", "0.04 s".
func Seconds(ms int64) string {
	ms = max(ms, 0)
	frac := strings.TrimRight(fmt.Sprintf("%03d", ms%1000), "0")
	if frac == "" {
		frac = "0"
	}
	return fmt.Sprintf("%d.%s s", ms/1000, frac)
}

// LegCounts describes a leg's drops and repairs, e.g. "late 2, foreign
// source 5000"; "" when there are none.
func LegCounts(c control.LegCounters) string {
	var parts []string
	for _, f := range []struct {
		name string
		n    uint64
	}{
		{"late", c.Late}, {"duplicates", c.Duplicates}, {"foreign source", c.ForeignSource},
		{"foreign ssrc", c.ForeignSSRC}, {"srtp auth failed", c.AuthFailed},
		{"not audio", c.Ignored}, {"concealed", c.Concealed}, {"lost packets", c.LostPackets},
	} {
		if f.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", f.name, f.n))
		}
	}
	return strings.Join(parts, ", ")
}

// SRTPLegs is the SRTP column of a live call: "yes" when every leg is
// encrypted, "no" when none is, else the labels of the encrypted ones
// ("1,3"); "-" before the call has legs.
func SRTPLegs(legs []control.Leg) string {
	var labels []string
	for _, l := range legs {
		if l.SRTP {
			labels = append(labels, l.Label)
		}
	}
	switch {
	case len(legs) == 0:
		return "-"
	case len(labels) == len(legs):
		return "yes"
	case len(labels) == 0:
		return "no"
	}
	return strings.Join(labels, ",")
}

// Num prints x rounded to a tenth, without a trailing ".0": 54, 58.5.
func Num(x float64) string {
	return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
}

// Exact prints x in full, for inputs such as a grade of service of 0.001.
func Exact(x float64) string {
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// timeLayouts are the forms ParseTime accepts besides RFC 3339 and a date
// alone, in the local zone.
var timeLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
}

// ParseTime reads a time typed by a user: RFC 3339, or one of
// 2006-01-02, 2006-01-02 15:04[:05] and 2006-01-02T15:04[:05] in the local
// zone. A date alone is midnight; with end set it is the day's last
// instant, so that an inclusive upper bound takes in the whole day.
func ParseTime(s string, end bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		if end {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		return t, true
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// RTPLine sums up the RTP received since the start: packets, those that
// never arrived (by sequence number, with their share of those sent),
// late and dropped ones.
func RTPLine(r control.RTPTotals) string {
	sent := r.Packets + r.LostPackets
	return fmt.Sprintf("%d packets received, %d lost (%s), %d late, %d dropped (%d duplicates)",
		r.Packets, r.LostPackets, lossPercent(r.LostPackets, sent), r.Late, r.Dropped, r.Duplicates)
}

// lossPercent is n of total as a percentage with enough digits to show a
// small loss (0.004 %).
func lossPercent(n, total uint64) string {
	if total == 0 || n == 0 {
		return "0 %"
	}
	p := 100 * float64(n) / float64(total)
	switch {
	case p >= 1:
		return fmt.Sprintf("%.1f %%", p)
	case p >= 0.01:
		return fmt.Sprintf("%.2f %%", p)
	}
	return fmt.Sprintf("%.4f %%", p)
}
