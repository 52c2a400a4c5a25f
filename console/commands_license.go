package main

import (
	"cmp"
	"context"
	"fmt"
	"os"

	"github.com/callvault/callvault/daemon/control"
)

// license shows the licence in force, or installs a licence file.
func (c *cli) license(ctx context.Context, args []string) error {
	return c.dispatch("license", args, []subcommand{
		{"show", "license show [--json]", func(rest []string) error {
			return c.statusPart(ctx, "license show", rest, func(st control.Status) any { return st.License },
				func(st control.Status) error { return printLicense(c, st.License) })
		}},
		{"install", "license install FILE", func(rest []string) error { return c.installLicense(ctx, rest) }},
	})
}

// installLicense sends a licence file to the daemon and prints the
// licence it put in force.
func (c *cli) installLicense(ctx context.Context, args []string) error {
	fs := c.flags("license install", "license install FILE")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	path, err := oneID("license install", "FILE", pos)
	if err != nil {
		return err
	}
	file, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("license install: %w", err)
	}
	lic, err := c.client.InstallLicense(ctx, file)
	if err != nil {
		return fmt.Errorf("license install %s: %w", path, err)
	}
	fmt.Fprintln(c.stdout, "installed:")
	return printLicense(c, lic)
}

// printLicense prints a licence and its use as a small table.
func printLicense(c *cli, l control.License) error {
	tw := newTable(c.stdout)
	kind := l.Model + " licence"
	if l.Evaluation {
		kind = "evaluation licence (" + l.Model + ")"
	}
	unit := "channels"
	if l.Model == "user" {
		unit = "users"
	}
	fmt.Fprintf(tw, "licence\t%s\n", kind)
	fmt.Fprintf(tw, "customer\t%s\n", dash(l.Customer))
	fmt.Fprintf(tw, "in use\t%d of %d %s\n", l.Used, l.Count, unit)
	fmt.Fprintf(tw, "expires\t%s\n", cmp.Or(l.Expires, "never"))
	if l.Issued != "" {
		fmt.Fprintf(tw, "issued\t%s\n", l.Issued)
	}
	if l.Error != "" {
		fmt.Fprintf(tw, "REFUSED\t%s\n", l.Error)
	}
	return tw.Flush()
}
