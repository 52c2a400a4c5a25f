package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
	"github.com/callvault/callvault/vault"
)

// TestHoldAndPurge: three recordings, one held; `purge --before` a time
// after them removes the two unheld ones (files, index, search) and skips
// the held one; hold and purge each leave an audit entry with the
// caller's uid, and the held one is marked in search and show.
func TestHoldAndPurge(t *testing.T) {
	testaudio.Require(t, "sipp")
	t.Parallel()
	d := startDaemon(t, daemonOptions{tables: "\n[retention]\nmonths = 84\n"})
	d.cli("users", "add", "alice", "--ext", "2501", "--retention", "60")
	var recs []control.Recording
	for range 3 {
		s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"})
		s.send("PCMU", 0.3)
		recs = append(recs, s.hangUp())
	}
	held := recs[1]
	if out := d.cli("hold", "add", held.ID, "--reason", "case 2026-114"); !strings.Contains(out, "held 1 recordings") {
		t.Fatalf("hold add: %s", out)
	}
	var shown control.Recording
	d.cliJSON(&shown, "show", held.ID)
	if shown.Hold == nil || shown.Hold.Reason != "case 2026-114" {
		t.Errorf("show of the held recording: hold %+v", shown.Hold)
	}
	if out := d.cli("search", "--user", "alice"); !strings.Contains(out, "complete,held") {
		t.Errorf("search does not mark the hold:\n%s", out)
	}

	// Retention (60 months for alice) keeps everything today.
	if out := d.cli("purge", "--dry-run"); !strings.HasPrefix(out, "would purge 0 recordings") {
		t.Errorf("purge --dry-run: %s", out)
	}
	before := time.Now().Add(time.Hour).Format(time.RFC3339)
	var res control.PurgeResult
	d.cliJSON(&res, "purge", "--before", before, "--reason", "test site closed", "--json")
	want := []string{recs[0].ID, recs[2].ID}
	if !slices.Equal(res.Purged, want) || !slices.Equal(res.Held, []string{held.ID}) {
		t.Fatalf("purge --before: %+v; want %v purged and %s kept", res, want, held.ID)
	}
	for _, r := range recs {
		_, err := os.Stat(filepath.Join(d.data, filepath.FromSlash(r.File)))
		if gone := os.IsNotExist(err); gone != (r.ID != held.ID) {
			t.Errorf("%s's file after the purge: %v", r.ID, err)
		}
	}
	var left []control.Recording
	d.cliJSON(&left, "search", "--user", "alice", "--json")
	if len(left) != 1 || left[0].ID != held.ID {
		t.Errorf("search after the purge: %d recordings, want only the held %s", len(left), held.ID)
	}
	uid := os.Getuid()
	var trail []control.AuditEntry
	d.cliJSON(&trail, "audit", "--json")
	var held1, purged int
	for _, e := range trail {
		switch {
		case e.Action == "recording.held" && e.ID == held.ID && e.UID == uid && e.Detail == "case 2026-114":
			held1++
		case e.Action == "recording.purged" && e.UID == uid && e.Detail == "test site closed":
			purged++
		}
	}
	if held1 != 1 || purged != 2 {
		t.Errorf("audit: %d hold and %d purge entries with uid %d, want 1 and 2:\n%+v", held1, purged, uid, trail)
	}
	// Erasure: refused under hold; released, the recording is erased, its
	// file gone, and an export says when and why.
	if _, err := d.cliErr("erase", held.ID, "--reason", "GDPR request 17"); err == nil || !strings.Contains(err.Error(), "legal hold") {
		t.Errorf("erase under hold: %v", err)
	}
	if out := d.cli("hold", "rm", held.ID); !strings.Contains(out, "released 1") {
		t.Errorf("hold rm: %s", out)
	}
	// A backup of the file taken before the erase: its own bytes, its key
	// block intact.
	heldPath := filepath.Join(d.data, filepath.FromSlash(held.File))
	backup, err := os.ReadFile(heldPath)
	if err != nil {
		t.Fatal(err)
	}
	d.cli("erase", held.ID, "--reason", "GDPR request 17")
	if _, err := os.Stat(heldPath); !os.IsNotExist(err) {
		t.Errorf("the erased recording's file: %v", err)
	}
	if _, err := d.cliErr("export", held.ID, "-o", filepath.Join(t.TempDir(), "x.mp3")); err == nil || !strings.Contains(err.Error(), "erased") || !strings.Contains(err.Error(), "GDPR request 17") {
		t.Errorf("export after the erasure: %v", err)
	}
	d.cliJSON(&trail, "audit", "--id", held.ID, "--json")
	if last := trail[len(trail)-1]; last.Action != "recording.erased" || last.UID != uid {
		t.Errorf("the erasure's audit entry: %+v", last)
	}
	// The backup put back where it was cannot be decrypted with the KEK.
	d.stop()
	if err := os.WriteFile(heldPath, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bins(t), "callvaultd"), "verify", "-data", d.data).Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("callvaultd verify with the erased file's backup back: %v, want exit 1", err)
	}
	checkVerifyLines(t, "callvaultd verify", string(out), map[string]string{held.ID: vault.CheckErased})
}
