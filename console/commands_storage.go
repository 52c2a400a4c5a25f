package main

import (
	"context"
	"fmt"
	"time"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
)

// storage shows the copies off the box: the backlog and each target.
func (c *cli) storage(ctx context.Context, args []string) error {
	return c.dispatch("storage", args, []subcommand{
		{"status", "storage status [--json]", func(rest []string) error {
			return c.statusPart(ctx, "storage status", rest, func(st control.Status) any { return st.Storage },
				func(st control.Status) error { return printStorage(c, st.Storage) })
		}},
	})
}

// printStorage prints the backlog, then a line a target.
func printStorage(c *cli, s *control.Storage) error {
	if s == nil {
		fmt.Fprintln(c.stdout, "no storage target: recordings stay on this box only ([[storage.target]] in the config)")
		return nil
	}
	tw := newTable(c.stdout)
	fmt.Fprintf(tw, "node\t%s\n", s.Node)
	keep := "for ever"
	if s.KeepLocalSeconds >= 0 {
		keep = format.Age(time.Duration(s.KeepLocalSeconds)*time.Second) + " after the last copy"
	}
	fmt.Fprintf(tw, "local files\tkept %s\n", keep)
	backlog := fmt.Sprintf("%d recordings (%s)", s.Backlog, format.Bytes(s.BacklogBytes))
	if !s.OldestPending.IsZero() {
		backlog += ", the oldest from " + format.Local(s.OldestPending)
	}
	fmt.Fprintf(tw, "backlog\t%s\n", backlog)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	tw = newTable(c.stdout)
	fmt.Fprintln(tw, "TARGET\tKIND\tSTATE\tCOPIED\tBYTES\tRATE\tLAST COPY\tERROR")
	for _, t := range s.Targets {
		state := t.State
		if !t.RetryAt.IsZero() {
			state += ", retry " + format.Local(t.RetryAt)
		}
		last := "-"
		if !t.LastCopy.IsZero() {
			last = format.Local(t.LastCopy)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", t.Name, t.Kind, state, t.Copied,
			format.Bytes(t.CopiedBytes), format.Rate(t.BytesPerSecond), last, format.Dash(t.Error))
	}
	return tw.Flush()
}
