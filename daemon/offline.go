package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/callvault/callvault/vault"
)

// offline are the subcommands that work on a data dir without a running
// daemon (the index is locked while one runs).
var offline = map[string]func(args []string, stdout, stderr io.Writer) error{
	"verify":       runVerify,
	"reindex":      runReindex,
	"license":      runLicense,
	"check-config": runCheckConfig,
	"audit":        runAudit,
	"keys":         runKeys,
}

// offlineStore parses -config and -data (and the flags more adds) and
// returns the vault configuration they describe, with the parsed
// configuration.
func offlineStore(name string, args []string, stderr io.Writer, more func(*flag.FlagSet)) (vault.Config, parsed, *slog.Logger, error) {
	fs := flag.NewFlagSet("callvaultd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "configuration file (TOML), for data_dir and time_zone")
	data := fs.String("data", "", "data directory (overrides data_dir)")
	if more != nil {
		more(fs)
	}
	if err := fs.Parse(args); err != nil {
		return vault.Config{}, parsed{}, nil, err
	}
	if fs.NArg() > 0 {
		return vault.Config{}, parsed{}, nil, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	cfg, err := loadConfig(*config, os.ReadFile)
	if err != nil {
		return vault.Config{}, parsed{}, nil, err
	}
	override(&cfg.DataDir, *data)
	p, err := cfg.validate()
	if err != nil {
		return vault.Config{}, parsed{}, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return vault.Config{}, parsed{}, nil, fmt.Errorf("%s: data dir: %w", name, err)
	}
	log := newLogger(stderr)
	return vault.Config{Dir: cfg.DataDir, CredentialsDir: os.Getenv("CREDENTIALS_DIRECTORY"), Location: p.location, Node: p.node}, p, log, nil
}

// runVerify authenticates every recording of a data dir and prints one
// line per file: id, status, file, detail. It fails when any file is not
// intact.
func runVerify(args []string, stdout, stderr io.Writer) error {
	cfg, _, log, err := offlineStore("verify", args, stderr, nil)
	if err != nil {
		return err
	}
	total, bad := 0, 0
	err = vault.VerifyDir(cfg, log, func(c vault.Check) error {
		total++
		if c.Status != vault.CheckIntact {
			bad++
		}
		_, err := fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", c.ID, c.Status, c.File, c.Detail)
		return err
	})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(stderr, "callvaultd verify: %d files checked, %d intact\n", total, total-bad)
	if bad > 0 {
		return fmt.Errorf("verify: %d of %d files are not intact", bad, total)
	}
	return nil
}

// runReindex rebuilds the index of a data dir from its recording files
// and, with -from-target, from the configured targets' objects.
func runReindex(args []string, stdout, stderr io.Writer) error {
	var fromTarget bool
	cfg, p, log, err := offlineStore("reindex", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&fromTarget, "from-target", false,
			"also index the recordings on every [[storage.target]] of the config, all nodes' (they must share this node's key)")
	})
	if err != nil {
		return err
	}
	var sources []vault.TargetSource
	if fromTarget {
		if len(p.targets) == 0 {
			return fmt.Errorf("reindex -from-target: the configuration has no [[storage.target]]")
		}
		for _, tc := range p.targets {
			t, err := openTarget(tc)
			if err != nil {
				return fmt.Errorf("reindex: %w", err)
			}
			sources = append(sources, vault.TargetSource{Target: t, Prefix: tc.Prefix})
		}
	}
	rep, err := vault.ReindexFromTargets(cfg, log, sources)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	fmt.Fprintf(stdout, "reindexed %d recordings in %s\n", rep.Indexed, cfg.Dir)
	if rep.MovedIndexTo != "" {
		fmt.Fprintf(stdout, "the old index is kept in %s (remove it once satisfied)\n", rep.MovedIndexTo)
	}
	if rep.HoldsRestored > 0 {
		fmt.Fprintf(stdout, "%d legal holds restored from the audit trail\n", rep.HoldsRestored)
	}
	for _, c := range rep.Failed {
		fmt.Fprintf(stdout, "not indexed\t%s\t%s\t%s\n", c.Status, c.File, c.Detail)
	}
	if len(rep.Failed) > 0 {
		return fmt.Errorf("reindex: %d files could not be indexed", len(rep.Failed))
	}
	return nil
}

// runAudit checks the audit trail of a data dir offline: callvaultd audit
// verify [-config FILE] [-data DIR]. It prints what it found and fails
// when the chain is broken.
func runAudit(args []string, stdout, stderr io.Writer) error {
	return runVerbs("audit", "usage: callvaultd audit verify [-config FILE] [-data DIR]\n", []verb{{"verify", runAuditVerify}}, args, stdout, stderr)
}

// runAuditVerify is `callvaultd audit verify`.
func runAuditVerify(args []string, stdout, stderr io.Writer) error {
	cfg, _, log, err := offlineStore("audit verify", args, stderr, nil)
	if err != nil {
		return err
	}
	rep, err := vault.VerifyAudit(cfg, log)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if rep.FirstBroken != 0 || rep.Problem != "" {
		fmt.Fprintf(stdout, "BROKEN at entry %d of %d: %s\n", rep.FirstBroken, rep.Entries, rep.Problem)
		return fmt.Errorf("audit verify: the audit trail is broken at entry %d", rep.FirstBroken)
	}
	fmt.Fprintf(stdout, "intact: %d entries, the chain and the index head (entry %d) agree\n", rep.Entries, rep.Head.Seq)
	return nil
}

// verb is one subcommand of an offline command with several.
type verb struct {
	name string
	run  func(args []string, stdout, stderr io.Writer) error
}

// runVerbs runs the verb args[0] of command name; a missing or unknown
// verb prints usage and fails, help prints it.
func runVerbs(name, usage string, verbs []verb, args []string, stdout, stderr io.Writer) error {
	var names []string
	for _, v := range verbs {
		names = append(names, v.name)
	}
	want := strings.Join(names, " or ")
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return fmt.Errorf("%s: missing subcommand: %s", name, want)
	}
	for _, v := range verbs {
		if v.name == args[0] {
			return v.run(args[1:], stdout, stderr)
		}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, usage)
		return flag.ErrHelp
	}
	io.WriteString(stderr, usage)
	return fmt.Errorf("%s: unknown subcommand %q: want %s", name, args[0], want)
}
