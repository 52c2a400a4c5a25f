//go:build !linux

package media

import (
	"net"
	"net/netip"
)

// portSocket is a PortConn's socket where there is no poller: a
// *net.UDPConn read by a goroutine per leg.
type portSocket struct{ udp *net.UDPConn }

// pollers are not used here.
type pollers struct{}

func (*pollers) start() error { return nil }
func (*pollers) stop()        {}

// poller is not used here.
type poller struct{}

// listen binds s to addr.
func (s *portSocket) listen(addr netip.AddrPort) error {
	var err error
	s.udp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	return err
}

func (s *portSocket) close() error { return s.udp.Close() }

// pollLeg reads leg l from c with a goroutine of its own. r.mu is held.
func (r *Recording) pollLeg(l *leg, c *PortConn) error {
	r.wg.Add(1)
	go r.read(l, c.udp)
	return nil
}
