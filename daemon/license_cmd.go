package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/callvault/callvault/daemon/license"
)

const licenseUsage = `usage:
  callvaultd license keygen -out DIR
      write a new signing key to DIR/license.key (mode 0600) and print its
      public key, for [license] public_keys
  callvaultd license issue -key DIR/license.key -customer NAME -model user|channel -count N [-expires YYYY-MM-DD]
      print a licence file signed with the key; it is valid to the end of
      its expiry day (UTC), or for ever without -expires
`

// runLicense is `callvaultd license keygen|issue`: the vendor's offline
// side of licences (the daemon only verifies them).
func runLicense(args []string, stdout, stderr io.Writer) error {
	return runVerbs("license", licenseUsage, []verb{{"keygen", runLicenseKeygen}, {"issue", runLicenseIssue}}, args, stdout, stderr)
}

func licenseFlags(verb string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("callvaultd license "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func noArgs(fs *flag.FlagSet, verb string) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("license %s: unexpected argument %q", verb, fs.Arg(0))
	}
	return nil
}

// runLicenseKeygen writes DIR/license.key and prints the public key as
// one line, ed25519:<base64>.
func runLicenseKeygen(args []string, stdout, stderr io.Writer) error {
	fs := licenseFlags("keygen", stderr)
	out := fs.String("out", "", "directory for "+license.KeyFile+" (created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs, "keygen"); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("license keygen: -out DIR is required")
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("license keygen: %w", err)
	}
	priv, pub := license.GenerateKey()
	path := filepath.Join(*out, license.KeyFile)
	if err := license.WriteKeyFile(path, priv); err != nil {
		return fmt.Errorf("license keygen: %w", err)
	}
	if _, err := fmt.Fprintln(stdout, license.FormatPublicKey(pub)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "callvaultd license keygen: wrote %s; keep it secret, and list the public key above in [license] public_keys\n", path)
	return nil
}

// runLicenseIssue prints a licence file signed with -key.
func runLicenseIssue(args []string, stdout, stderr io.Writer) error {
	fs := licenseFlags("issue", stderr)
	keyPath := fs.String("key", "", "signing key file (from license keygen)")
	customer := fs.String("customer", "", "customer name")
	model := fs.String("model", "", "licence model: user (named users) or channel (recordings at once)")
	count := fs.Int("count", 0, "number of users or channels")
	expires := fs.String("expires", "", "last valid day, YYYY-MM-DD (UTC); none: never expires")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs, "issue"); err != nil {
		return err
	}
	switch {
	case *keyPath == "":
		return errors.New("license issue: -key FILE is required")
	case *customer == "":
		return errors.New("license issue: -customer NAME is required")
	case *model != license.ModelUser && *model != license.ModelChannel:
		return fmt.Errorf("license issue: -model %q: want %s or %s", *model, license.ModelUser, license.ModelChannel)
	case *count < 1:
		return fmt.Errorf("license issue: -count %d: want at least 1", *count)
	}
	if *expires != "" {
		if _, err := license.ParseDate(*expires); err != nil {
			return fmt.Errorf("license issue: -expires: %w", err)
		}
	}
	priv, err := license.ReadKeyFile(*keyPath)
	if err != nil {
		return fmt.Errorf("license issue: %w", err)
	}
	data, err := license.Issue(license.License{
		Customer: *customer, Model: *model, Count: *count, Expires: *expires,
	}, priv)
	if err != nil {
		return fmt.Errorf("license %w", err) // "license issue: ..."
	}
	_, err = stdout.Write(data)
	return err
}
