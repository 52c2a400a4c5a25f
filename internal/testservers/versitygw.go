package testservers

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/syncbuf"
)

// The root user every test versitygw has: the gateway serves only tests,
// on loopback.
const (
	VersityAccessKey = "callvault-test"
	VersitySecretKey = "callvault-test-secret"
)

// versityBin is where scripts/install-versitygw puts versitygw, under the
// module root.
const versityBin = ".tools/bin/versitygw"

// versityReady bounds how long versitygw may take to listen, and to exit
// when stopped before it is killed.
const versityReady = 30 * time.Second

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

	t    testing.TB
	bin  string
	port int

	mu   sync.Mutex
	proc *versityProc
}

// StartVersityGW starts versitygw for t and stops it when t ends. The
// binary is the one scripts/install-versitygw puts under the module root,
// else versitygw in PATH; without it the test is skipped, or fails when
// CI=true.
func StartVersityGW(t testing.TB) *VersityGW {
	t.Helper()
	g := &VersityGW{AccessKey: VersityAccessKey, SecretKey: VersitySecretKey, Dir: filepath.Join(t.TempDir(), "s3"), t: t, bin: versityBinary(t)}
	if err := os.Mkdir(g.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	var err error
	for range 3 { // another process may take the free port first
		g.port = versityFreePort(t)
		g.Endpoint = "http://127.0.0.1:" + strconv.Itoa(g.port)
		if err = g.start(); err == nil {
			return g
		}
	}
	t.Fatalf("versitygw: %v", err)
	return nil
}

// Start starts versitygw again after Stop, on the same port and
// directory: the buckets and objects stored before are there. Call it
// from the test's goroutine.
func (g *VersityGW) Start() {
	g.t.Helper()
	if err := g.start(); err != nil {
		g.t.Fatalf("versitygw: %v", err)
	}
}

// Stop stops versitygw (SIGTERM) and waits until it has exited: the port
// then refuses connections, as a target that is down does. Stopping a
// stopped gateway does nothing.
func (g *VersityGW) Stop() {
	g.mu.Lock()
	p := g.proc
	g.proc = nil
	g.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// CredentialsFile writes the root user's keys as the S3 target reads
// them ("ACCESS_KEY:SECRET") to a file of the test's and returns its
// path.
func (g *VersityGW) CredentialsFile() string {
	g.t.Helper()
	p := filepath.Join(g.t.TempDir(), "s3.cred")
	if err := os.WriteFile(p, []byte(g.AccessKey+":"+g.SecretKey+"\n"), 0o600); err != nil {
		g.t.Fatal(err)
	}
	return p
}

func (g *VersityGW) start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.proc != nil {
		return nil
	}
	cmd := exec.Command(g.bin, "--port", "127.0.0.1:"+strconv.Itoa(g.port), "--quiet", "posix", g.Dir)
	cmd.Dir = filepath.Dir(g.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+g.AccessKey, "ROOT_SECRET_KEY="+g.SecretKey)
	p, err := startVersityProc(cmd)
	if err != nil {
		return err
	}
	if err := p.waitListening("127.0.0.1:" + strconv.Itoa(g.port)); err != nil {
		p.stop()
		return fmt.Errorf("%w; it printed:\n%s", err, p.out.String())
	}
	g.proc = p
	return nil
}

// versityBinary finds versitygw, or skips t (fails it when CI=true).
func versityBinary(t testing.TB) string {
	t.Helper()
	if root, err := versityModuleRoot(); err == nil {
		if p := filepath.Join(root, versityBin); versityIsExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("versitygw not found (%s or PATH), and CI=true: run scripts/install-versitygw (make test does)", versityBin)
	}
	t.Skipf("versitygw not found (%s or PATH): test skipped; scripts/install-versitygw installs it", versityBin)
	return ""
}

// versityProc is one run of versitygw: its command, closed done when it
// has exited, and what it printed.
type versityProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncbuf.Buffer
}

// startVersityProc starts cmd with its output collected.
func startVersityProc(cmd *exec.Cmd) (*versityProc, error) {
	p := &versityProc{cmd: cmd, done: make(chan struct{}), out: new(syncbuf.Buffer)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitListening polls addr until it accepts a TCP connection, the
// process exits (its port was taken, say) or versityReady passes.
func (p *versityProc) waitListening(addr string) error {
	deadline := time.NewTimer(versityReady)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it listened on %s (%v)", p.cmd.Path, addr, p.cmd.ProcessState)
		case <-deadline.C:
			return fmt.Errorf("%s did not listen on %s within %v", p.cmd.Path, addr, versityReady)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits for the exit, killing the process if it
// lingers.
func (p *versityProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	grace := time.NewTimer(versityReady)
	defer grace.Stop()
	select {
	case <-p.done:
	case <-grace.C:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// versityModuleRoot is the nearest directory at or above the working
// directory that holds go.mod.
func versityModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func versityIsExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// versityFreePort is a TCP port on 127.0.0.1 that was free a moment ago.
func versityFreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
