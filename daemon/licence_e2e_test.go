package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/license"
	"github.com/callvault/callvault/internal/testaudio"
)

// callvaultd runs the daemon binary's offline commands (license keygen,
// issue) and returns stdout.
func callvaultd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bins(t), "callvaultd"), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("callvaultd %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// invite sends one CUBE-like INVITE over its own TCP connection and
// returns the final response.
func invite(t *testing.T, d *daemonProc, name, caller, callee string) string {
	t.Helper()
	gw := dialSIP(t, d.sipPort)
	keys := map[string]string{"call_id": name + "@gw", "fromtag": name, "caller": caller, "callee": callee,
		"codecpt": "0", "codecname": "PCMU", "branch": "z9hG4bK-" + name}
	return gw.request(sippMessage(t, "cube-invite.xml", 0, gw.vars(keys)))
}

// TestLicences: the issuer's offline commands make a key and licences;
// an expired or badly signed licence is refused with a clear message and
// the evaluation licence stays; a channel licence of 2 refuses the third
// concurrent call; a user licence refuses an unlicensed user's call.
func TestLicences(t *testing.T) {
	testaudio.Require(t, "ffprobe", "ffmpeg")
	t.Parallel()
	keys := t.TempDir()
	pubLine := strings.TrimSpace(callvaultd(t, "license", "keygen", "-out", keys))
	if !regexp.MustCompile(`^ed25519:[A-Za-z0-9+/]+=*$`).MatchString(pubLine) {
		t.Fatalf("license keygen printed %q", pubLine)
	}
	keyFile := filepath.Join(keys, "license.key")
	d := startDaemon(t, daemonOptions{recordUnknown: true, tables: fmt.Sprintf("[license]\npublic_keys = [%q]", pubLine)})
	var st control.Status
	d.cliJSON(&st, "status")
	if l := st.License; !l.Evaluation || l.Model != "channel" || l.Count != 8 {
		t.Fatalf("licence with none installed: %+v", l)
	}

	install := func(name, file string) (string, error) {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		return d.cliErr("license", "install", path)
	}
	priv, err := license.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := license.Issue(license.License{Customer: "ACME", Model: "channel", Count: 50, Expires: "2026-01-31",
		Issued: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := install("expired.json", string(expired)); err == nil || !strings.Contains(err.Error(), "expired on 2026-01-31") {
		t.Errorf("an expired licence: %v", err)
	}
	good := callvaultd(t, "license", "issue", "-key", keyFile, "-customer", "ACME", "-model", "channel", "-count", "2")
	tampered := regexp.MustCompile(`"count":\s*2`).ReplaceAllString(good, `"count": 200`)
	if _, err := install("tampered.json", tampered); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("a badly signed licence: %v", err)
	}
	stranger, _ := license.GenerateKey()
	foreign, _ := license.Issue(license.License{Customer: "ACME", Model: "channel", Count: 50}, stranger)
	if _, err := install("foreign.json", string(foreign)); err == nil || !strings.Contains(err.Error(), "public_keys") {
		t.Errorf("a licence signed by another key: %v", err)
	}
	d.cliJSON(&st, "status")
	if !st.License.Evaluation || st.License.Count != 8 {
		t.Errorf("after refused licences: %+v, want the evaluation licence still", st.License)
	}

	// A channel licence of 2: the third concurrent call is refused.
	if out, err := install("channels.json", good); err != nil || !strings.Contains(out, "of 2 channels") {
		t.Fatalf("license install of a good licence: %q, %v", out, err)
	}
	for i := range 2 {
		if res := invite(t, d, fmt.Sprintf("ch%d", i), "5551000", "5552000"); !strings.HasPrefix(res, "SIP/2.0 200") {
			t.Fatalf("call %d under a channel licence of 2: %s", i+1, tail(res, 300))
		}
	}
	if res := invite(t, d, "ch2", "5551000", "5552000"); !strings.HasPrefix(res, "SIP/2.0 503") || !strings.Contains(res, "licence: all 2 channels in use") {
		t.Errorf("third call under a channel licence of 2: %s", tail(res, 400))
	}
	d.until(10*time.Second, "the licence alarm", func() bool {
		d.cliJSON(&st, "status")
		return st.License.Used == 2 && hasAlarm(st, "license_full")
	})

	// A user licence of 1: the first user added is recorded, the second not.
	d.cli("users", "add", "first", "--ext", "2501")
	d.cli("users", "add", "second", "--ext", "2502")
	users := callvaultd(t, "license", "issue", "-key", keyFile, "-customer", "ACME", "-model", "user", "-count", "1", "-expires", "2099-12-31")
	if _, err := install("users.json", users); err != nil {
		t.Fatal(err)
	}
	if res := invite(t, d, "u1", "2501", "5552000"); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("a licensed user's call: %s", tail(res, 300))
	}
	if res := invite(t, d, "u2", "2502", "5552000"); !strings.HasPrefix(res, "SIP/2.0 403") || !strings.Contains(res, "not licensed: user second") {
		t.Errorf("an unlicensed user's call: %s", tail(res, 400))
	}
	d.cliJSON(&st, "status")
	if st.License.Model != "user" || st.License.Expires != "2099-12-31" || st.RejectedBy["licence_channels"] != 1 || st.RejectedBy["licence_user"] != 1 {
		t.Errorf("status after the refusals: licence %+v, rejected_by %v", st.License, st.RejectedBy)
	}
	if out := d.cli("license", "show"); !strings.Contains(out, "user licence") || !strings.Contains(out, "ACME") {
		t.Errorf("license show:\n%s", out)
	}
}

func hasAlarm(st control.Status, name string) bool {
	for _, a := range st.Alarms {
		if a.Name == name {
			return true
		}
	}
	return false
}
