package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/callvault/callvault/console/tui"
	"github.com/callvault/callvault/daemon/control"
)

const usage = `usage: callvault [-socket PATH] <command> [arguments]

Commands:
  status                 daemon status (version, uptime, calls, CPS, disk)
  calls                  live calls
  search [--from T] [--to T] [--user U] [--ext E] [--remote R]
         [--direction IN|OUT] [--limit N]
                         find recordings
  show ID                all fields of one recording
  export ID -o FILE      write the decrypted MP3 to FILE (- for stdout); a
                         damaged recording is refused and nothing is written
  verify ID|--all        authenticate recordings: intact, tampered, truncated,
                         missing or unindexed; exits 1 unless all are intact
  users list             recorded users
  users add USERNAME --name "Full Name" --ext EXT[,EXT] [--mode always|on-demand|live-keep]
  users edit USERNAME [--name N] [--ext E] [--mode M] [--direction D] [--external X]
                         change what the flags name of a user
  users rm USERNAME      remove a user
  record start|stop|keep|pause|resume EXT|ID
                         act on the recording of a live call, found by its
                         owner's extension or its record id: start and stop
                         (on-demand), keep (live-keep), pause and resume
  license show           the licence in force and its use
  license install FILE   verify a licence file and put it in force
  storage status         copies off the box: backlog, targets, throughput
  audit [--id ID] [--from T] [--to T]
                         the audit trail: who did what to which recording
  audit verify           check the audit trail's hash chain; exits 1 where
                         it breaks
  hold add|rm ID...|--user U|--from T --to T --reason TEXT
                         put recordings under legal hold (no purge removes
                         them), or lift it
  purge [--dry-run]      remove what retention no longer keeps
  purge --before T --reason TEXT [--dry-run]
                         remove every unheld recording that started before T
  erase ID --reason TEXT  erase a recording for good (its data key first);
                         refused under legal hold
  keys rotate            a new key-encryption key for new recordings; the old
                         one still reads the older ones (then callvaultd keys rewrap)
  calc disk --agents N --hours H [--service 8x6|24x7 | --days D] --months M
                         disk that recordings fill over their retention
  calc channels --bhca N --duration SECONDS [--gos 0.01]
                         busy-hour traffic, channels (Erlang B), calls a second
  calc table             the published disk sizing examples, as computed
  help                   this text

Commands that print data take --json. "callvault COMMAND -h" describes a
command's flags. The socket is -socket, else $CALLVAULT_SOCKET, else
/run/callvault/control.sock. calc works offline, without the daemon.
"callvault" with no command, on a terminal, opens the interactive console:
F1-F6 (or 1-6) switch screens, / searches, ? helps, q quits.
`

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// exitCode is 2 for usage errors and 1 for the others.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// errHelp reports that a command printed its help; run returns nil.
var errHelp = errors.New("help shown")

// cli is what the commands share.
type cli struct {
	client *control.Client
	stdout io.Writer
	stderr io.Writer
}

type commandFunc func(c *cli, ctx context.Context, args []string) error

var commands = map[string]commandFunc{
	"status":  (*cli).status,
	"calls":   (*cli).calls,
	"search":  (*cli).search,
	"show":    (*cli).show,
	"export":  (*cli).export,
	"verify":  (*cli).verify,
	"users":   (*cli).users,
	"record":  (*cli).record,
	"license": (*cli).license,
	"calc":    (*cli).calc,
	"storage": (*cli).storage,
	"audit":   (*cli).audit,
	"purge":   (*cli).purge,
	"hold":    (*cli).hold,
	"keys":    (*cli).keys,
	"erase":   (*cli).erase,
}

// run is the whole program: main only adds the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("callvault", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	socket := fs.String("socket", "", "control socket `path`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		return usagef("%w (see callvault help)", err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		if isTerminal(stdout) {
			return tui.Run(ctx, &control.Client{Socket: *socket}, nil)
		}
		fmt.Fprint(stderr, usage)
		return usagef("no command given, and no terminal for the interactive console")
	}
	name, rest := rest[0], rest[1:]
	switch name {
	case "help", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, ok := commands[name]
	if !ok {
		return usagef("unknown command %q (commands: %s; see callvault help)", name, commandNames())
	}
	c := &cli{client: &control.Client{Socket: *socket}, stdout: stdout, stderr: stderr}
	err := cmd(c, ctx, rest)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// isTerminal reports whether w is a terminal (a character device): the
// interactive console opens only there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func commandNames() string {
	names := slices.Sorted(maps.Keys(commands))
	return strings.Join(names, ", ")
}

// flags is a command's flag set. Flags may come before, between and after
// the positional arguments.
type flags struct {
	*flag.FlagSet
	synopsis string
	c        *cli
}

func (c *cli) flags(name, synopsis string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&c.client.Socket, "socket", c.client.Socket, "control socket `path`")
	return &flags{FlagSet: fs, synopsis: synopsis, c: c}
}

// jsonOnly parses the arguments of a command whose synopsis is
// "NAME [--json]": no positional arguments, and --json.
// subcommand is one verb of a command with verbs (license show, ...).
type subcommand struct {
	name  string
	usage string // its usage line, after "callvault "
	run   func(args []string) error
}

// dispatch runs the verb args[0] of command name; help lists the verbs'
// usage lines.
func (c *cli) dispatch(name string, args []string, subs []subcommand) error {
	var names []string
	for _, s := range subs {
		names = append(names, s.name)
	}
	list := strings.Join(names, ", ")
	if len(args) == 0 {
		return usagef("%s: missing subcommand (%s)", name, list)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(c.stdout, "usage:")
		for _, s := range subs {
			fmt.Fprintf(c.stdout, "  callvault %s\n", s.usage)
		}
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(args[1:])
		}
	}
	return usagef("%s: unknown subcommand %q (%s)", name, args[0], list)
}

func (c *cli) jsonOnly(name string, args []string) (asJSON bool, err error) {
	fs := c.flags(name, name+" [--json]")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return false, err
	}
	if len(pos) > 0 {
		return false, usagef("%s: unexpected argument %q", name, pos[0])
	}
	return asJSON, nil
}

// parse parses args, flags and positional arguments in any order ("--"
// ends the flags), and returns the positional ones. After -h it prints the
// command's help and returns errHelp.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(f.c.stdout, "usage: callvault %s\n\nFlags:\n", f.synopsis)
				f.SetOutput(f.c.stdout)
				f.PrintDefaults()
				f.SetOutput(io.Discard)
				return nil, errHelp
			}
			return nil, usagef("%s: %w", f.Name(), err)
		}
		rest := f.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// listFlag collects comma-separated values, from one or repeated flags.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
