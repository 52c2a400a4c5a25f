package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/callvault/callvault/daemon/control"
)

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// writeJSON prints v indented, for scripts.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// printList prints items as indented JSON with asJSON, otherwise as a
// table: header, then one row per item, or the empty message alone when
// there are none.
func printList[T any](c *cli, asJSON bool, items []T, empty, header string, row func(T) string) error {
	if asJSON {
		return writeJSON(c.stdout, nonNil(items))
	}
	if len(items) == 0 {
		fmt.Fprintln(c.stdout, empty)
		return nil
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, header)
	for _, it := range items {
		fmt.Fprintln(tw, row(it))
	}
	return tw.Flush()
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const localLayout = "2006-01-02 15:04:05"

// formatLocal prints t in the local time zone.
func formatLocal(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(localLayout)
}

// formatDuration prints milliseconds as m:ss, rounded to the second.
func formatDuration(ms int64) string {
	s := (ms + 500) / 1000
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// formatBytes prints a size with binary units.
func formatBytes(n int64) string {
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

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timeLayouts are the forms --from and --to accept, in the local zone
// unless they carry an offset.
var timeLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
}

// parseTime reads a --from or --to value. A date alone is midnight local
// time; with end set it is the midnight after, so that --to DATE includes
// that day.
func parseTime(flagName, s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		if end {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond) // the day's last instant: To is inclusive
		}
		return t, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("bad --%s time %q: use RFC 3339, 2006-01-02, 2006-01-02 15:04 or 2006-01-02T15:04", flagName, s)
}

// legCounts describes a leg's drops and repairs, e.g. "late 2, foreign
// source 5000"; "" when there are none.
func legCounts(c control.LegCounters) string {
	var parts []string
	for _, f := range []struct {
		name string
		n    uint64
	}{
		{"late", c.Late}, {"duplicates", c.Duplicates}, {"foreign source", c.ForeignSource},
		{"foreign ssrc", c.ForeignSSRC}, {"srtp auth failed", c.AuthFailed},
		{"not audio", c.Ignored}, {"concealed", c.Concealed},
	} {
		if f.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", f.name, f.n))
		}
	}
	return strings.Join(parts, ", ")
}

// maxLostShown caps the stretches that show lists; --json has them all.
const maxLostShown = 8

// formatSpans describes stretches of a recording (lost, paused, kept), e.g. "2 stretches,
// 3.4 s: at 0:12.300 for 2.0 s, at 1:05.000 for 1.4 s"; "" when none.
func formatSpans(spans []control.Span) string {
	if len(spans) == 0 {
		return ""
	}
	var total int64
	for _, s := range spans {
		total += s.DurMS
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s, %s:", len(spans), plural(len(spans), "stretch", "stretches"), formatSeconds(total))
	for i, s := range spans[:min(len(spans), maxLostShown)] {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " at %s for %s", formatOffset(s.AtMS), formatSeconds(s.DurMS))
	}
	if more := len(spans) - maxLostShown; more > 0 {
		fmt.Fprintf(&b, ", and %d more (--json lists them)", more)
	}
	return b.String()
}

// formatOffset prints a position in a recording to the millisecond, as
// m:ss.mmm (minutes go past 59, as in formatDuration).
func formatOffset(ms int64) string {
	ms = max(ms, 0)
	return fmt.Sprintf("%d:%02d.%03d", ms/60000, ms/1000%60, ms%1000)
}

// formatSeconds prints milliseconds as seconds with the digits they need
// and at least one decimal: "2.0 s", "1.4 s", "0.04 s".
func formatSeconds(ms int64) string {
	ms = max(ms, 0)
	frac := strings.TrimRight(fmt.Sprintf("%03d", ms%1000), "0")
	if frac == "" {
		frac = "0"
	}
	return fmt.Sprintf("%d.%s s", ms/1000, frac)
}

// plural picks the word for n things.
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// srtpLegs is the SRTP column of a live call: "yes" when every leg is
// encrypted, "no" when none is, else the labels of the encrypted ones
// ("1,3"); "-" before the call has legs.
func srtpLegs(legs []control.Leg) string {
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
