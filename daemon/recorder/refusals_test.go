package recorder

import (
	"os"
	"strings"
	"testing"

	"github.com/callvault/callvault/siprec"
)

// TestREADMEStatusTable: the README's status table is every refusal the
// SIP server and the recorder send, in this order, with SIP's reason
// phrases.
func TestREADMEStatusTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range append(siprec.Refusals(), recorderRefusals...) {
		want = append(want, r.TableRow())
	}
	block := strings.Join(want, "\n")
	if !strings.Contains(string(readme), "|---|---|\n"+block+"\n\n") {
		t.Errorf("README.md's status table is not the code's; it should read:\n| Status | Warning text |\n|---|---|\n%s", block)
	}
}
