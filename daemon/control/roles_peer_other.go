//go:build !linux

package control

import (
	"net"
	"os"
)

// PeerCheckedMode is the socket mode for a daemon that serves through
// [WithRoles]. Outside Linux the peer's credentials are not read: the
// socket is made 0600, so only the daemon's own user (and root) can
// connect, and every caller is taken to be the daemon's own user, an
// admin. Members of the groups cannot use the console there.
const PeerCheckedMode os.FileMode = 0o600

// peerCred is a stub outside Linux: it reports the daemon's own uid and
// gid, which is true of every caller only on a socket of PeerCheckedMode.
func peerCred(net.Conn) (uid, gid uint32, err error) {
	return uint32(os.Geteuid()), uint32(os.Getegid()), nil
}
