package media

import (
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// oobSize is room for the control messages of one datagram: the kernel's
// receive timestamp (32 bytes on 64-bit Linux) and one more.
const oobSize = 64

// packetReader reads a leg's datagrams with their source and their
// arrival time. On a UDP socket where the kernel stamps datagrams as they
// arrive (SO_TIMESTAMPNS on Linux), the arrival is the kernel's, so that a
// reader that was not scheduled for a while sees the times the packets
// really came; elsewhere it is the time the read returned.
type packetReader struct {
	conn   net.PacketConn
	udp    *net.UDPConn // conn, when it is one
	oob    []byte       // control messages, reused
	stamps bool         // the kernel stamps arrivals
}

// newPacketReader returns a reader of conn, asking the kernel for arrival
// timestamps where it can.
func newPacketReader(conn net.PacketConn, log *slog.Logger) *packetReader {
	p := &packetReader{conn: conn}
	if u, ok := conn.(*net.UDPConn); ok {
		p.udp = u
		if err := enableStamps(u); err != nil {
			log.Debug("rtp arrival times from the clock, not the kernel", "err", err)
		} else {
			p.stamps, p.oob = true, make([]byte, oobSize)
		}
	}
	return p
}

// read reads one datagram into buf. It does not allocate on a UDP socket.
func (p *packetReader) read(buf []byte) (n int, from netip.AddrPort, at time.Time, err error) {
	if p.udp == nil {
		var addr net.Addr
		n, addr, err = p.conn.ReadFrom(buf)
		if ua, ok := addr.(*net.UDPAddr); ok {
			from = ua.AddrPort()
		}
		return n, from, time.Now(), err
	}
	var oobn int
	n, oobn, _, from, err = p.udp.ReadMsgUDPAddrPort(buf, p.oob)
	if err != nil {
		return 0, from, time.Time{}, err
	}
	if p.stamps {
		if at, ok := parseStamp(p.oob[:oobn]); ok {
			return n, from, at, nil
		}
	}
	return n, from, time.Now(), nil
}
