package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
)

// The formats the subcommands share with the interactive console
// (console/format holds them).
var (
	formatLocal    = format.Local
	formatDuration = format.Duration
	formatBytes    = format.Bytes
	formatCopy     = format.CopyLine
	shorten        = format.Shorten
	dash           = format.Dash
	legCounts      = format.LegCounts
	formatOffset   = format.Offset
	formatSeconds  = format.Seconds
	srtpLegs       = format.SRTPLegs
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

// parseTime reads a --from or --to value (format.ParseTime: RFC 3339, a
// date, or a date and time in the local zone; with end set a date alone is
// the day's last instant).
func parseTime(flagName, s string, end bool) (time.Time, error) {
	if t, ok := format.ParseTime(s, end); ok {
		return t, nil
	}
	return time.Time{}, usagef("bad --%s time %q: use RFC 3339, 2006-01-02, 2006-01-02 15:04 or 2006-01-02T15:04", flagName, s)
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

// plural picks the word for n things.
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// parseRange reads --from and --to values (either may be ""): the start
// of from, the end of to (a date alone as --to takes in the whole day).
func parseRange(from, to string) (f, t time.Time, err error) {
	if from != "" {
		if f, err = parseTime("from", from, false); err != nil {
			return f, t, err
		}
	}
	if to != "" {
		t, err = parseTime("to", to, true)
	}
	return f, t, err
}
