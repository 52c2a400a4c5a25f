package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/callvault/callvault/daemon/control"
)

// TestVerifyOne: the exit statuses of verify ID (what it prints is in
// testdata/golden/verify_one.txt and verify_truncated.txt).
func TestVerifyOne(t *testing.T) {
	b, sock := serve(t)
	if _, _, err := cv(t, sock, "verify", "2026000000001"); err != nil {
		t.Fatalf("verify intact: %v", err)
	}

	b.SetCheck(control.Check{ID: "2026000000002", File: "records/b.mp3.enc", Status: control.CheckTruncated, Detail: "no final segment after segment 4"})
	if _, _, err := cv(t, sock, "verify", "2026000000002"); err == nil || exitCode(err) != 1 {
		t.Errorf("verify truncated: err = %v, want exit 1", err)
	}

	_, _, err := cv(t, sock, "verify", "2026000000099")
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

func TestVerifySummary(t *testing.T) {
	tests := []struct {
		statuses []string
		want     string
	}{
		{nil, "0 files"},
		{[]string{"intact"}, "1 file: 1 intact"},
		{[]string{"missing", "intact"}, "2 files: 1 intact, 1 missing"},
		// Statuses of a newer daemon come after the known ones, by name.
		{[]string{"zapped", "intact", "quarantined", "zapped", "bent", "tampered"},
			"6 files: 1 intact, 1 tampered, 1 bent, 1 quarantined, 2 zapped"},
	}
	for _, tt := range tests {
		p := newCheckPrinter(io.Discard, false)
		for _, s := range tt.statuses {
			if err := p.print(control.Check{ID: "1", Status: s}); err != nil {
				t.Fatal(err)
			}
		}
		if got := p.summary(); got != tt.want {
			t.Errorf("summary of %v = %q, want %q", tt.statuses, got, tt.want)
		}
	}
}
