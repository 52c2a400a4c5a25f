package pace

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

func sink(t testing.TB) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestSocketsFromARangeSendFromTheirPort(t *testing.T) {
	rx, to := sink(t)
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	// A range of two even ports, one of them already taken.
	lo := probe.LocalAddr().(*net.UDPAddr).Port &^ 1
	held, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lo})
	if err == nil {
		defer held.Close()
	}
	ports, err := NewPorts(netip.MustParseAddr("127.0.0.1"), lo, lo+2)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ports.Bind()
	if err != nil {
		t.Skipf("no free even port near %d: %v", lo, err)
	}
	defer s.Close()
	if s.Port()%2 != 0 || s.Port() < lo || s.Port() > lo+2 {
		t.Errorf("port %d outside the even ports %d-%d", s.Port(), lo, lo+2)
	}
	if err := s.Connect(to); err != nil {
		t.Fatal(err)
	}
	if err := s.Send([]byte("rtp")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	rx.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := rx.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "rtp" || int(from.Port()) != s.Port() {
		t.Errorf("got %q from port %d, want \"rtp\" from %d", buf[:n], from.Port(), s.Port())
	}
}

func TestNewPortsRejectsBadRanges(t *testing.T) {
	for _, r := range [][2]int{{80, 100}, {40000, 30000}, {60000, 70000}} {
		if _, err := NewPorts(netip.MustParseAddr("127.0.0.1"), r[0], r[1]); err == nil {
			t.Errorf("range %d-%d accepted", r[0], r[1])
		}
	}
}
