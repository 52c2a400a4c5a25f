package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/callvault/callvault/daemon/control"
)

// purge removes what retention no longer keeps, or with --before every
// recording that started before a time; never a held one.
func (c *cli) purge(ctx context.Context, args []string) error {
	fs := c.flags("purge", "purge [--dry-run] | purge --before T --reason TEXT [--dry-run]")
	var req control.PurgeRequest
	before := fs.String("before", "", "purge every recording that started before `T` (RFC 3339, 2006-01-02, 2006-01-02 15:04), retention or not")
	fs.StringVar(&req.Reason, "reason", "", "why (`TEXT`, kept in the tombstones and the audit trail); needed with --before")
	fs.BoolVar(&req.DryRun, "dry-run", false, "list what would be purged, remove nothing")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("purge: unexpected argument %q", pos[0])
	}
	if *before != "" {
		if req.Before, err = parseTime("before", *before, false); err != nil {
			return err
		}
		if req.Reason == "" && !req.DryRun {
			return usagef("purge --before: a --reason is needed")
		}
	}
	res, err := c.client.Purge(ctx, req)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, res)
	}
	verb := "purged"
	if res.DryRun {
		verb = "would purge"
	}
	fmt.Fprintf(c.stdout, "%s %d recordings%s\n", verb, len(res.Purged), idList(res.Purged))
	if len(res.Held) > 0 {
		fmt.Fprintf(c.stdout, "kept by a legal hold: %d%s\n", len(res.Held), idList(res.Held))
	}
	return nil
}

// idList is ": id, id, ..." for a short list, "" for none.
func idList(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	const most = 20
	if len(ids) > most {
		return ": " + strings.Join(ids[:most], ", ") + fmt.Sprintf(", and %d more (--json lists all)", len(ids)-most)
	}
	return ": " + strings.Join(ids, ", ")
}

// hold puts recordings under legal hold or lifts it:
// hold add|rm ID... | --user U | --from T --to T, --reason TEXT.
func (c *cli) hold(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "rm") {
		return usagef("hold: want hold add|rm ID...|--user U|--from T --to T --reason TEXT")
	}
	verb := args[0]
	fs := c.flags("hold "+verb, "hold "+verb+" ID...|--user U|--from T --to T --reason TEXT")
	req := control.HoldRequest{Release: verb == "rm"}
	fs.StringVar(&req.User, "user", "", "every recording of `username`")
	from := fs.String("from", "", "recordings that started at or after `T`")
	to := fs.String("to", "", "recordings that started at or before `T` (a date alone includes that whole day)")
	fs.StringVar(&req.Reason, "reason", "", "why (`TEXT`: a case, a request); needed to hold")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args[1:])
	if err != nil {
		return err
	}
	req.IDs = pos
	if req.From, req.To, err = parseRange(*from, *to); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return &usageError{err: fmt.Errorf("hold %s: %w", verb, err)}
	}
	recs, err := c.client.Hold(ctx, req)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, nonNil(recs))
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	done := "held"
	if req.Release {
		done = "released"
	}
	fmt.Fprintf(c.stdout, "%s %d recordings%s\n", done, len(recs), idList(ids))
	return nil
}

// erase erases one recording for good: callvault erase ID --reason TEXT.
func (c *cli) erase(ctx context.Context, args []string) error {
	fs := c.flags("erase", "erase ID --reason TEXT")
	reason := fs.String("reason", "", "why (`TEXT`: the request it answers), kept in the tombstone and the audit trail")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	id, err := oneID("erase", "recording ID", pos)
	if err != nil {
		return err
	}
	if *reason == "" {
		return usagef("erase: a --reason is needed")
	}
	if err := c.client.Erase(ctx, control.EraseRequest{ID: id, Reason: *reason}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "erased %s: its data key destroyed, its file, copies and index entry removed; a tombstone remains\n", id)
	return nil
}
