package testservers

import (
	"errors"
	"fmt"
	"net"
	"net/http"
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

// Azurite's well-known development account: every Azurite has it, and
// its key is public.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azuriteBin is where scripts/install-azurite puts Azurite's blob server,
// under the module root.
const azuriteBin = ".tools/azurite/node_modules/.bin/azurite-blob"

// azuriteReady bounds how long Azurite (Node) may take to answer.
const azuriteReady = time.Minute

// Azurite is a running Azurite blob service, on a loopback port of its
// own with its data in a temporary directory.
type Azurite struct {
	// Endpoint is the blob service URL, with the account as its path:
	// http://127.0.0.1:PORT/devstoreaccount1.
	Endpoint string
	// Account and Key are the shared key (AzuriteAccount, AzuriteKey).
	Account, Key string
	// Dir is the data directory, kept across Stop and Start.
	Dir string

	t    testing.TB
	bin  string
	port int

	mu   sync.Mutex
	proc *azuriteProc
}

// azuriteProc is one run of a server: its command, closed done when it has
// exited, and what it printed.
type azuriteProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncbuf.Buffer
}

// StartAzurite starts Azurite's blob service (azurite-blob) for t and
// stops it when t ends. The binary is the one scripts/install-azurite
// puts under the module root, else azurite-blob in PATH; without it the
// test is skipped, or fails when CI=true.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	a := &Azurite{Account: AzuriteAccount, Key: AzuriteKey, Dir: t.TempDir(), t: t, bin: azuriteBinary(t)}
	t.Cleanup(a.Stop)
	var err error
	for range 3 { // another process may take the free port first
		a.port = azuriteFreePort(t)
		a.Endpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", a.port, AzuriteAccount)
		if err = a.start(); err == nil {
			return a
		}
	}
	t.Fatalf("azurite: %v", err)
	return nil
}

// Start starts Azurite again after Stop, on the same port and data
// directory: the blobs stored before are there. Call it from the test's
// goroutine.
func (a *Azurite) Start() {
	a.t.Helper()
	if err := a.start(); err != nil {
		a.t.Fatalf("azurite: %v", err)
	}
}

// Stop stops Azurite as a service is stopped (SIGTERM, so that it saves
// its metadata), and waits until it has exited. Stopping a stopped
// Azurite does nothing.
func (a *Azurite) Stop() {
	a.mu.Lock()
	p := a.proc
	a.proc = nil
	a.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// CredentialsFile writes the shared key as the Azure target reads it
// ("ACCOUNT:KEY") to a file of the test's and returns its path.
func (a *Azurite) CredentialsFile() string {
	a.t.Helper()
	p := filepath.Join(a.t.TempDir(), "azure.cred")
	if err := os.WriteFile(p, []byte(a.Account+":"+a.Key+"\n"), 0o600); err != nil {
		a.t.Fatal(err)
	}
	return p
}

func (a *Azurite) start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc != nil {
		return nil
	}
	cmd := exec.Command(a.bin,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(a.port),
		"--location", a.Dir, "--skipApiVersionCheck", "--silent",
		// Telemetry would hold every stop for a minute and more, trying
		// to reach a host on the internet.
		"--disableTelemetry")
	p, err := startAzuriteProc(cmd)
	if err != nil {
		return err
	}
	if err := p.waitHTTP(a.Endpoint + "?comp=list"); err != nil {
		p.stop()
		return fmt.Errorf("%w; it printed:\n%s", err, p.out.String())
	}
	a.proc = p
	return nil
}

// startAzuriteProc starts cmd with its output collected.
func startAzuriteProc(cmd *exec.Cmd) (*azuriteProc, error) {
	p := &azuriteProc{cmd: cmd, done: make(chan struct{}), out: new(syncbuf.Buffer)}
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

// waitHTTP polls url until the server answers it, whatever the status,
// the server exits or azuriteReady passes.
func (p *azuriteProc) waitHTTP(url string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(azuriteReady)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it answered (%v)", p.cmd.Path, p.cmd.ProcessState)
		case <-deadline.C:
			return fmt.Errorf("%s did not answer %s within %v", p.cmd.Path, url, azuriteReady)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits for the exit, killing the process if it
// lingers.
func (p *azuriteProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	grace := time.NewTimer(30 * time.Second)
	defer grace.Stop()
	select {
	case <-p.done:
	case <-grace.C:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// azuriteBinary finds azurite-blob, or skips t (fails it when CI=true).
func azuriteBinary(t testing.TB) string {
	t.Helper()
	if root, err := azuriteModuleRoot(); err == nil {
		if p := filepath.Join(root, azuriteBin); azuriteIsExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("azurite-blob not found (%s or PATH), and CI=true: run scripts/install-azurite (make test does)", azuriteBin)
	}
	t.Skipf("azurite-blob not found (%s or PATH): test skipped; scripts/install-azurite installs it", azuriteBin)
	return ""
}

// azuriteModuleRoot is the nearest directory at or above the working directory
// that holds go.mod.
func azuriteModuleRoot() (string, error) {
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

func azuriteIsExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// azuriteFreePort is a TCP port on 127.0.0.1 that was free a moment ago.
func azuriteFreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
