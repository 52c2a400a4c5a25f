package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// TestAuditTrail: a user added, a call recorded and exported each leave an
// audit entry with who did it (the CLI's uid, "system" for the daemon);
// the trail checks out, and one byte changed in it is reported by the
// offline verify with the entry's number.
func TestAuditTrail(t *testing.T) {
	testaudio.Require(t, "sipp")
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	d.cli("users", "add", "alice", "--ext", "2501")
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"})
	s.send("PCMU", 0.5)
	rec := s.hangUp()
	d.cli("export", rec.ID, "-o", filepath.Join(t.TempDir(), "x.mp3"))

	var entries []control.AuditEntry
	d.cliJSON(&entries, "audit", "--id", rec.ID, "--json")
	uid := os.Getuid()
	if len(entries) != 2 || entries[0].Action != "recording.created" || entries[0].Actor != "system" ||
		entries[1].Action != "recording.exported" || entries[1].UID != uid {
		t.Fatalf("audit of %s = %+v; want created by the system, then exported by uid %d", rec.ID, entries, uid)
	}
	var all []control.AuditEntry
	d.cliJSON(&all, "audit", "--json")
	if len(all) != 3 || all[0].Action != "user.added" || all[0].UID != uid || !strings.Contains(all[0].Detail, "alice") {
		t.Errorf("the whole trail = %+v, want the user added first", all)
	}
	if out := d.cli("audit", "verify"); !strings.HasPrefix(out, "intact: 3 entries") {
		t.Errorf("audit verify: %s", out)
	}

	// An admin rotates the key online: audited with their uid, and the
	// recording from before still exports.
	if out := d.cli("keys", "rotate"); !strings.Contains(out, "is current") {
		t.Errorf("keys rotate: %s", out)
	}
	d.cli("export", rec.ID, "-o", filepath.Join(t.TempDir(), "y.mp3"))
	all = nil
	d.cliJSON(&all, "audit", "--json")
	if n := len(all); n != 5 || all[3].Action != "key.rotated" || all[3].UID != uid {
		t.Errorf("the trail after a rotation: %+v, want key.rotated by uid %d then the export", all, uid)
	}

	// One byte of entry 2 changed, the daemon stopped: the offline check
	// names entry 2.
	d.stop()
	path := filepath.Join(d.data, "audit", "audit.log")
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(log, []byte("\n"))
	i := bytes.Index(lines[1], []byte(`"recording.created"`))
	lines[1][i+2] = 'R' // "Recording.created"
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bins(t), "callvaultd"), "audit", "verify", "-data", d.data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "BROKEN at entry 2") {
		t.Errorf("audit verify of an edited trail: %v\n%s", err, out)
	}
}
