package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/callvault/callvault/daemon/control"
)

func (c *cli) users(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("users: missing subcommand (add, edit, list, rm)")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list", "ls":
		return c.usersList(ctx, rest)
	case "add":
		return c.usersAdd(ctx, rest)
	case "edit":
		return c.usersEdit(ctx, rest)
	case "rm", "remove":
		return c.usersRemove(ctx, rest)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.stdout, `usage:
  callvault users list [--json]
  callvault users add USERNAME --name "Full Name" --ext EXT[,EXT] [--mode always|on-demand|live-keep]
                     [--direction in|out|both] [--external only|any]
  callvault users edit USERNAME [--name "Full Name"] [--ext EXT[,EXT]] [--mode MODE]
                     [--direction in|out|both] [--external only|any]
  callvault users rm USERNAME
`)
		return nil
	default:
		return usagef("users: unknown subcommand %q (add, edit, list, rm)", sub)
	}
}

func (c *cli) usersList(ctx context.Context, args []string) error {
	asJSON, err := c.jsonOnly("users list", args)
	if err != nil {
		return err
	}
	users, err := c.client.Users(ctx)
	if err != nil {
		return err
	}
	return printList(c, asJSON, users, "no users", "USERNAME\tFULL NAME\tEXTENSIONS\tMODE",
		func(u control.User) string {
			return fmt.Sprintf("%s\t%s\t%s\t%s", u.Username, dash(u.FullName), dash(strings.Join(u.Extensions, ",")), modeAndFilters(u))
		})
}

func (c *cli) usersAdd(ctx context.Context, args []string) error {
	fs := c.flags("users add", `users add USERNAME --name "Full Name" --ext EXT[,EXT] [--mode always|on-demand|live-keep] [--direction in|out|both] [--external only|any] [--retention MONTHS]`)
	var u control.User
	fs.StringVar(&u.FullName, "name", "", "the user's first and last `name`")
	var exts listFlag
	fs.Var(&exts, "ext", "the user's `extensions`, comma-separated or repeated")
	fs.StringVar(&u.Mode, "mode", control.ModeAlways, "recording `mode`: always, on-demand or live-keep")
	fs.StringVar(&u.Direction, "direction", "", "record only the user's inbound (in) or outbound (out) calls, or both (default: [policy] direction)")
	fs.StringVar(&u.External, "external", "", "record only calls with an external remote number (only), or any (default: [policy] external)")
	fs.IntVar(&u.RetentionMonths, "retention", 0, "keep the user's recordings `months` before the purge removes them (default: [retention] months)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if u.Username, err = oneID("users add", "USERNAME", pos); err != nil {
		return err
	}
	u.Extensions = exts
	if len(u.Extensions) == 0 {
		return usagef("users add: missing --ext EXT[,EXT]")
	}
	if err := u.Validate(); err != nil {
		return &usageError{err: fmt.Errorf("users add: %w", err)}
	}
	if err := c.client.AddUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "added user %s (%s, ext %s, mode %s)\n", u.Username, dash(u.FullName),
		strings.Join(u.Extensions, ","), modeAndFilters(u))
	return nil
}

// modeAndFilters is a user's mode and, when set, the filters of their
// calls: "on-demand, inbound only, external only".
func modeAndFilters(u control.User) string {
	s := u.Mode
	switch u.Direction {
	case control.FilterIn:
		s += ", inbound only"
	case control.FilterOut:
		s += ", outbound only"
	case control.FilterBoth:
		s += ", both directions"
	}
	switch u.External {
	case control.FilterOnly:
		s += ", external only"
	case control.FilterAny:
		s += ", any number"
	}
	if u.RetentionMonths > 0 {
		s += fmt.Sprintf(", kept %d months", u.RetentionMonths)
	}
	return s
}

// usersEdit changes what its flags name of an existing user; the rest
// stays as it is.
func (c *cli) usersEdit(ctx context.Context, args []string) error {
	fs := c.flags("users edit", `users edit USERNAME [--name "Full Name"] [--ext EXT[,EXT]] [--mode always|on-demand|live-keep] [--direction in|out|both] [--external only|any] [--retention MONTHS]`)
	var name, mode, direction, external string
	var exts listFlag
	fs.StringVar(&name, "name", "", "the user's first and last `name`")
	fs.Var(&exts, "ext", "the user's `extensions`, comma-separated or repeated (they replace the old ones)")
	fs.StringVar(&mode, "mode", "", "recording `mode`: always, on-demand or live-keep")
	fs.StringVar(&direction, "direction", "", "record only the user's inbound (in) or outbound (out) calls, or both")
	fs.StringVar(&external, "external", "", "record only calls with an external remote number (only), or any")
	retention := fs.Int("retention", 0, "keep the user's recordings `months` before the purge removes them (0: [retention] months)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	username, err := oneID("users edit", "USERNAME", pos)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["name"] && !set["ext"] && !set["mode"] && !set["direction"] && !set["external"] && !set["retention"] {
		return usagef("users edit: nothing to change (--name, --ext, --mode, --direction, --external, --retention)")
	}
	users, err := c.client.Users(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(users, func(u control.User) bool { return u.Username == username })
	if i < 0 {
		return fmt.Errorf("users edit: %w: user %q", control.ErrNotFound, username)
	}
	u := users[i]
	if set["name"] {
		u.FullName = name
	}
	if set["ext"] {
		u.Extensions = exts
	}
	if set["mode"] {
		u.Mode = mode
	}
	if set["direction"] {
		u.Direction = direction
	}
	if set["external"] {
		u.External = external
	}
	if set["retention"] {
		u.RetentionMonths = *retention
	}
	if err := u.Validate(); err != nil {
		return &usageError{err: fmt.Errorf("users edit: %w", err)}
	}
	if err := c.client.UpdateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "updated user %s (%s, ext %s, mode %s)\n", u.Username, dash(u.FullName),
		strings.Join(u.Extensions, ","), modeAndFilters(u))
	return nil
}

func (c *cli) usersRemove(ctx context.Context, args []string) error {
	fs := c.flags("users rm", "users rm USERNAME")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	name, err := oneID("users rm", "USERNAME", pos)
	if err != nil {
		return err
	}
	if err := c.client.RemoveUser(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "removed user %s\n", name)
	return nil
}
