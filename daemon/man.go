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
	{"reindex", "[-config FILE] [-data DIR] [-from-target]",
		"Rebuilds the index of a data directory from its recording files; the old index is kept beside it until you remove it. With -from-target it also indexes the recordings on every [[storage.target]] of the configuration, all nodes' (as evicted, read from their copies; they must share this node's key)."},
	{"check-config", "[-config FILE]",
		"Checks a configuration file as the daemon would read it (the built-in defaults, then the file) and prints the effective configuration as TOML; every problem, unreadable target credential files included, is listed and it exits 1."},
	{"audit verify", "[-config FILE] [-data DIR]",
		"Checks the audit trail of a data directory offline (the daemon stopped): every entry's hash link and the index head. Names the first broken entry and exits 1 when the chain is broken."},
	{"license keygen", "-out DIR",
		"Writes a new licence signing key to DIR/license.key (mode 0600) and prints its public key, for [license] public_keys. Run it on the issuer's machine, not the recorder's."},
	{"license issue", "-key FILE -customer NAME -model user|channel -count N [-expires YYYY-MM-DD]",
		"Prints a licence file signed with the key; it is valid to the end of its expiry day (UTC), or for ever without -expires."},
	{"keys rotate", "[-config FILE] [-data DIR]",
		"Makes a new key-encryption key current, with the daemon stopped, and prints the old and new key ids. The old key is kept as DATA/keys/kek-<id> (mode 0600) so that older recordings stay readable; new recordings use the new key. Back up DATA/keys/kek afterwards. With the key from the systemd credential it refuses and says how to rotate by hand: keep the current key as DATA/keys/kek-<id>, install a new credential, restart."},
	{"keys rewrap", "[-config FILE] [-data DIR]",
		"With the daemon stopped, rewraps the data key of every recording written under an older key to the current key, in place (no audio is re-encrypted), updates each file's SHA-256 in the index and queues its copies to be made again. It can be run again after an interruption. It prints the counts and the rm command for each old key file no recording needs any more. Exits 1 when a file could not be rewrapped."},
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
	page := manpage.Page{Name: "CALLVAULTD", Section: "8", Source: "callvault " + version, Manual: "System Administration",
		Sections: []manpage.Section{
			manpage.NewSection("NAME", manpage.Text("callvaultd - SIPREC call-recording daemon")),
			manpage.NewSection("SYNOPSIS", daemonSynopses()...),
			manpage.NewSection("DESCRIPTION", manpage.Paragraphs(daemonDescription)),
			manpage.NewSection("OPTIONS", manpage.Flags(manSynopsis, manpage.SingleDash, manpage.ParseDefaults(helpOf()))),
			manpage.NewSection("COMMANDS", daemonCommandBlocks()...),
			manpage.NewSection("SIGNALS", manpage.Definitions(daemonSignals)),
			manpage.NewSection("ENVIRONMENT", manpage.Definitions(daemonEnvironment)),
			manpage.NewSection("FILES", manpage.Definitions(daemonFiles)),
			manpage.NewSection("SEE ALSO", manpage.Text("callvault(1), systemd.service(5), systemd.exec(5), /usr/share/doc/callvault/README.md")),
		}}
	return page.Write(w)
}

// daemonSynopses is the daemon's synopsis, then each offline
// subcommand's on a line of its own.
func daemonSynopses() []manpage.Block {
	blocks := []manpage.Block{manpage.Synopsis("callvaultd", manSynopsis)}
	for _, c := range offlineCommands() {
		blocks = append(blocks, manpage.Break(), manpage.Synopsis("callvaultd "+c.path, c.synopsis))
	}
	return blocks
}

// daemonCommandBlocks describes each offline subcommand: a subsection
// with its text and the flags its help lists.
func daemonCommandBlocks() []manpage.Block {
	var blocks []manpage.Block
	for _, c := range offlineCommands() {
		blocks = append(blocks, manpage.Subsection("callvaultd "+c.path))
		if c.text != "" {
			blocks = append(blocks, manpage.Text(c.text))
		}
		flags := manpage.ParseDefaults(helpOf(strings.Fields(c.path)...))
		blocks = append(blocks, manpage.Flags(c.synopsis, manpage.SingleDash, flags))
	}
	return blocks
}

const daemonDescription = `callvaultd answers SIPREC recording sessions (RFC 7866) from Cisco CUBE and other SIPREC clients, receives both RTP legs of each call (G.711 and G.729A, SRTP with SDES keys), mixes them into a 32 kbps MP3 with ID3 tags, encrypts it with AES-256-GCM while the call runs and files it under the data directory, indexed for search. The callvault console talks to it over a unix socket.

Without -config the built-in defaults serve; a configuration file (TOML) changes only the keys it names, and the flags below override both. Unknown keys and bad values are reported all at once and the daemon does not start. The daemon tells systemd READY=1 once it listens and pings the watchdog when one is set.

The subcommands below work on a data directory without a running daemon.`

var daemonSignals = []manpage.Definition{
	{Term: "SIGTERM, SIGINT", Text: "Drain: new INVITEs get 503, live calls are sealed, then the daemon exits. A second one stops it at once."},
	{Term: "SIGQUIT", Text: "Stop at once; calls not sealed yet stay as .part files and are recovered at the next start."},
	{Term: "SIGHUP", Text: "Re-read the configuration file and apply what can change without dropping a call; a file with an error changes nothing (systemctl reload callvaultd)."},
}

var daemonEnvironment = []manpage.Definition{
	{Term: "CALLVAULT_LOG", Text: "Log level: debug, info (the default), warn or error. Logs go to standard error, the journal under systemd."},
	{Term: "CREDENTIALS_DIRECTORY", Text: "Set by systemd's LoadCredential=. When it holds callvault.kek (32 raw bytes or 64 hex characters) that is the key-encryption key, instead of DATA/keys/kek; a bare tls_key name is read from it too."},
	{Term: "NOTIFY_SOCKET, WATCHDOG_USEC", Text: "Set by systemd for Type=notify and WatchdogSec=."},
}

var daemonFiles = []manpage.Definition{
	{Term: "/etc/callvault/callvaultd.toml", Text: "The configuration file of the packaged service."},
	{Term: "/var/lib/callvault", Text: "The data directory: records/ (the encrypted recordings), index/, keys/, users.json."},
	{Term: "/var/lib/callvault/keys/kek", Text: "The key-encryption key (mode 0600): without it no recording can be read. Back it up apart from the recordings."},
	{Term: "/run/callvault/control.sock", Text: "The control socket of the console; the peer's user and groups (callvault, callvault-noc) decide what it may do."},
}
