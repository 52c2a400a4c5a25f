package testservers

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/syncbuf"
)

// stopGrace bounds how long a server may take to exit when stopped
// before it is killed.
const stopGrace = 30 * time.Second

// kind is what one sort of server brings to the process handling that
// every server shares: where its binary is, and how long it may take to
// be ready.
type kind struct {
	// name prefixes its failures ("versitygw: ..."); scripts/install-NAME
	// installs it.
	name string
	// bin is the binary's name in PATH; installed is where the install
	// script puts it, under the module root.
	bin, installed string
	// ready bounds how long a start may take to be ready, checked every
	// poll.
	ready, poll time.Duration
}

// server is a test server's process: found, started on a free loopback
// port, stopped and started again on that port. VersityGW and Azurite
// embed it, for its Start and Stop, and say how to run it and how to
// tell that it is ready.
type server struct {
	kind kind
	t    testing.TB
	bin  string
	port int

	// command and check are the owner's (newServer); they read its
	// fields, port among them, when called.
	command func() *exec.Cmd
	check   func() error

	mu   sync.Mutex
	proc *proc
}

// newServer finds k's binary for t, or skips t (fails it when CI=true).
// command is one run of the server on its port; check returns nil once
// that run is ready.
func newServer(t testing.TB, k kind, command func() *exec.Cmd, check func() error) *server {
	t.Helper()
	return &server{kind: k, t: t, bin: k.find(t), command: command, check: check}
}

// launch starts the server on a free port, trying three, and stops it
// when t ends. onPort is told each port before the start on it, so that
// the owner's endpoint follows.
func (s *server) launch(onPort func(port int)) {
	s.t.Helper()
	s.t.Cleanup(s.Stop)
	var err error
	for range 3 { // another process may take the free port first
		s.port = freePort(s.t)
		onPort(s.port)
		if err = s.start(); err == nil {
			return
		}
	}
	s.t.Fatalf("%s: %v", s.kind.name, err)
}

// Start starts the server again after Stop, on the same port and data:
// what was stored before is there. Call it from the test's goroutine.
func (s *server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("%s: %v", s.kind.name, err)
	}
}

// start runs the server unless it runs already, and waits until it is
// ready; a run that is not ready is stopped, and its output returned in
// the error.
func (s *server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	p, err := startProc(s.command())
	if err != nil {
		return err
	}
	if err := p.waitReady(s.check, s.kind.ready, s.kind.poll); err != nil {
		p.stop()
		return fmt.Errorf("%w; it printed:\n%s", err, p.out.String())
	}
	s.proc = p
	return nil
}

// Stop stops the server as a service is stopped (SIGTERM, so that
// Azurite saves its metadata) and waits until it has exited: the port
// then refuses connections, as a target that is down does. Stopping a
// stopped server does nothing.
func (s *server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// credentialsFile writes line to a file called name in a temporary
// directory of the test's and returns its path.
func (s *server) credentialsFile(name, line string) string {
	s.t.Helper()
	p := filepath.Join(s.t.TempDir(), name)
	if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// proc is one run of a server: its command, closed done when it has
// exited, and what it printed.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncbuf.Buffer
}

// startProc starts cmd with its output collected.
func startProc(cmd *exec.Cmd) (*proc, error) {
	p := &proc{cmd: cmd, done: make(chan struct{}), out: new(syncbuf.Buffer)}
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

// waitReady calls check every poll until it returns nil, the process
// exits (its port was taken, say) or within passes; the error then says
// why check last failed.
func (p *proc) waitReady(check func() error, within, poll time.Duration) error {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v): %v", p.cmd.Path, p.cmd.ProcessState, err)
		case <-deadline.C:
			return fmt.Errorf("%s was not ready within %v: %v", p.cmd.Path, within, err)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits for the exit, killing the process if it
// lingers past stopGrace.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-p.done:
	case <-grace.C:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// listening is a readiness check: nil once addr accepts a TCP
// connection.
func listening(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// answering is a readiness check: nil once url answers a GET, whatever
// the status.
func answering(url string) error {
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// find is k's binary: the one its install script puts under the module
// root, else the one in PATH; without either it skips t, or fails it
// when CI=true.
func (k kind) find(t testing.TB) string {
	t.Helper()
	if root, err := moduleRoot(); err == nil {
		if p := filepath.Join(root, k.installed); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath(k.bin); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (%s or PATH), and CI=true: run scripts/install-%s (make test does)", k.bin, k.installed, k.name)
	}
	t.Skipf("%s not found (%s or PATH): test skipped; scripts/install-%s installs it", k.bin, k.installed, k.name)
	return ""
}

// moduleRoot is the nearest directory at or above the working directory
// that holds go.mod.
func moduleRoot() (string, error) {
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

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// freePort is a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
