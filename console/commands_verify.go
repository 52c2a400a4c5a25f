package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/callvault/callvault/daemon/control"
)

// verify checks recordings through the daemon: one by id, or all of them
// (--all, which also reports sealed files the index lacks). It prints one
// line per file and exits 1 when any is not intact.
func (c *cli) verify(ctx context.Context, args []string) error {
	fs := c.flags("verify", "verify ID|--all [--json]")
	all := fs.Bool("all", false, "verify every recording and look for files the index lacks")
	asJSON := fs.Bool("json", false, "print JSON (--all: an array, written as files are checked)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	var id string
	switch {
	case *all && len(pos) > 0:
		return usagef("verify: give a recording ID or --all, not both")
	case !*all:
		if id, err = oneID("verify", "recording ID (or --all)", pos); err != nil {
			return err
		}
	}
	out := newCheckPrinter(c.stdout, *asJSON)
	if *all {
		err = c.client.VerifyAll(ctx, out.print)
	} else {
		var ch control.Check
		if ch, err = c.client.Verify(ctx, id); err == nil {
			err = out.print(ch)
		}
	}
	if cerr := out.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, out.summary())
	if bad := out.total - out.counts[control.CheckIntact]; bad > 0 {
		return fmt.Errorf("verify: %d of %s %s not intact", bad, files(out.total), plural(bad, "is", "are"))
	}
	return nil
}

// checkPrinter writes checks as they come, as a table or as a JSON array,
// and counts them by status.
type checkPrinter struct {
	w      io.Writer
	asJSON bool
	total  int
	counts map[string]int
	err    error
}

func newCheckPrinter(w io.Writer, asJSON bool) *checkPrinter {
	return &checkPrinter{w: w, asJSON: asJSON, counts: make(map[string]int)}
}

func (p *checkPrinter) print(ch control.Check) error {
	p.total++
	p.counts[ch.Status]++
	if p.asJSON {
		b, err := json.Marshal(ch)
		if err != nil {
			return err
		}
		sep := ",\n  "
		if p.total == 1 {
			sep = "[\n  "
		}
		_, err = fmt.Fprintf(p.w, "%s%s", sep, b)
		return err
	}
	line := fmt.Sprintf("%s\t%s\t%s", dash(ch.ID), ch.Status, dash(ch.File))
	if ch.Detail != "" {
		line += "\t" + ch.Detail
	}
	_, err := fmt.Fprintln(p.w, strings.ReplaceAll(line, "\t", "  "))
	return err
}

// close ends the JSON array (an empty one when nothing was checked).
func (p *checkPrinter) close() error {
	if !p.asJSON {
		return nil
	}
	if p.total == 0 {
		_, err := fmt.Fprintln(p.w, "[]")
		return err
	}
	_, err := fmt.Fprintln(p.w, "\n]")
	return err
}

// checkOrder is the order of the statuses in the summary.
var checkOrder = []string{control.CheckIntact, control.CheckTampered, control.CheckTruncated,
	control.CheckMissing, control.CheckUnindexed, control.CheckUnreadable}

// summary is one line such as "3 files: 2 intact, 1 tampered" or "1 file:
// 1 intact": the statuses in checkOrder, then any other by name.
func (p *checkPrinter) summary() string {
	var parts []string
	for _, s := range checkOrder {
		if n := p.counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	var newer []string // statuses of a newer daemon, by name
	for s := range p.counts {
		if !slices.Contains(checkOrder, s) {
			newer = append(newer, s)
		}
	}
	slices.Sort(newer)
	for _, s := range newer {
		parts = append(parts, fmt.Sprintf("%d %s", p.counts[s], s))
	}
	if len(parts) == 0 {
		return "0 files"
	}
	return fmt.Sprintf("%s: %s", files(p.total), strings.Join(parts, ", "))
}

// files is "1 file", "2 files".
func files(n int) string {
	return fmt.Sprintf("%d %s", n, plural(n, "file", "files"))
}
