package testaudio

import (
	"os"
	"os/exec"
	"testing"
)

// Require skips an end-to-end test, with a message, when one of tools is
// not in PATH, so that `go test ./...` on a bare machine runs every unit
// test. With CI=true (set by .ci/run) it fails instead: `make test`
// installs the tools, and in CI a skipped test that needs a real decoder
// or SIP peer would prove nothing.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found in PATH, and CI=true: end-to-end tests must run (`make test` installs sip-tester and ffmpeg)", tool)
			}
			t.Skipf("%s not found in PATH: end-to-end test skipped (`make test` installs sip-tester and ffmpeg)", tool)
		}
	}
}
