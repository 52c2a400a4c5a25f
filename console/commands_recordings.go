package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

func (c *cli) search(ctx context.Context, args []string) error {
	fs := c.flags("search", "search [--from T] [--to T] [--user U] [--ext E] [--remote R] [--direction IN|OUT] [--min-duration D] [--limit N] [--cursor C] [--json]")
	from := fs.String("from", "", "recordings that started at or after `T` (RFC 3339, 2006-01-02, 2006-01-02 15:04, local time)")
	to := fs.String("to", "", "recordings that started at or before `T` (a date alone includes that whole day)")
	var q control.Query
	fs.StringVar(&q.User, "user", "", "owner `username`")
	fs.StringVar(&q.Extension, "ext", "", "owner `extension`")
	fs.StringVar(&q.Remote, "remote", "", "remote `number` or part of it: its digits anywhere (+ and spaces ignored)")
	direction := fs.String("direction", "", "IN or OUT")
	minDuration := fs.String("min-duration", "", "recordings at least `D` long (30s, 2m, 1h30m; a bare number is seconds)")
	limit := fs.Int("limit", 0, fmt.Sprintf("at most `N` recordings (default %d)", control.DefaultLimit))
	fs.StringVar(&q.Cursor, "cursor", "", "the page after the one that printed cursor `C`")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("search: unexpected argument %q (filters are flags, e.g. --user %s)", pos[0], pos[0])
	}
	if q.From, q.To, err = parseRange(*from, *to); err != nil {
		return err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return usagef("search: --from %s is after --to %s", *from, *to)
	}
	q.Direction = strings.ToUpper(*direction)
	if q.Direction != "" && q.Direction != control.DirectionIn && q.Direction != control.DirectionOut {
		return usagef("bad --direction value %q: must be IN or OUT", *direction)
	}
	if *minDuration != "" {
		if q.MinDurationMS, err = parseMinDuration(*minDuration); err != nil {
			return err
		}
	}
	if q.Cursor != "" {
		if _, _, err := control.ParseCursor(q.Cursor); err != nil {
			return usagef("bad --cursor value %q: not a cursor a search printed", q.Cursor)
		}
	}
	limitSet := false
	fs.Visit(func(f *flag.Flag) { limitSet = limitSet || f.Name == "limit" })
	if limitSet && (*limit <= 0 || *limit > control.MaxLimit) {
		return usagef("bad --limit value %d: must be a positive integer up to %d", *limit, control.MaxLimit)
	}
	q.Limit = *limit
	recs, next, err := c.client.SearchPage(ctx, q)
	if err != nil {
		return err
	}
	err = printList(c, *asJSON, recs, "no recordings found",
		"ID\tSTART\tDURATION\tUSER\tEXT\tREMOTE\tDIR\tSTATUS\tSIZE",
		func(r control.Recording) string {
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", r.ID, formatLocal(r.Start),
				formatDuration(r.DurationMS), dash(r.User), dash(r.Extension), dash(r.Remote),
				dash(r.Direction), statusHeld(r), formatBytes(r.Size))
		})
	if err == nil && next != "" && !*asJSON {
		fmt.Fprintf(c.stderr, "more: %s\n", nextPageCommand(fs.FlagSet, next))
	}
	return err
}

// parseMinDuration reads --min-duration: a Go duration ("90s", "2m") or
// a whole number of seconds, in milliseconds.
func parseMinDuration(s string) (int64, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseInt(s, 10, 64)
		if nerr != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, usagef("bad --min-duration value %q: want a duration such as 30s, 2m or 1h30m, or seconds", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, usagef("bad --min-duration value %q: must not be negative", s)
	}
	return d.Milliseconds(), nil
}

// nextPageCommand is the command line that prints the page after this
// one: the flags given (in name order, --cursor replaced by next).
func nextPageCommand(fs *flag.FlagSet, next string) string {
	line := []string{"callvault", "search"}
	fs.Visit(func(f *flag.Flag) {
		switch bf, ok := f.Value.(interface{ IsBoolFlag() bool }); {
		case f.Name == "cursor":
		case ok && bf.IsBoolFlag():
			line = append(line, "--"+f.Name+"="+f.Value.String())
		default:
			line = append(line, "--"+f.Name, shellQuote(f.Value.String()))
		}
	})
	return strings.Join(append(line, "--cursor", next), " ")
}

// shellQuote quotes s for a POSIX shell unless it is plain.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_.:,/@%=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneID returns the single positional argument of a command.
func oneID(cmd, what string, pos []string) (string, error) {
	switch {
	case len(pos) == 0:
		return "", usagef("%s: missing %s", cmd, what)
	case len(pos) > 1:
		return "", usagef("%s: too many arguments: %s", cmd, strings.Join(pos[1:], " "))
	}
	return pos[0], nil
}

func (c *cli) show(ctx context.Context, args []string) error {
	fs := c.flags("show", "show ID [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	id, err := oneID("show", "recording ID", pos)
	if err != nil {
		return err
	}
	r, err := c.client.Recording(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, r)
	}
	tw := newTable(c.stdout)
	fmt.Fprintf(tw, "id\t%s\n", r.ID)
	fmt.Fprintf(tw, "start\t%s (%s)\n", formatLocal(r.Start), r.Start.UTC().Format("2006-01-02T15:04:05Z07:00"))
	fmt.Fprintf(tw, "duration\t%s (%d ms)\n", formatDuration(r.DurationMS), r.DurationMS)
	fmt.Fprintf(tw, "user\t%s\n", dash(r.User))
	fmt.Fprintf(tw, "full name\t%s\n", dash(r.FullName))
	fmt.Fprintf(tw, "extension\t%s\n", dash(r.Extension))
	fmt.Fprintf(tw, "remote\t%s\n", dash(r.Remote))
	fmt.Fprintf(tw, "direction\t%s\n", dash(r.Direction))
	fmt.Fprintf(tw, "status\t%s\n", dash(r.Status))
	if r.EndReason != "" {
		fmt.Fprintf(tw, "ended\t%s\n", r.EndReason)
	}
	if r.UCMHalf != "" {
		fmt.Fprintf(tw, "ucm half\t%s only: UCM's other recording call never came\n", r.UCMHalf)
	}
	fmt.Fprintf(tw, "file\t%s\n", dash(r.File))
	fmt.Fprintf(tw, "codec\t%s\n", dash(r.Codec))
	fmt.Fprintf(tw, "size\t%s (%d bytes)\n", formatBytes(r.Size), r.Size)
	if r.SHA256 != "" {
		fmt.Fprintf(tw, "sha256\t%s\n", r.SHA256)
	}
	if r.CallID != "" {
		fmt.Fprintf(tw, "call id\t%s\n", r.CallID)
	}
	for _, p := range r.Participants {
		fmt.Fprintf(tw, "participant\t%s\n", strings.TrimSpace(p.AOR+" "+p.Name))
	}
	for _, l := range r.Legs {
		line := fmt.Sprintf("%s: %s, %d packets", l.Label, dash(l.Codec), l.Packets)
		if c := legCounts(l.LegCounters); c != "" {
			line += " (" + c + ")"
		}
		fmt.Fprintf(tw, "leg\t%s\n", line)
	}
	if windows := formatSpans(r.Windows); windows != "" {
		fmt.Fprintf(tw, "windows\t%s (call time)\n", windows)
	}
	if paused := formatSpans(r.Pauses); paused != "" {
		fmt.Fprintf(tw, "paused\t%s\n", paused)
	}
	if lost := formatSpans(r.Lost); lost != "" {
		fmt.Fprintf(tw, "lost\t%s\n", lost)
	}
	for _, cp := range r.Copies {
		fmt.Fprintf(tw, "copy\t%s\n", formatCopy(cp))
	}
	if r.Hold != nil {
		fmt.Fprintf(tw, "legal hold\tsince %s by %s: %s\n", formatLocal(r.Hold.Since), r.Hold.Actor, r.Hold.Reason)
	}
	if !r.Evicted.IsZero() {
		fmt.Fprintf(tw, "local file\tremoved %s once copied (export and verify read a copy)\n", formatLocal(r.Evicted))
	}
	return tw.Flush()
}

func (c *cli) export(ctx context.Context, args []string) error {
	fs := c.flags("export", "export ID -o FILE")
	out := fs.String("o", "", "write the MP3 to `FILE` (- for standard output)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	id, err := oneID("export", "recording ID", pos)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("export: missing -o FILE (use -o - for standard output)")
	}
	if *out == "-" {
		return c.client.Export(ctx, id, c.stdout)
	}
	n, err := writeFileAtomic(*out, func(w *countingWriter) error {
		return c.client.Export(ctx, id, w)
	})
	if err != nil {
		return fmt.Errorf("export to %s: %w (no file written)", *out, err)
	}
	fmt.Fprintf(c.stderr, "wrote %d bytes to %s\n", n, *out)
	return nil
}

// statusHeld is a recording's status, marked "held" under a legal hold.
func statusHeld(r control.Recording) string {
	if r.Hold != nil {
		return dash(r.Status) + ",held"
	}
	return dash(r.Status)
}
