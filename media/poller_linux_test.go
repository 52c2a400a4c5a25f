package media

import (
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"
)

// pollTestRecording returns a recording whose mix is thrown away, with
// two legs on ports of pool.
func pollTestRecording(t *testing.T, pool *PortPool) (*Recording, []int) {
	t.Helper()
	r, err := newRecording(Config{}, nil, func([]int16) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var ports []int
	for _, label := range []string{"1", "2"} {
		conn, port, err := pool.Listen()
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		if err := r.AddLeg(label, conn, map[uint8]string{0: "PCMU"}); err != nil {
			t.Fatalf("AddLeg: %v", err)
		}
		ports = append(ports, port)
	}
	return r, ports
}

// rtpSender sends numbered PCMU packets from one socket.
type rtpSender struct {
	conn *net.UDPConn
	seq  map[netip.AddrPort]uint16
}

func newRTPSender(t *testing.T, network string, local netip.Addr) *rtpSender {
	t.Helper()
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
	if err != nil {
		t.Skipf("no %s socket on %v: %v", network, local, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rtpSender{conn: c, seq: map[netip.AddrPort]uint16{}}
}

func (s *rtpSender) send(t *testing.T, to netip.AddrPort) {
	t.Helper()
	n := s.seq[to]
	s.seq[to] = n + 1
	p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: n, Timestamp: uint32(n) * 160, SSRC: uint32(to.Port())},
		Payload: make([]byte, 160)}
	b, _ := p.Marshal()
	if _, err := s.conn.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func (s *rtpSender) addr() netip.AddrPort {
	a := s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// subscribed returns how many sockets the pool's pollers hold.
func (p *PortPool) subscribed() int {
	n := 0
	for _, pl := range p.pollers.list {
		pl.mu.Lock()
		n += len(pl.subs)
		pl.mu.Unlock()
	}
	return n
}

// TestPollerReadsManyLegs: the legs of many recordings on one pool are
// read by the pool's pollers, a call's two legs by the same one, every
// packet reaching its own leg with its source; stopping deregisters and
// closes every socket.
func TestPollerReadsManyLegs(t *testing.T) {
	const calls, packets = 16, 20
	lo, hi := freeRange(t, 2*calls+4)
	pool, err := NewPortPool(loopback, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]*Recording, calls)
	ports := make([][]int, calls)
	used := map[*poller]bool{}
	for i := range recs {
		recs[i], ports[i] = pollTestRecording(t, pool)
		r := recs[i]
		if r.poller == nil {
			t.Fatalf("call %d: no poller", i)
		}
		for _, l := range r.legs {
			if s := &l.conn.(*PortConn).portSocket; s.poller != r.poller {
				t.Errorf("call %d leg %s: read by another poller than the call's", i, l.stats.Label)
			}
		}
		used[r.poller] = true
	}
	if want := min(runtime.GOMAXPROCS(0), calls); len(used) != want {
		t.Errorf("calls spread over %d pollers, want %d", len(used), want)
	}
	if got := pool.subscribed(); got != 2*calls {
		t.Errorf("pollers hold %d sockets, want %d", got, 2*calls)
	}
	snd := newRTPSender(t, "udp4", loopback)
	for range packets {
		for i := range recs {
			for _, p := range ports[i] {
				snd.send(t, netip.AddrPortFrom(loopback, uint16(p)))
			}
		}
	}
	for i, r := range recs {
		waitPackets(t, r, packets, packets)
		for _, st := range r.Stats() {
			if st.Packets != packets || st.ForeignSource != 0 || st.Source != snd.addr() || st.SSRC != uint32(st.Port) {
				t.Errorf("call %d leg %s: %+v; want %d packets from %v with SSRC %d", i, st.Label, st, packets, snd.addr(), st.Port)
			}
		}
	}
	for _, r := range recs {
		if _, err := r.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if pool.InUse() != 0 || pool.subscribed() != 0 {
		t.Errorf("after Stop: %d ports in use, %d sockets polled", pool.InUse(), pool.subscribed())
	}
}

// TestPollerStopWhileSending: recordings stop while their ports are
// flooded; once Stop returns no packet reaches them, and the ports, handed
// out again, feed only the new recordings. Run it with -race.
func TestPollerStopWhileSending(t *testing.T) {
	const calls = 8
	lo, hi := freeRange(t, 2*calls)
	pool, err := NewPortPool(loopback, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]*Recording, calls)
	for i := range recs {
		recs[i], _ = pollTestRecording(t, pool)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // floods every port of the range, in use or not
		defer wg.Done()
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7}, Payload: make([]byte, 160)}
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			p.SequenceNumber, p.Timestamp = uint16(n), uint32(n*160)
			b, _ := p.Marshal()
			for port := lo; port <= hi; port += 2 {
				_, _ = c.WriteToUDPAddrPort(b, netip.AddrPortFrom(loopback, uint16(port)))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	for _, r := range recs {
		waitPackets(t, r, 1, 1)
	}
	for i, r := range recs {
		res, err := r.Stop()
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // packets keep coming to the closed ports
		for j, st := range r.Stats() {
			if st.Packets != res.Legs[j].Packets {
				t.Errorf("call %d leg %s: %d packets after Stop, %d at Stop", i, st.Label, st.Packets, res.Legs[j].Packets)
			}
		}
		again, _ := pollTestRecording(t, pool) // the ports just freed, or others
		waitPackets(t, again, 1, 1)
		recs[i] = again
	}
	for _, r := range recs {
		if _, err := r.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if pool.InUse() != 0 || pool.subscribed() != 0 {
		t.Errorf("after Stop: %d ports in use, %d sockets polled", pool.InUse(), pool.subscribed())
	}
}

// TestPollerSources: the source of a datagram is read right on IPv6 and,
// on a dual-stack wildcard socket, from IPv4 (unmapped).
func TestPollerSources(t *testing.T) {
	for _, c := range []struct {
		name          string
		bind, send    netip.Addr
		network, dest string
	}{
		{"ipv6", netip.IPv6Loopback(), netip.IPv6Loopback(), "udp6", "::1"},
		{"ipv4 to the dual-stack wildcard", netip.IPv6Unspecified(), loopback, "udp4", "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			snd := newRTPSender(t, c.network, c.send)
			lo, hi := freeRange(t, 2)
			pool, err := NewPortPool(c.bind, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			r, ports := pollTestRecording(t, pool)
			defer r.Stop()
			for _, p := range ports {
				snd.send(t, netip.AddrPortFrom(netip.MustParseAddr(c.dest), uint16(p)))
			}
			waitPackets(t, r, 1, 1)
			for _, st := range r.Stats() {
				if st.Source != snd.addr() {
					t.Errorf("leg %s: source %v, want %v", st.Label, st.Source, snd.addr())
				}
			}
		})
	}
}

// TestPollerClosedConn: a pool's conn closed before it is added is
// refused, and the recording keeps no leg for it.
func TestPollerClosedConn(t *testing.T) {
	lo, hi := freeRange(t, 1)
	pool, err := NewPortPool(loopback, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := pool.Listen()
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	_ = conn.Close() // twice: nothing
	r, err := newRecording(Config{}, nil, func([]int16) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddLeg("1", conn, map[uint8]string{0: "PCMU"}); err == nil {
		t.Error("AddLeg of a closed conn: no error")
	}
	if len(r.legs) != 0 || len(r.m.tracks) != 0 {
		t.Errorf("%d legs, %d tracks kept", len(r.legs), len(r.m.tracks))
	}
}

// TestReceiverStamps: a datagram read some time after it came carries the
// kernel's arrival time, not the time it was read.
func TestReceiverStamps(t *testing.T) {
	lo, _ := freeRange(t, 1)
	var s portSocket
	if err := s.listen(netip.AddrPortFrom(loopback, uint16(lo))); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if !s.stamps {
		t.Skip("no kernel timestamps here")
	}
	snd := newRTPSender(t, "udp4", loopback)
	snd.send(t, netip.AddrPortFrom(loopback, uint16(lo)))
	sent := time.Now()
	time.Sleep(50 * time.Millisecond)
	var x receiver
	x.init()
	n, from, at, err := x.recv(s.fd, s.stamps)
	if err != nil || n != 172 || from != snd.addr() {
		t.Fatalf("recv = %d bytes from %v, %v; want 172 from %v", n, from, err, snd.addr())
	}
	if read := time.Now(); at.After(sent) || read.Sub(at) < 50*time.Millisecond {
		t.Errorf("arrival %v: sent at %v, read at %v: not the kernel's stamp", at, sent, read)
	}
	if _, _, _, err := x.recv(s.fd, s.stamps); err != unix.EAGAIN {
		t.Errorf("recv of an empty socket: %v, want EAGAIN", err)
	}
}

// TestStopReadsTheRest: what the poller has not read when the recording
// stops (it may be a second behind on a busy box) is read by Stop: the end
// of the call is not left in the socket.
func TestStopReadsTheRest(t *testing.T) {
	lo, hi := freeRange(t, 2)
	pool, err := NewPortPool(loopback, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	r, ports := pollTestRecording(t, pool)
	for _, l := range r.legs { // the poller falls behind: it reads them no more
		s := &l.conn.(*PortConn).portSocket
		s.mu.Lock()
		s.poller.remove(s)
		s.poller = r.poller // still the call's: close reads the rest
		s.mu.Unlock()
	}
	snd := newRTPSender(t, "udp4", loopback)
	for range 30 {
		for _, p := range ports {
			snd.send(t, netip.AddrPortFrom(loopback, uint16(p)))
		}
	}
	time.Sleep(20 * time.Millisecond) // loopback delivery is synchronous; this is slack
	if st := r.Stats(); st[0].Packets+st[1].Packets != 0 {
		t.Fatalf("the poller read %d and %d packets after it let go", st[0].Packets, st[1].Packets)
	}
	res, err := r.Stop()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range res.Legs {
		if st.Packets != 30 || st.Lost != 0 {
			t.Errorf("leg %s: %d packets, %d lost; want the 30 left in the socket", st.Label, st.Packets, st.Lost)
		}
	}
	if res.Samples < 29*160 {
		t.Errorf("%d samples mixed, want the 30 packets' audio", res.Samples)
	}
}

// TestPortPoolClose: a closed pool's pollers take no new leg (a clear
// error), and a recording still open on it stops cleanly.
func TestPortPoolClose(t *testing.T) {
	lo, hi := freeRange(t, 3)
	pool, err := NewPortPool(loopback, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pollTestRecording(t, pool)
	pool.Close()
	late, err := newRecording(Config{}, nil, func([]int16) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := pool.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if err := late.AddLeg("1", conn, map[uint8]string{0: "PCMU"}); err == nil || !strings.Contains(err.Error(), "port pool is closed") {
		t.Errorf("AddLeg on a closed pool: %v", err)
	}
	_ = conn.Close()
	if _, err := r.Stop(); err != nil {
		t.Errorf("Stop after the pool closed: %v", err)
	}
	if pool.InUse() != 0 {
		t.Errorf("%d ports in use", pool.InUse())
	}
}
