package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/BurntSushi/toml"

	"github.com/callvault/callvault/vault/target"
)

// runCheckConfig validates a configuration file as the daemon would read
// it (built-in defaults, then the file) and prints the effective
// configuration as TOML. Every problem is listed, and it exits non-zero;
// credential files the targets name are checked for being readable.
func runCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("callvaultd check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "/etc/callvault/callvaultd.toml", "configuration file (TOML) to check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("check-config: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(*config, os.ReadFile)
	if err != nil {
		return fmt.Errorf("check-config %s: %w", *config, err)
	}
	p, err := cfg.validate()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range p.targets {
		if t.Credentials == "" {
			continue
		}
		if _, _, err := target.ReadCredentials(t.Credentials); err != nil {
			errs = append(errs, fmt.Errorf("storage.target %q: %w", t.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("check-config %s: invalid configuration:\n%w", *config, errors.Join(errs...))
	}
	fmt.Fprintf(stdout, "# %s is valid; the effective configuration (built-in defaults, then the file):\n", *config)
	return toml.NewEncoder(stdout).Encode(cfg)
}
