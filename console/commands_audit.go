package main

import (
	"context"
	"fmt"

	"github.com/callvault/callvault/daemon/control"
)

// audit lists the audit trail, or checks it: callvault audit [--id ID]
// [--from T] [--to T] [--json]; callvault audit verify [--json].
func (c *cli) audit(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "verify" {
		return c.auditVerify(ctx, args[1:])
	}
	fs := c.flags("audit", "audit [--id ID] [--from T] [--to T] [--json] | audit verify [--json]")
	var q control.AuditQuery
	fs.StringVar(&q.ID, "id", "", "the entries of recording `ID`")
	from := fs.String("from", "", "entries at or after `T` (RFC 3339, 2006-01-02, 2006-01-02 15:04, local time)")
	to := fs.String("to", "", "entries at or before `T` (a date alone includes that whole day)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("audit: unexpected argument %q (audit verify checks the trail)", pos[0])
	}
	if q.From, q.To, err = parseRange(*from, *to); err != nil {
		return err
	}
	var entries []control.AuditEntry
	if err := c.client.Audit(ctx, q, func(e control.AuditEntry) error { entries = append(entries, e); return nil }); err != nil {
		return err
	}
	return printList(c, *asJSON, entries, "no audit entries", "SEQ\tTIME\tACTION\tID\tACTOR\tDETAIL",
		func(e control.AuditEntry) string {
			return fmt.Sprintf("%d\t%s\t%s\t%s\t%s (uid %d)\t%s", e.Seq, formatLocal(e.Time), e.Action, dash(e.ID), e.Actor, e.UID, dash(e.Detail))
		})
}

// auditVerify checks the hash chain and says where it breaks; it exits 1
// when it does.
func (c *cli) auditVerify(ctx context.Context, args []string) error {
	asJSON, err := c.jsonOnly("audit verify", args)
	if err != nil {
		return err
	}
	rep, err := c.client.AuditVerify(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(c.stdout, rep); err != nil {
			return err
		}
	} else if rep.Intact() {
		fmt.Fprintf(c.stdout, "intact: %d entries, the chain and the index head (entry %d) agree\n", rep.Entries, rep.HeadSeq)
	} else {
		fmt.Fprintf(c.stdout, "BROKEN at entry %d (%d entries read): %s\n", rep.FirstBroken, rep.Entries, rep.Problem)
	}
	if !rep.Intact() {
		return fmt.Errorf("audit verify: the audit trail is broken at entry %d", rep.FirstBroken)
	}
	return nil
}
