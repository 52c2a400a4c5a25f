package testservers

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The root user every test versitygw has: the gateway serves only tests,
// on loopback.
const (
	VersityAccessKey = "callvault-test"
	VersitySecretKey = "callvault-test-secret"
)

// versityKind is versitygw, as scripts/install-versitygw installs it; it
// may take 30s to listen.
var versityKind = kind{name: "versitygw", bin: "versitygw", installed: ".tools/bin/versitygw", ready: 30 * time.Second, poll: 20 * time.Millisecond}

// VersityGW is a running versitygw S3 gateway (posix backend), on a
// loopback port of its own, serving a temporary directory: each
// sub-directory is a bucket, each object a file under it.
type VersityGW struct {
	// Endpoint is the S3 endpoint, http://127.0.0.1:PORT (path-style).
	Endpoint string
	// AccessKey and SecretKey are the root user's (VersityAccessKey,
	// VersitySecretKey).
	AccessKey, SecretKey string
	// Dir is the directory served, kept across Stop and Start.
	Dir string

	*server // Start, Stop
}

// StartVersityGW starts versitygw for t and stops it when t ends. The
// binary is the one scripts/install-versitygw puts under the module root,
// else versitygw in PATH; without it the test is skipped, or fails when
// CI=true.
func StartVersityGW(t testing.TB) *VersityGW {
	t.Helper()
	g := &VersityGW{AccessKey: VersityAccessKey, SecretKey: VersitySecretKey, Dir: filepath.Join(t.TempDir(), "s3")}
	g.server = newServer(t, versityKind, g.command, g.listening)
	if err := os.Mkdir(g.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	g.launch(func(port int) { g.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port) })
	return g
}

// CredentialsFile writes the root user's keys as the S3 target reads
// them ("ACCESS_KEY:SECRET") to a file of the test's and returns its
// path.
func (g *VersityGW) CredentialsFile() string {
	g.t.Helper()
	return g.credentialsFile("s3.cred", g.AccessKey+":"+g.SecretKey)
}

// command runs the gateway on its port, serving Dir, with the root
// user's keys in its environment.
func (g *VersityGW) command() *exec.Cmd {
	cmd := exec.Command(g.bin, "--port", g.addr(), "--quiet", "posix", g.Dir)
	cmd.Dir = filepath.Dir(g.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+g.AccessKey, "ROOT_SECRET_KEY="+g.SecretKey)
	return cmd
}

// listening is nil once the gateway accepts connections.
func (g *VersityGW) listening() error { return listening(g.addr()) }

func (g *VersityGW) addr() string { return "127.0.0.1:" + strconv.Itoa(g.port) }
