package main

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/license"
)

// licenseCmd runs `callvaultd license ARGS` in-process.
func licenseCmd(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = runLicense(args, &o, &e)
	return o.String(), e.String(), err
}

func TestLicenseKeygenIssueVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys") // created by keygen
	out, _, err := licenseCmd("keygen", "-out", dir)
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	line := strings.TrimSuffix(out, "\n")
	if strings.Contains(line, "\n") || !regexp.MustCompile(`^ed25519:[A-Za-z0-9+/]+=*$`).MatchString(line) {
		t.Fatalf("keygen printed %q, want one line ed25519:<base64>", out)
	}
	pub, err := license.ParsePublicKey(line)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, license.KeyFile)
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", keyPath, fi.Mode().Perm())
	}

	_, stderr, err := licenseCmd("keygen", "-out", dir)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second keygen = %v (%s), want a refusal to overwrite", err, stderr)
	}
	if _, _, err := licenseCmd("issue", "-key", keyPath, "-customer", "x", "-model", "user", "-count", "1"); err != nil {
		t.Errorf("the key no longer signs after a refused keygen: %v", err)
	}

	before := time.Now().UTC().Add(-2 * time.Second)
	expires := time.Now().UTC().AddDate(1, 0, 0).Format("2006-01-02")
	out, _, err = licenseCmd("issue", "-key", keyPath, "-customer", "ACME Corp", "-model", "channel", "-count", "12", "-expires", expires)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	lic, err := license.Verify([]byte(out), []ed25519.PublicKey{pub}, time.Now())
	if err != nil {
		t.Fatalf("Verify of the issued licence: %v\n%s", err, out)
	}
	if lic.Customer != "ACME Corp" || lic.Model != "channel" || lic.Count != 12 || lic.Expires != expires || lic.Issued.Before(before) {
		t.Errorf("issued %+v", lic)
	}

	out, _, err = licenseCmd("issue", "-key", keyPath, "-customer", "Bank", "-model", "user", "-count", "250")
	if err != nil {
		t.Fatalf("issue without expiry: %v", err)
	}
	lic, err = license.Verify([]byte(out), []ed25519.PublicKey{pub}, time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || lic.Expires != "" || lic.Model != "user" || lic.Count != 250 {
		t.Errorf("licence without expiry: %+v, %v", lic, err)
	}
}

func TestLicenseCommandErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := licenseCmd("keygen", "-out", dir); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, license.KeyFile)
	notKey := filepath.Join(dir, "not-a-key")
	os.WriteFile(notKey, []byte("hello\n"), 0o600)
	ok := []string{"-key", key, "-customer", "ACME", "-model", "channel", "-count", "8"}
	with := func(extra ...string) []string { return append(append([]string{"issue"}, ok...), extra...) }

	for _, c := range []struct {
		args []string
		want string // in the error
	}{
		{nil, "missing subcommand"},
		{[]string{"sign"}, `unknown subcommand "sign"`},
		{[]string{"keygen"}, "-out DIR is required"},
		{[]string{"keygen", "-out", dir, "extra"}, `unexpected argument "extra"`},
		{[]string{"keygen", "-bits", "4096"}, "flag provided but not defined"},
		{with("-model", "site"), `-model "site": want user or channel`},
		{with("-model", ""), `-model "": want user or channel`},
		{with("-count", "0"), "-count 0: want at least 1"},
		{with("-count", "-3"), "-count -3: want at least 1"},
		{with("-count", "many"), `invalid value "many"`},
		{with("-expires", "31/03/2027"), `-expires: expiry "31/03/2027": want a date YYYY-MM-DD`},
		{with("-expires", "2027-02-30"), "want a date YYYY-MM-DD"},
		{with("-expires", "2001-01-01"), "before the issue date"},
		{with("-customer", ""), "-customer NAME is required"},
		{with("-customer", " padded "), "spaces around it"},
		{with("-key", ""), "-key FILE is required"},
		{with("-key", filepath.Join(dir, "none")), "no such file"},
		{with("-key", notKey), "signing key " + notKey + ": no PEM block"},
	} {
		out, _, err := licenseCmd(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("license %q: error %v, want one saying %q", c.args, err, c.want)
		}
		if out != "" {
			t.Errorf("license %q failed but printed %q", c.args, out)
		}
	}

	_, stderr, _ := licenseCmd()
	if !strings.Contains(stderr, "callvaultd license keygen -out DIR") || !strings.Contains(stderr, "callvaultd license issue -key") {
		t.Errorf("no usage on a missing subcommand:\n%s", stderr)
	}
	out, _, err := licenseCmd("help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "license issue") {
		t.Errorf("license help = %v:\n%s", err, out)
	}
}

func TestLicenseIsOffline(t *testing.T) {
	if offline["license"] == nil {
		t.Error("callvaultd license is not among the offline subcommands")
	}
}
