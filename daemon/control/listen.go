package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Listen listens on the unix socket at path for the control API. It creates
// the parent directory when missing and replaces a stale socket file left by
// a daemon that died, but fails when another process answers on it or when
// path is not a socket. The socket is made mode 0660: give its group (the
// service's group, callvault) to the users of the console. The listener
// removes the file when closed.
func Listen(path string) (net.Listener, error) {
	return ListenMode(path, 0o660)
}

// ListenMode is Listen with the socket made mode perm: a daemon that serves
// through [WithRoles] passes [PeerCheckedMode], so that the members of the
// NOC group, who are not in the socket's group, can connect.
func ListenMode(path string, perm os.FileMode) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, perm); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return ln, nil
}

// removeStale removes a socket file nobody listens on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check socket %s: %w", path, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("socket %s: file exists and is not a socket", path)
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("socket %s: already in use by a running daemon", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("check socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

type peerKey struct{}

// peer is the credentials of a connection's peer, or why they are missing.
type peer struct {
	uid, gid uint32
	err      error
}

// ConnContext is for http.Server.ConnContext: it reads the peer credentials
// of each accepted connection on the control socket (SO_PEERCRED on Linux)
// and keeps them in the connection's context, where [WithRoles] finds them.
// A connection whose credentials cannot be read gets every request refused.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	uid, gid, err := peerCred(c)
	return context.WithValue(ctx, peerKey{}, peer{uid: uid, gid: gid, err: err})
}

// peerFrom returns the peer credentials ConnContext kept; ok is false when
// there are none (the server has no ConnContext, or they could not be read:
// p.err says why).
func peerFrom(ctx context.Context) (p peer, ok bool) {
	p, found := ctx.Value(peerKey{}).(peer)
	if !found {
		return peer{err: errors.New("the server has no ConnContext")}, false
	}
	return p, p.err == nil
}
