package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// keysCmd runs `callvaultd keys VERB -data DIR` on a stopped daemon's
// data dir and returns what it printed.
func keysCmd(t *testing.T, d *daemonProc, verb string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(bins(t), "callvaultd"), "keys", verb, "-data", d.data).CombinedOutput()
	if err != nil {
		t.Fatalf("callvaultd keys %s: %v\n%s", verb, err, out)
	}
	return string(out)
}

// exported exports a recording through the CLI and returns its bytes.
func exported(t *testing.T, d *daemonProc, id string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), id+".mp3")
	d.cli("export", id, "-o", path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rotatedRE = regexp.MustCompile(`rotated: ([0-9a-f]{16}) -> ([0-9a-f]{16})`)

// TestKeyRotation: after `keys rotate` a new recording and an old one
// both export; after `keys rewrap` and the removal of the old key file
// both still do, byte for byte, and the audit trail shows the rotation
// (by the unix user who ran it) and the rewrap.
func TestKeyRotation(t *testing.T) {
	testaudio.Require(t, "sipp")
	t.Parallel()
	spec := callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"}
	call := func(d *daemonProc) control.Recording {
		s := d.setup(spec)
		s.send("PCMU", 0.5)
		return s.hangUp()
	}
	d := startDaemon(t, daemonOptions{})
	d.cli("users", "add", "alice", "--ext", "2501")
	first := call(d)
	firstMP3 := exported(t, d, first.ID)
	d.stop()

	m := rotatedRE.FindStringSubmatch(keysCmd(t, d, "rotate"))
	if m == nil {
		t.Fatalf("keys rotate printed no old and new key ids")
	}
	oldKey := filepath.Join(d.data, "keys", "kek-"+m[1])
	if fi, err := os.Stat(oldKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("old key file %s: %v", oldKey, err)
	}

	d = startDaemon(t, daemonOptions{dir: d.dir, data: d.data})
	second := call(d)
	secondMP3 := exported(t, d, second.ID)
	if !bytes.Equal(exported(t, d, first.ID), firstMP3) {
		t.Errorf("the recording made before the rotation no longer exports as it did")
	}
	d.stop()

	out := keysCmd(t, d, "rewrap")
	if !strings.Contains(out, "rewrapped 1, already under "+m[2]+" 1, failed 0") || !strings.Contains(out, "rm "+oldKey) {
		t.Fatalf("keys rewrap printed:\n%s\nwant 1 rewrapped, 1 already under %s, and rm %s", out, m[2], oldKey)
	}
	if err := os.Remove(oldKey); err != nil {
		t.Fatal(err)
	}

	d = startDaemon(t, daemonOptions{dir: d.dir, data: d.data})
	if !bytes.Equal(exported(t, d, first.ID), firstMP3) || !bytes.Equal(exported(t, d, second.ID), secondMP3) {
		t.Errorf("after the rewrap and the old key's removal the recordings do not export as before")
	}
	if out, err := d.cliErr("verify", "--all"); err != nil {
		t.Errorf("verify --all after the rewrap: %v\n%s", err, out)
	}
	var entries []control.AuditEntry
	d.cliJSON(&entries, "audit")
	var rotated, rewrapped bool
	for _, e := range entries {
		switch e.Action {
		case "key.rotated":
			rotated = e.UID == os.Getuid() && e.Detail == "kek "+m[1]+" -> "+m[2]
		case "key.rewrapped":
			rewrapped = strings.Contains(e.Detail, "rewrapped 1")
		}
	}
	if !rotated || !rewrapped {
		t.Errorf("audit trail %+v: want key.rotated by uid %d and key.rewrapped", entries, os.Getuid())
	}
}
