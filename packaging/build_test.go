package packaging

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The package is built once per test run, by build-deb as `make deb` does,
// into a temporary directory, and unpacked there.
var (
	buildOnce sync.Once
	built     *debPackage
	buildSkip string // why the package could not be built, where that is no failure
	buildErr  error
	workDir   string
)

// debPackage is the built .deb and where it is unpacked.
type debPackage struct {
	path    string // the .deb
	root    string // its files (dpkg-deb -x)
	control string // its control files (dpkg-deb -e)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	os.Exit(code)
}

// inCI reports whether the tests run in CI, where a missing tool fails
// them instead of skipping.
func inCI() bool { return os.Getenv("CI") == "true" }

// skipOrFail skips the test with why, or fails it in CI.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if inCI() {
		t.Fatalf("%s (CI=true: a missing tool fails the test)", why)
	}
	t.Skip(why)
}

// needTool skips (or in CI fails) the test when a command is missing.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, name+" not found: the package cannot be checked here")
	}
	return p
}

// deb returns the package, building it on first use.
func deb(t *testing.T) *debPackage {
	t.Helper()
	needTool(t, "dpkg-deb")
	needTool(t, "go")
	buildOnce.Do(func() { built, buildSkip, buildErr = buildDeb() })
	if buildSkip != "" {
		skipOrFail(t, buildSkip)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// buildDeb runs build-deb into a temporary directory and unpacks the
// package it prints.
func buildDeb() (*debPackage, string, error) {
	var err error
	if workDir, err = os.MkdirTemp("", "callvault-deb-"); err != nil {
		return nil, "", err
	}
	cmd := exec.Command("bash", "packaging/build-deb")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "DIST="+workDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			return nil, "nfpm is not installed and cannot be: " + strings.TrimSpace(stderr.String()), nil
		}
		return nil, "", fmt.Errorf("build-deb: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	d := &debPackage{
		path:    lines[len(lines)-1],
		root:    filepath.Join(workDir, "root"),
		control: filepath.Join(workDir, "control"),
	}
	for _, args := range [][]string{{"-x", d.path, d.root}, {"-e", d.path, d.control}} {
		if out, err := exec.Command("dpkg-deb", args...).CombinedOutput(); err != nil {
			return nil, "", fmt.Errorf("dpkg-deb %s: %v\n%s", args[0], err, out)
		}
	}
	return d, "", nil
}

// run runs a command and returns its standard output; it fails the test
// with the standard error when the command fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// helpOutput runs a command that prints its help (to either stream) and
// returns what it printed, whatever its exit status.
func helpOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return string(out)
}
