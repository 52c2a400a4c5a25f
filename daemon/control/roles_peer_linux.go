//go:build linux

package control

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// PeerCheckedMode is the socket mode for a daemon that serves through
// [WithRoles]. On Linux every caller is identified by SO_PEERCRED and given
// its role by the daemon, so anyone may connect (0666) and the groups, not
// the file mode, decide; the socket's directory must let the operators in
// (search permission) too.
const PeerCheckedMode os.FileMode = 0o666

// peerCred reads the credentials of the process that connected c, as the
// kernel recorded them at connect(2).
func peerCred(c net.Conn) (uid, gid uint32, err error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, 0, fmt.Errorf("peer credentials: %T is not a socket", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, 0, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return 0, 0, fmt.Errorf("peer credentials: SO_PEERCRED: %w", credErr)
	}
	return cred.Uid, cred.Gid, nil
}
