package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/callvault/callvault/daemon/control"
)

func (c *cli) search(ctx context.Context, args []string) error {
	fs := c.flags("search", "search [--from T] [--to T] [--user U] [--ext E] [--remote R] [--direction IN|OUT] [--limit N] [--json]")
	from := fs.String("from", "", "recordings that started at or after `T` (RFC 3339, 2006-01-02, 2006-01-02 15:04, local time)")
	to := fs.String("to", "", "recordings that started at or before `T` (a date alone includes that whole day)")
	var q control.Query
	fs.StringVar(&q.User, "user", "", "owner `username`")
	fs.StringVar(&q.Extension, "ext", "", "owner `extension`")
	fs.StringVar(&q.Remote, "remote", "", "remote `number`")
	direction := fs.String("direction", "", "IN or OUT")
	limit := fs.Int("limit", 0, fmt.Sprintf("at most `N` recordings (default %d)", control.DefaultLimit))
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("search: unexpected argument %q (filters are flags, e.g. --user %s)", pos[0], pos[0])
	}
	if *from != "" {
		if q.From, err = parseTime("from", *from, false); err != nil {
			return err
		}
	}
	if *to != "" {
		if q.To, err = parseTime("to", *to, true); err != nil {
			return err
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return usagef("search: --from %s is after --to %s", *from, *to)
	}
	q.Direction = strings.ToUpper(*direction)
	if q.Direction != "" && q.Direction != control.DirectionIn && q.Direction != control.DirectionOut {
		return usagef("bad --direction value %q: must be IN or OUT", *direction)
	}
	limitSet := false
	fs.Visit(func(f *flag.Flag) { limitSet = limitSet || f.Name == "limit" })
	if limitSet && (*limit <= 0 || *limit > control.MaxLimit) {
		return usagef("bad --limit value %d: must be a positive integer up to %d", *limit, control.MaxLimit)
	}
	q.Limit = *limit
	recs, err := c.client.Search(ctx, q)
	if err != nil {
		return err
	}
	return printList(c, *asJSON, recs, "no recordings found",
		"ID\tSTART\tDURATION\tUSER\tEXT\tREMOTE\tDIR\tSTATUS\tSIZE",
		func(r control.Recording) string {
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", r.ID, formatLocal(r.Start),
				formatDuration(r.DurationMS), dash(r.User), dash(r.Extension), dash(r.Remote),
				dash(r.Direction), dash(r.Status), formatBytes(r.Size))
		})
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
