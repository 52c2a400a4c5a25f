package control_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callvault/callvault/daemon/control"
)

func TestListenCreatesDirAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "control.sock")
	ln, err := control.Listen(path)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("mode = %v, want a socket with 0660", fi.Mode())
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	old, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close() // a daemon that died: the file stays, nobody answers
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}
	ln, err := control.Listen(path)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	ln.Close()
}

func TestListenRefusesLiveSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	first, err := control.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = control.Listen(path)
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("second listen: err = %v, want already in use", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the live socket was removed: %v", err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := control.Listen(path)
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("err = %v, want not a socket", err)
	}
}
