package siprec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// tortureMessage is one RFC 4475 message of testdata/rfc4475, with its
// line of INDEX.md.
type tortureMessage struct {
	name    string
	class   string // "valid" (3.1.1), "invalid" (3.1.2) or "semantic" (3.2 to 3.4)
	kind    string // "request" or "response"
	section string
	data    []byte
}

// tortureMessages reads every message listed in testdata/rfc4475/INDEX.md
// and fails when a file and the index disagree.
func tortureMessages(t testing.TB) []tortureMessage {
	t.Helper()
	dir := filepath.Join("testdata", "rfc4475")
	index, err := os.ReadFile(filepath.Join(dir, "INDEX.md"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []tortureMessage
	for l := range strings.SplitSeq(string(index), "\n") {
		cells := strings.Split(l, "|")
		if len(cells) != 7 || !strings.HasPrefix(l, "| ") || strings.TrimSpace(cells[1]) == "file" || strings.HasPrefix(cells[1], " -") {
			continue
		}
		m := tortureMessage{name: strings.TrimSpace(cells[1]), class: strings.TrimSpace(cells[2]),
			kind: strings.TrimSpace(cells[3]), section: strings.TrimSpace(cells[4])}
		if !slices.Contains([]string{"valid", "invalid", "semantic"}, m.class) || !slices.Contains([]string{"request", "response"}, m.kind) {
			t.Fatalf("INDEX.md line %q: class %q, kind %q", l, m.class, m.kind)
		}
		if m.data, err = os.ReadFile(filepath.Join(dir, m.name+".sip")); err != nil {
			t.Fatalf("INDEX.md lists %s: %v", m.name, err)
		}
		msgs = append(msgs, m)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.sip"))
	if len(files) != len(msgs) || len(msgs) != 49 {
		t.Fatalf("INDEX.md lists %d messages, %s holds %d files; RFC 4475 has 49", len(msgs), dir, len(files))
	}
	return msgs
}

// TestTortureMessages runs each RFC 4475 message through sipgo's parser
// and the UDP guard. No message may panic either; every valid request
// passes the guard and parses; when the guard answers a message, the
// answer is a 400 to that message's Call-ID. What happens to each invalid
// or semantically wrong message is logged.
func TestTortureMessages(t *testing.T) {
	for _, m := range tortureMessages(t) {
		t.Run(m.name, func(t *testing.T) {
			_, perr := sip.NewParser().ParseSIP(m.data)
			reason := checkDatagram(sip.NewParser(), m.data)
			if m.class == "valid" {
				if perr != nil {
					t.Errorf("sipgo rejects the valid %s: %v", m.kind, perr)
				}
				if reason != "" {
					t.Errorf("the guard rejects the valid %s: %s", m.kind, reason)
				}
			}
			if m.kind == "response" && reason != "" {
				t.Errorf("the guard judged a response: %s", reason)
			}
			var resp []byte
			if reason != "" {
				if resp = badRequest(m.data, reason, "callvault-test"); resp != nil {
					checkBadRequest(t, m.data, resp)
				}
			}
			t.Logf("%s %s %s: %s", m.section, m.class, m.kind, tortureOutcome(perr, reason, resp))
		})
	}
}

// tortureOutcome says what the UDP path does with a message: sipgo's
// verdict, the guard's, and whether the guard answers.
func tortureOutcome(perr error, reason string, resp []byte) string {
	sipgo := "sipgo parses it"
	if perr != nil {
		sipgo = "sipgo rejects it (" + perr.Error() + ")"
	}
	switch {
	case reason == "" && perr == nil:
		return sipgo + "; the guard passes it to sipgo"
	case reason == "":
		return sipgo + "; the guard passes it, so sipgo drops it unanswered"
	case resp == nil:
		return sipgo + "; the guard drops it unanswered (" + reason + ")"
	}
	return sipgo + "; the guard answers 400 (" + reason + ")"
}
