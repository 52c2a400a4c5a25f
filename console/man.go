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

// manFlag is one flag as its flag set's help lists it.
type manFlag struct {
	name, arg, usage string
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
func commandHelp(path []string) (synopsis string, flags []manFlag) {
	help := helpOf(path...)
	if first, _, _ := strings.Cut(help, "\n"); strings.HasPrefix(first, "usage: callvault ") {
		synopsis = strings.TrimPrefix(first, "usage: callvault ")
	}
	for _, f := range parseDefaults(help) {
		if f.name != "socket" {
			flags = append(flags, f)
		}
	}
	return synopsis, flags
}

// parseDefaults reads the flags out of flag.PrintDefaults' text: a line
// "  -name type" (or "  -x\tusage") per flag, then "    \tusage" lines.
func parseDefaults(help string) []manFlag {
	var flags []manFlag
	for line := range strings.SplitSeq(help, "\n") {
		switch {
		case strings.HasPrefix(line, "    \t") && len(flags) > 0:
			f := &flags[len(flags)-1]
			f.usage = strings.TrimSpace(f.usage + " " + strings.TrimPrefix(line, "    \t"))
		case strings.HasPrefix(line, "  -"):
			head, usage, _ := strings.Cut(strings.TrimPrefix(line, "  -"), "\t")
			name, arg, _ := strings.Cut(head, " ")
			flags = append(flags, manFlag{name: name, arg: arg, usage: usage})
		}
	}
	return flags
}

// synopsisWords splits a synopsis into words, a quoted phrase ("Full
// Name") being one, and an option's brackets dropped.
func synopsisWords(synopsis string) []string {
	var words []string
	for i, part := range strings.Split(synopsis, `"`) {
		if i%2 == 1 {
			words = append(words, `"`+part+`"`)
			continue
		}
		for _, w := range strings.Fields(part) {
			w = strings.TrimPrefix(w, "[")
			if strings.Count(w, "]") > strings.Count(w, "[") {
				w = strings.TrimSuffix(w, "]")
			}
			words = append(words, w)
		}
	}
	return words
}

// argOf is the argument a synopsis names for flag f ("--ext EXT[,EXT]"
// gives EXT[,EXT]), else the one its help printed, in capitals.
func argOf(synopsis string, f manFlag) string {
	if f.arg == "" {
		return ""
	}
	words := synopsisWords(synopsis)
	for i, w := range words[:max(len(words)-1, 0)] {
		if (w == "--"+f.name || w == "-"+f.name) && !strings.HasPrefix(words[i+1], "-") {
			return words[i+1]
		}
	}
	return strings.ToUpper(f.arg)
}

// writeConsoleMan writes callvault(1) in roff.
func writeConsoleMan(w io.Writer) error {
	r := newRoff()
	r.macro("TH", "CALLVAULT", "1", "", "callvault "+version, "User Commands")
	r.section("NAME")
	r.text("callvault - console and command line of the callvault call recorder")
	r.section("SYNOPSIS")
	r.synopsis("callvault", "[-socket PATH]")
	r.macro("br")
	r.synopsis("callvault", "[-socket PATH] COMMAND [ARGUMENTS]")
	r.section("DESCRIPTION")
	r.paragraphs(consoleDescription)
	r.section("OPTIONS")
	r.definitions(consoleOptions)
	r.section("COMMANDS")
	for _, e := range consoleEntries() {
		r.command(e)
	}
	_, closing := usageParts(usage)
	r.section("NOTES")
	r.paragraphs(closing)
	r.section("ENVIRONMENT")
	r.definitions(consoleEnvironment)
	r.section("SEE ALSO")
	r.text("callvaultd(8), /usr/share/doc/callvault/README.md")
	_, err := io.WriteString(w, r.String())
	return err
}

// command writes one command: its name, synopsis, text and flags.
func (r *roff) command(e manEntry) {
	synopsis, flags := e.synopsis, []manFlag(nil)
	if len(e.path) > 0 && commands[e.path[0]] != nil {
		var own string
		if own, flags = commandHelp(e.path); own != "" {
			synopsis = own
		}
	}
	r.subsection("callvault " + strings.Join(e.path, " "))
	r.synopsis("callvault", synopsis)
	if e.text != "" {
		r.macro("PP")
		r.text(e.text)
	}
	for _, f := range flags {
		r.macro("TP")
		if arg := argOf(synopsis, f); arg != "" {
			r.macro("BI", dashed(f.name)+" ", arg)
		} else {
			r.macro("B", dashed(f.name))
		}
		r.text(f.usage)
	}
}

// dashed is a flag as the help text writes it: --json, but -o.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

const consoleDescription = `callvault talks to callvaultd, the call-recording daemon, over its control socket: status, live calls, search, export, users, licences. With no command, on a terminal, it opens the interactive console (a dashboard, recordings, users, the licence, the sizing calculator and alarms); with a command it is a scriptable command line whose commands print text, or JSON with --json.

What a user may do is decided by the daemon from the user and groups of the process: members of the callvault group (and root) may do everything; members of callvault-noc may watch and search, not export audio or change users, licences and recordings.`

// definition is a term and its text, for the OPTIONS and ENVIRONMENT
// sections.
type definition struct{ term, text string }

var consoleOptions = []definition{
	{"-socket PATH", "The daemon's control socket; also accepted after any command that talks to the daemon. Without it, $CALLVAULT_SOCKET, else /run/callvault/control.sock."},
}

var consoleEnvironment = []definition{
	{"CALLVAULT_SOCKET", "The control socket, when -socket is not given."},
}

// roff builds a manual page in the man macros.
type roff struct{ strings.Builder }

func newRoff() *roff { return &roff{} }

// escape makes s literal roff text: backslashes and minus signs escaped,
// and a leading dot or quote kept from reading as a request.
func escape(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// macro writes a request with its arguments, each quoted.
func (r *roff) macro(name string, args ...string) {
	r.WriteString("." + name)
	for _, a := range args {
		r.WriteString(` "` + strings.ReplaceAll(escape(a), `"`, `\(dq`) + `"`)
	}
	r.WriteString("\n")
}

func (r *roff) section(name string)    { r.macro("SH", name) }
func (r *roff) subsection(name string) { r.macro("SS", name) }

// text writes a line of running text.
func (r *roff) text(s string) { r.WriteString(escape(s) + "\n") }

// paragraphs writes text whose paragraphs are separated by blank lines.
func (r *roff) paragraphs(s string) {
	for i, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if i > 0 {
			r.macro("PP")
		}
		r.text(strings.Join(strings.Fields(p), " "))
	}
}

// synopsis writes a command in bold and its arguments.
func (r *roff) synopsis(command, args string) {
	r.macro("B", command)
	if args != "" {
		r.text(args)
	}
}

// definitions writes one tagged paragraph per term.
func (r *roff) definitions(defs []definition) {
	for _, d := range defs {
		r.macro("TP")
		r.macro("B", d.term)
		r.text(d.text)
	}
}
