package manpage

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"-data DIR":     `\-data DIR`,
		".part files":   `\&.part files`,
		"'quoted'":      `\&'quoted'`,
		`C:\dir`:        `C:\edir`,
		"plain text ok": "plain text ok",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnescapeUndoesEscape: a reader searching the page finds the text
// as it was written, quotes in macro arguments included.
func TestUnescapeUndoesEscape(t *testing.T) {
	for _, s := range []string{"-data DIR", ".part files", "'q'", `C:\dir\-x`, "plain"} {
		if got := Unescape(Escape(s)); got != s {
			t.Errorf("Unescape(Escape(%q)) = %q", s, got)
		}
	}
	var r roff
	r.macro("B", `--name "Full Name"`)
	if got, want := Unescape(r.String()), `.B "--name "Full Name""`+"\n"; got != want {
		t.Errorf("Unescape of a quoted macro = %q, want %q", got, want)
	}
}

func TestMacroQuotesEachArgument(t *testing.T) {
	var r roff
	r.macro("TH", "X", "1", "", `say "hi"`)
	r.macro("PP")
	want := `.TH "X" "1" "" "say \(dqhi\(dq"` + "\n.PP\n"
	if r.String() != want {
		t.Errorf("macros = %q, want %q", r.String(), want)
	}
}
