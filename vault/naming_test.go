package vault

import (
	"strings"
	"testing"
	"time"
)

func TestFileName(t *testing.T) {
	start := time.Date(2026, 11, 25, 15, 1, 2, 0, time.UTC) // 17:01:02 in testZone
	long := strings.Repeat("a", 100)
	tests := []struct {
		name string
		rec  Recording
		want string
	}{
		{"contract example", Recording{ID: "2026000000007", Extension: "2501", Remote: "+15551234", Direction: "IN"},
			"2026000000007_20261125170102__2501_+15551234_IN.mp3.enc"},
		{"underscore in user", Recording{ID: "2026000000008", User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "OUT"},
			"2026000000008_20261125170102_john_doe_2501_+15551234_OUT.mp3.enc"},
		{"underscore elsewhere", Recording{ID: "2026000000013", User: "a_b", Extension: "25_01", Remote: "+1_555", Direction: "IN"},
			"2026000000013_20261125170102_a_b_25-01_+1-555_IN.mp3.enc"},
		{"slashes and dots", Recording{ID: "2026000000009", User: "../../etc/passwd", Extension: "25/01", Remote: "sip:+1555@gw;user=phone", Direction: "in"},
			"2026000000009_20261125170102_..-..-etc-passwd_25-01_sip-+1555-gw-user-phone_IN.mp3.enc"},
		{"unicode and spaces", Recording{ID: "2026000000010", User: "José Ñ", Remote: "\x00\n", Direction: "OUT"},
			"2026000000010_20261125170102_Jos---__--_OUT.mp3.enc"},
		{"all empty", Recording{ID: "2026000000011"},
			"2026000000011_20261125170102____.mp3.enc"},
		{"long fields cut", Recording{ID: "2026000000012", User: long, Extension: long, Remote: long, Direction: "IN"},
			"2026000000012_20261125170102_" + long[:64] + "_" + long[:64] + "_" + long[:64] + "_IN.mp3.enc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rec.Start = start
			if got := FileName(tt.rec, testZone); got != tt.want {
				t.Errorf("FileName = %q\n             want %q", got, tt.want)
			}
		})
	}
}

func TestFileNameZone(t *testing.T) {
	rec := Recording{ID: "2026000000001", Start: time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)}
	if got := FileName(rec, time.UTC); !strings.Contains(got, "_20260101003000_") {
		t.Errorf("UTC: %q", got)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	if got := FileName(rec, ny); !strings.Contains(got, "_20251231193000_") {
		t.Errorf("New York: %q", got)
	}
	if got := relPath(rec, rec.Start, ny); !strings.HasPrefix(got, "records/2025/12/31/") {
		t.Errorf("relPath New York: %q", got)
	}
}

func TestJoinUnder(t *testing.T) {
	for _, rel := range []string{"../../etc/passwd", "/etc/passwd", "records/../../x"} {
		if got := joinUnder("/data", rel); !strings.HasPrefix(got, "/data/") {
			t.Errorf("joinUnder(%q) = %q escapes the data dir", rel, got)
		}
	}
}
