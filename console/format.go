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
