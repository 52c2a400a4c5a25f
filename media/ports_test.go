package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// freeRange finds n consecutive even ports that are free now, above the
// ranges the daemon's end-to-end tests use (20000-59999) when they run at
// the same time in another process.
func freeRange(t *testing.T, n int) (lo, hi int) {
	t.Helper()
	for base := 60000; base < 65000; base += 2 * n {
		ok := true
		for p := base; p < base+2*n && ok; p += 2 {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(p))))
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			return base, base + 2*n - 1
		}
	}
	t.Fatalf("no free port range")
	return 0, 0
}

func TestPortPool(t *testing.T) {
	lo, hi := freeRange(t, 4) // 4 even ports; hi is odd and rounds down
	// Someone else holds the second port.
	busy, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(lo+2))))
	if err != nil {
		t.Fatalf("bind busy port: %v", err)
	}
	defer busy.Close()

	p, err := NewPortPool(loopback, lo-1, hi) // lo-1 is odd: rounds up to lo
	if err != nil {
		t.Fatalf("NewPortPool: %v", err)
	}
	var got []int
	for range 3 {
		conn, port, err := p.Listen()
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		if conn.LocalAddr().(*net.UDPAddr).Port != port {
			t.Errorf("conn on %v, port %d", conn.LocalAddr(), port)
		}
		got = append(got, port)
	}
	if want := []int{lo, lo + 4, lo + 6}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("ports = %v, want %v (skipping the busy %d)", got, want, lo+2)
	}
	if p.InUse() != 3 {
		t.Errorf("InUse = %d, want 3", p.InUse())
	}
	if _, _, err := p.Listen(); !errors.Is(err, errNoFreePort) {
		t.Errorf("Listen when exhausted: %v, want errNoFreePort", err)
	}
	p.Release(lo + 4)
	p.Release(lo + 4) // no-op
	if p.InUse() != 2 {
		t.Errorf("InUse after Release = %d, want 2", p.InUse())
	}
	// Round robin continues after the last port handed out.
	if _, port, err := p.Listen(); err != nil || port != lo+4 {
		t.Errorf("Listen after Release = %d, %v; want %d", port, err, lo+4)
	}
}

func TestPortPoolArguments(t *testing.T) {
	for _, c := range []struct {
		addr   netip.Addr
		lo, hi int
	}{{netip.Addr{}, 10000, 10010}, {loopback, 10001, 10001}, {loopback, 10010, 10000}, {loopback, 0, 1}, {loopback, 65534, 65536}} {
		if _, err := NewPortPool(c.addr, c.lo, c.hi); err == nil {
			t.Errorf("NewPortPool(%v, %d, %d): no error", c.addr, c.lo, c.hi)
		}
	}
}

// TestRecordingReleasesPorts: Stop gives the ports of its legs back.
func TestRecordingReleasesPorts(t *testing.T) {
	lo, hi := freeRange(t, 2)
	p, err := NewPortPool(loopback, lo, hi)
	if err != nil {
		t.Fatalf("NewPortPool: %v", err)
	}
	r, err := NewRecording(Config{}, &discard{}, nil)
	if err != nil {
		t.Fatalf("NewRecording: %v", err)
	}
	for _, label := range []string{"1", "2"} {
		conn, _, err := p.Listen()
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		if err := r.AddLeg(label, conn, map[uint8]string{0: "PCMU"}); err != nil {
			t.Fatalf("AddLeg: %v", err)
		}
	}
	if p.InUse() != 2 {
		t.Fatalf("InUse = %d, want 2", p.InUse())
	}
	res, err := r.Stop()
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if p.InUse() != 0 {
		t.Errorf("InUse after Stop = %d, want 0", p.InUse())
	}
	if res.Samples != 0 || len(res.Legs) != 2 || res.Legs[0].Port != lo {
		t.Errorf("result = %+v", res)
	}
	res2, err2 := r.Stop()
	if err2 != nil || res2.Samples != res.Samples || len(res2.Legs) != 2 {
		t.Errorf("second Stop = %+v, %v", res2, err2)
	}
	if err := r.AddLeg("3", &net.UDPConn{}, map[uint8]string{0: "PCMU"}); !errors.Is(err, errStopped) {
		t.Errorf("AddLeg after Stop: %v, want errStopped", err)
	}
}

// discard counts the bytes written to it.
type discard struct{ n int }

func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// TestPortConnClose: closing a pool's conn gives its port back to that pool
// only; a conn whose port was released and handed out again does not free
// the newer conn's port when it is closed late. Two pools share nothing.
func TestPortConnClose(t *testing.T) {
	lo, hi := freeRange(t, 2)
	p, err := NewPortPool(loopback, lo, lo)
	if err != nil {
		t.Fatalf("NewPortPool: %v", err)
	}
	q, err := NewPortPool(loopback, lo+2, hi)
	if err != nil {
		t.Fatalf("NewPortPool: %v", err)
	}
	a, port, err := p.Listen()
	if err != nil || port != lo || a.Port() != lo {
		t.Fatalf("Listen = %v, %d, %v", a, port, err)
	}
	b, _, err := q.Listen()
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if p.InUse() != 0 || q.InUse() != 1 {
		t.Errorf("after closing p's conn: in use %d and %d, want 0 and 1", p.InUse(), q.InUse())
	}
	c, _, err := p.Listen()
	if err != nil {
		t.Fatalf("Listen again: %v", err)
	}
	p.Release(lo)
	d, _, err := p.Listen()
	if err != nil {
		t.Fatalf("Listen after Release: %v", err)
	}
	_ = c.Close() // late close of a released conn
	if p.InUse() != 1 {
		t.Errorf("late close freed the newer conn's port: in use %d", p.InUse())
	}
	_ = d.Close()
	_ = b.Close()
	if p.InUse()+q.InUse() != 0 {
		t.Errorf("in use %d and %d after closing all", p.InUse(), q.InUse())
	}
}
