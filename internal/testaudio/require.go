package testaudio

import (
	"os/exec"
	"testing"
)

// Require fails the test when one of tools is not in PATH. It fails rather
// than skips: `make test` installs them, and a skipped test that needs a real
// decoder or SIP peer proves nothing.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found in PATH: run `make test` (it installs sip-tester and ffmpeg)", tool)
		}
	}
}
