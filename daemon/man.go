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

// The manual page callvaultd(8), printed by the hidden `callvaultd
// -print-man` for the Debian package. Its options and subcommands come
// from the daemon's own flag sets and its table of offline subcommands
// (run with -h, as a user would), so the page cannot drift from the
// binary; the prose around them lives here.

// manFlagName is the hidden flag that prints the manual page.
const manFlagName = "-print-man"

// manHook prints the manual page to stdout and reports true when args ask
// for it; main then returns.
func manHook(args []string) bool {
	if len(args) != 1 || args[0] != manFlagName {
		return false
	}
	if err := writeDaemonMan(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "callvaultd:", err)
		os.Exit(1)
	}
	return true
}

// manSynopsis is the daemon's synopsis; it also names each flag's argument.
const manSynopsis = "[-config FILE] [-data DIR] [-sip HOST:PORT] [-control PATH] [-rtp-ports LO-HI]"

// manCommand describes an offline subcommand: its words after
// "callvaultd", its synopsis (which names its flags' arguments) and what
// it does.
type manCommand struct {
	path, synopsis, text string
}

var manCommands = []manCommand{
	{"verify", "[-config FILE] [-data DIR]",
		"Authenticates every recording of a data directory without a running daemon (the index is locked while one runs) and prints one line per file: id, status, file, detail. Exits 1 unless every file is intact."},
	{"reindex", "[-config FILE] [-data DIR]",
		"Rebuilds the index of a data directory from the recording files alone; the old index is kept beside it until you remove it."},
	{"license keygen", "-out DIR",
		"Writes a new licence signing key to DIR/license.key (mode 0600) and prints its public key, for [license] public_keys. Run it on the issuer's machine, not the recorder's."},
	{"license issue", "-key FILE -customer NAME -model user|channel -count N [-expires YYYY-MM-DD]",
		"Prints a licence file signed with the key; it is valid to the end of its expiry day (UTC), or for ever without -expires."},
}

// manFlag is one flag as its flag set's help lists it.
type manFlag struct {
	name, arg, usage string
}

// helpOf runs the daemon's command line args followed by -h, as a user
// would, and returns what it printed. Nothing else runs: -h stops every
// command at its flag parsing.
func helpOf(args ...string) string {
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run(ctx, append(slices.Clone(args), "-h"), &out, &out)
	return out.String()
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

// argOf is the argument a synopsis names for flag name ("-data DIR" gives
// DIR), else the type the help printed.
func argOf(synopsis string, f manFlag) string {
	words := strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(synopsis))
	if i := slices.Index(words, "-"+f.name); i >= 0 && i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") {
		return words[i+1]
	}
	return strings.ToUpper(f.arg)
}

// offlineCommands lists the subcommands to describe: those of manCommands
// whose first word the daemon still has, then any other of its offline
// subcommands, with no text but its flags.
func offlineCommands() []manCommand {
	var cmds []manCommand
	seen := map[string]bool{}
	for _, c := range manCommands {
		first, _, _ := strings.Cut(c.path, " ")
		if _, ok := offline[first]; ok {
			cmds = append(cmds, c)
			seen[first] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(offline)) {
		if !seen[name] {
			cmds = append(cmds, manCommand{path: name})
		}
	}
	return cmds
}

// writeDaemonMan writes callvaultd(8) in roff.
func writeDaemonMan(w io.Writer) error {
	r := newRoff()
	r.macro("TH", "CALLVAULTD", "8", "", "callvault "+version, "System Administration")
	r.section("NAME")
	r.text("callvaultd - SIPREC call-recording daemon")
	r.section("SYNOPSIS")
	r.synopsis("callvaultd", manSynopsis)
	for _, c := range offlineCommands() {
		r.macro("br")
		r.synopsis("callvaultd "+c.path, c.synopsis)
	}
	r.section("DESCRIPTION")
	r.paragraphs(daemonDescription)
	r.section("OPTIONS")
	r.flags(manSynopsis, parseDefaults(helpOf()))
	r.section("COMMANDS")
	for _, c := range offlineCommands() {
		r.subsection("callvaultd " + c.path)
		if c.text != "" {
			r.text(c.text)
		}
		r.flags(c.synopsis, parseDefaults(helpOf(strings.Fields(c.path)...)))
	}
	r.section("SIGNALS")
	r.definitions(daemonSignals)
	r.section("ENVIRONMENT")
	r.definitions(daemonEnvironment)
	r.section("FILES")
	r.definitions(daemonFiles)
	r.section("SEE ALSO")
	r.text("callvault(1), systemd.service(5), systemd.exec(5), /usr/share/doc/callvault/README.md")
	_, err := io.WriteString(w, r.String())
	return err
}

const daemonDescription = `callvaultd answers SIPREC recording sessions (RFC 7866) from Cisco CUBE and other SIPREC clients, receives both RTP legs of each call (G.711 and G.729A, SRTP with SDES keys), mixes them into a 32 kbps MP3 with ID3 tags, encrypts it with AES-256-GCM while the call runs and files it under the data directory, indexed for search. The callvault console talks to it over a unix socket.

Without -config the built-in defaults serve; a configuration file (TOML) changes only the keys it names, and the flags below override both. Unknown keys and bad values are reported all at once and the daemon does not start. The daemon tells systemd READY=1 once it listens and pings the watchdog when one is set.

The subcommands below work on a data directory without a running daemon.`

// definition is a term and its text, for the SIGNALS, ENVIRONMENT and
// FILES sections.
type definition struct{ term, text string }

var daemonSignals = []definition{
	{"SIGTERM, SIGINT", "Drain: new INVITEs get 503, live calls are sealed, then the daemon exits. A second one stops it at once."},
	{"SIGQUIT", "Stop at once; calls not sealed yet stay as .part files and are recovered at the next start."},
	{"SIGHUP", "Re-read the configuration file and apply what can change without dropping a call; a file with an error changes nothing (systemctl reload callvaultd)."},
}

var daemonEnvironment = []definition{
	{"CALLVAULT_LOG", "Log level: debug, info (the default), warn or error. Logs go to standard error, the journal under systemd."},
	{"CREDENTIALS_DIRECTORY", "Set by systemd's LoadCredential=. When it holds callvault.kek (32 raw bytes or 64 hex characters) that is the key-encryption key, instead of DATA/keys/kek; a bare tls_key name is read from it too."},
	{"NOTIFY_SOCKET, WATCHDOG_USEC", "Set by systemd for Type=notify and WatchdogSec=."},
}

var daemonFiles = []definition{
	{"/etc/callvault/callvaultd.toml", "The configuration file of the packaged service."},
	{"/var/lib/callvault", "The data directory: records/ (the encrypted recordings), index/, keys/, users.json."},
	{"/var/lib/callvault/keys/kek", "The key-encryption key (mode 0600): without it no recording can be read. Back it up apart from the recordings."},
	{"/run/callvault/control.sock", "The control socket of the console; the peer's user and groups (callvault, callvault-noc) decide what it may do."},
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
	for i, p := range strings.Split(s, "\n\n") {
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

// flags writes one tagged paragraph per flag, its argument named as the
// synopsis names it.
func (r *roff) flags(synopsis string, flags []manFlag) {
	for _, f := range flags {
		r.macro("TP")
		if arg := argOf(synopsis, f); arg != "" {
			r.macro("BI", "-"+f.name+" ", arg)
		} else {
			r.macro("B", "-"+f.name)
		}
		r.text(f.usage)
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
