package main

import (
	"context"
	"fmt"

	"github.com/callvault/callvault/daemon/control"
)

// keys rotates the key-encryption key: callvault keys rotate.
func (c *cli) keys(ctx context.Context, args []string) error {
	return c.dispatch("keys", args, []subcommand{
		{"rotate", "keys rotate [--json]", func(rest []string) error {
			asJSON, err := c.jsonOnly("keys rotate", rest)
			if err != nil {
				return err
			}
			rot, err := c.client.RotateKey(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, rot)
			}
			return printRotation(c, rot)
		}},
	})
}

func printRotation(c *cli, rot control.KeyRotation) error {
	_, err := fmt.Fprintf(c.stdout, "key-encryption key %s is current; %s is kept as keys/kek-%s for the older recordings\n"+
		"(stop callvaultd and run callvaultd keys rewrap to move them to the new key, then remove the old one)\n", rot.New, rot.Old, rot.Old)
	return err
}
