package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/callvault/callvault/daemon/control"
)

const recordSynopsis = "record start|stop|keep|pause|resume EXT|ID [--json]"

var recordActions = []string{control.ActionStart, control.ActionStop, control.ActionKeep, control.ActionPause, control.ActionResume}

// record applies a record action to the live call of an owner's extension
// or of a record id: On Demand start and stop, Live Keep keep, PCI pause
// and resume.
func (c *cli) record(ctx context.Context, args []string) error {
	fs := c.flags("record", recordSynopsis)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("record: missing action (start, stop, keep, pause or resume) and EXT|ID")
	case !slices.Contains(recordActions, pos[0]):
		return usagef("record: unknown action %q (start, stop, keep, pause or resume)", pos[0])
	}
	target, err := oneID("record "+pos[0], "EXT|ID (the owner's extension or the record id)", pos[1:])
	if err != nil {
		return err
	}
	res, err := c.client.Record(ctx, target, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, res)
	}
	who := dash(res.Call.Remote)
	_, err = fmt.Fprintf(c.stdout, "%s %s: %s (call with %s, record %s)\n", pos[0], target, res.State, who, res.Call.RecordID)
	return err
}
