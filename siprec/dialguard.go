package siprec

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
)

// errUnknownPeer refuses a TCP or TLS connection to a host that is no
// gateway of ours.
var errUnknownPeer = errors.New("not a gateway with a recording session here")

// streamTransports are sipgo's TCP and TLS transports with our dialer: sipgo
// connects out to deliver a response whose connection is gone (to the
// address the request's Via names) and to send our BYEs, and the dialer
// lets it reach only the gateways we record for.
func (s *Server) streamTransports() sip.TransportsConfig {
	return sip.TransportsConfig{
		TCP: &sip.TransportTCP{DialerCreate: s.dialer},
		TLS: &sip.TransportTLS{TransportTCP: &sip.TransportTCP{DialerCreate: s.dialer}},
	}
}

func (s *Server) dialer(laddr net.Addr) net.Dialer {
	d := net.Dialer{Timeout: 10 * time.Second, Control: s.dialControl}
	if a, ok := laddr.(*net.TCPAddr); ok && a != nil {
		d.LocalAddr = a
	}
	return d
}

// dialControl lets a connection out only to a host that is the source or
// the remote target of a session we hold, or in the allow-list: never to
// an address a stranger's request names.
func (s *Server) dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if s.mayDial(ap.Addr().Unmap()) {
		return nil
	}
	return fmt.Errorf("dial %s: %w", address, errUnknownPeer)
}

// mayDial reports whether a is a gateway of ours.
func (s *Server) mayDial(a netip.Addr) bool {
	if list := *s.gate.allow.Load(); len(list) > 0 && s.gate.allowed(a) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, table := range []map[string]*dialog{s.dialogs, s.closing} {
		for _, d := range table {
			if d.sess.Source.Addr() == a || targetAddr(d.peer.target) == a {
				return true
			}
		}
	}
	return false
}

// targetAddr is the IP address of a URI's host; the zero Addr for a
// name.
func targetAddr(u sip.Uri) netip.Addr {
	a, err := netip.ParseAddr(trimBrackets(u.Host))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}
