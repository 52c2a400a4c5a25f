package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/callvault/callvault/daemon/control"
)

func TestVerifyOne(t *testing.T) {
	b, sock := serve(t)
	out, stderr, err := cv(t, sock, "verify", "2026000000001")
	if err != nil {
		t.Fatalf("verify intact: %v", err)
	}
	contains(t, "verify stdout", out, "2026000000001  intact")
	contains(t, "verify stderr", stderr, "1 files: 1 intact")

	b.SetCheck(control.Check{ID: "2026000000002", File: "records/b.mp3.enc", Status: control.CheckTruncated, Detail: "no final segment after segment 4"})
	out, _, err = cv(t, sock, "verify", "2026000000002")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "1 of 1 files are not intact") {
		t.Errorf("verify truncated: err = %v, want exit 1 naming the count", err)
	}
	contains(t, "verify stdout", out, "truncated", "no final segment after segment 4")

	_, _, err = cv(t, sock, "verify", "2026000000099")
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("verify unknown: err = %v", err)
	}
	for _, args := range [][]string{{"verify"}, {"verify", "--all", "2026000000001"}, {"verify", "a", "b"}} {
		if _, _, err := cv(t, sock, args...); err == nil || exitCode(err) != 2 {
			t.Errorf("callvault %v: err = %v, want a usage error", args, err)
		}
	}
}

func TestVerifyAllJSON(t *testing.T) {
	b, sock := serve(t)
	b.SetCheck(control.Check{ID: "2026000000009", File: "records/z.mp3.enc", Status: control.CheckUnindexed})
	out, stderr, err := cv(t, sock, "verify", "--all", "--json")
	if err == nil || exitCode(err) != 1 {
		t.Errorf("verify --all with an unindexed file: err = %v, want exit 1", err)
	}
	var checks []control.Check
	if err := json.Unmarshal([]byte(out), &checks); err != nil {
		t.Fatalf("verify --all --json is not a JSON array: %v\n%s", err, out)
	}
	if len(checks) != 3 || checks[2].Status != control.CheckUnindexed {
		t.Errorf("checks = %+v", checks)
	}
	contains(t, "verify stderr", stderr, "3 files: 2 intact, 1 unindexed")
}

func TestExportRefusedForDamagedRecording(t *testing.T) {
	b, sock := serve(t)
	b.SetCheck(control.Check{ID: "2026000000001", Status: control.CheckTampered})
	out, _, err := cv(t, sock, "export", "2026000000001", "-o", "-")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("export -o - of a tampered recording: err = %v, want a refusal", err)
	}
	if out != "" {
		t.Errorf("export -o - wrote %d bytes to stdout, want none", len(out))
	}
}
