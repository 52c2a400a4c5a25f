package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/callvault/callvault/internal/manpage"
)

// The manual page callvault(1), printed by the hidden `callvault help
// --man` for the Debian package. Its commands come from the help text and
// the command table, each command's flags from its own flag set (run with
// -h, as a user would), so the page cannot drift from the binary; the
// prose around them lives here.

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// manHook prints the manual page to stdout and reports true when args
// are "help --man"; main then returns.
func manHook(args []string) bool {
	if !slices.Equal(args, []string{"help", "--man"}) {
		return false
	}
	if err := writeConsoleMan(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "callvault:", err)
		os.Exit(1)
	}
	return true
}

// manEntry is one command of the page: the words that name it, the
// synopsis it shows and what it does.
type manEntry struct {
	path     []string
	synopsis string
	text     string
}

// helpOf runs the command line args followed by -h, as a user would, and
// returns what it printed. No command reaches the daemon: -h stops each
// at its flag parsing, and the context is already done.
func helpOf(args ...string) string {
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run(ctx, append(slices.Clone(args), "-h"), &out, io.Discard)
	return out.String()
}

// usageParts splits the help text into its commands section and the
// paragraphs after it.
func usageParts(help string) (commandLines []string, closing string) {
	_, rest, _ := strings.Cut(help, "\nCommands:\n")
	section, closing, _ := strings.Cut(rest, "\n\n")
	return strings.Split(section, "\n"), closing
}

// parseCommands reads the help text's command list: an entry starts at
// an indent of two, goes on with deeper synopsis lines, and its
// description starts after a gap of two spaces or at the column
// descriptions are aligned to.
func parseCommands(lines []string) []manEntry {
	const descColumn = 25
	var entries []manEntry
	for _, line := range lines {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		body := strings.TrimSpace(line)
		if body == "" {
			continue
		}
		if indent == 2 || len(entries) == 0 {
			entries = append(entries, manEntry{})
		}
		e := &entries[len(entries)-1]
		if indent >= descColumn {
			e.text = joinWords(e.text, body)
			continue
		}
		syn, desc, _ := strings.Cut(body, "  ")
		e.synopsis = joinWords(e.synopsis, syn)
		e.text = joinWords(e.text, desc)
	}
	for i := range entries {
		entries[i].path = commandPath(entries[i].synopsis)
	}
	return entries
}

func joinWords(a, b string) string {
	return strings.Join(strings.Fields(a+" "+b), " ")
}

// commandPath is the leading lower-case words of a synopsis: the command
// and its subcommand ("users add USERNAME ..." gives users, add).
func commandPath(synopsis string) []string {
	var path []string
	for _, w := range strings.Fields(synopsis) {
		if strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			break
		}
		path = append(path, w)
	}
	return path
}

// consoleEntries are the help text's commands, then any command of the
// table the help does not list.
func consoleEntries() []manEntry {
	lines, _ := usageParts(usage)
	entries := parseCommands(lines)
	listed := map[string]bool{}
	for _, e := range entries {
		if len(e.path) > 0 {
			listed[e.path[0]] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		if !listed[name] {
			entries = append(entries, manEntry{path: []string{name}, synopsis: name})
		}
	}
	return entries
}

// commandHelp is a command's own help: its synopsis ("usage: callvault
// SYNOPSIS") and flags, -socket left out (OPTIONS describes it).
func commandHelp(path []string) (synopsis string, flags []manpage.Flag) {
	help := helpOf(path...)
	if first, _, _ := strings.Cut(help, "\n"); strings.HasPrefix(first, "usage: callvault ") {
		synopsis = strings.TrimPrefix(first, "usage: callvault ")
	}
	for _, f := range manpage.ParseDefaults(help) {
		if f.Name != "socket" {
			flags = append(flags, f)
		}
	}
	return synopsis, flags
}

// writeConsoleMan writes callvault(1) in roff.
func writeConsoleMan(w io.Writer) error {
	_, closing := usageParts(usage)
	page := manpage.Page{Name: "CALLVAULT", Section: "1", Source: "callvault " + version, Manual: "User Commands",
		Sections: []manpage.Section{
			manpage.NewSection("NAME", manpage.Text("callvault - console and command line of the callvault call recorder")),
			manpage.NewSection("SYNOPSIS", manpage.Synopsis("callvault", "[-socket PATH]"), manpage.Break(),
				manpage.Synopsis("callvault", "[-socket PATH] COMMAND [ARGUMENTS]")),
			manpage.NewSection("DESCRIPTION", manpage.Paragraphs(consoleDescription)),
			manpage.NewSection("OPTIONS", manpage.Definitions(consoleOptions)),
			manpage.NewSection("COMMANDS", consoleCommandBlocks()...),
			manpage.NewSection("NOTES", manpage.Paragraphs(closing)),
			manpage.NewSection("ENVIRONMENT", manpage.Definitions(consoleEnvironment)),
			manpage.NewSection("SEE ALSO", manpage.Text("callvaultd(8), /usr/share/doc/callvault/README.md")),
		}}
	return page.Write(w)
}

// consoleCommandBlocks describes each command: its name, synopsis, text
// and flags, the synopsis and flags from its own help where it has one.
func consoleCommandBlocks() []manpage.Block {
	var blocks []manpage.Block
	for _, e := range consoleEntries() {
		synopsis, flags := e.synopsis, []manpage.Flag(nil)
		if len(e.path) > 0 && commands[e.path[0]] != nil {
			var own string
			if own, flags = commandHelp(e.path); own != "" {
				synopsis = own
			}
		}
		blocks = append(blocks, manpage.Subsection("callvault "+strings.Join(e.path, " ")), manpage.Synopsis("callvault", synopsis))
		if e.text != "" {
			blocks = append(blocks, manpage.Paragraph(e.text))
		}
		blocks = append(blocks, manpage.Flags(synopsis, manpage.DoubleDash, flags))
	}
	return blocks
}

const consoleDescription = `callvault talks to callvaultd, the call-recording daemon, over its control socket: status, live calls, search, export, users, licences. With no command, on a terminal, it opens the interactive console (a dashboard, recordings, users, the licence, the sizing calculator and alarms); with a command it is a scriptable command line whose commands print text, or JSON with --json.

What a user may do is decided by the daemon from the user and groups of the process: members of the callvault group (and root) may do everything; members of callvault-noc may watch and search, not export audio or change users, licences and recordings.`

var consoleOptions = []manpage.Definition{
	{Term: "-socket PATH", Text: "The daemon's control socket; also accepted after any command that talks to the daemon. Without it, $CALLVAULT_SOCKET, else /run/callvault/control.sock."},
}

var consoleEnvironment = []manpage.Definition{
	{Term: "CALLVAULT_SOCKET", Text: "The control socket, when -socket is not given."},
}
