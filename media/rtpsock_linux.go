package media

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// stampLayout is true where control messages and timespecs have the
// 64-bit layout parseStamp reads: a 16-byte header (length, level, type)
// and two 8-byte fields.
const stampLayout = syscall.SizeofCmsghdr == 16 && unsafe.Sizeof(syscall.Timespec{}) == 16

var errNoStampLayout = errors.New("kernel timestamps not read on this architecture")

// enableStamps asks the kernel to stamp every datagram of u with its
// arrival time (SO_TIMESTAMPNS).
func enableStamps(u *net.UDPConn) error {
	if !stampLayout {
		return errNoStampLayout
	}
	rc, err := u.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// parseStamp returns the SCM_TIMESTAMPNS arrival time in the control
// messages oob, without allocating.
func parseStamp(oob []byte) (time.Time, bool) {
	const hdr = syscall.SizeofCmsghdr
	for len(oob) >= hdr {
		n := binary.NativeEndian.Uint64(oob)
		level := int32(binary.NativeEndian.Uint32(oob[8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:]))
		if n < hdr || n > uint64(len(oob)) {
			return time.Time{}, false
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SCM_TIMESTAMPNS && n >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr:]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8:]))
			return time.Unix(sec, nsec), true
		}
		next := (int(n) + 7) &^ 7 // CMSG_ALIGN
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return time.Time{}, false
}
