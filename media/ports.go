package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

var errNoFreePort = errors.New("no free rtp port")

// PortPool hands out RTP ports: the even numbers of a range, round robin,
// each bound as a UDP socket on one address. A port that another process
// holds is skipped. RTCP (the odd port above) is not bound: the recorder
// neither needs nor sends it.
type PortPool struct {
	bind   netip.Addr
	lo, hi int // even

	mu   sync.Mutex
	next int
	used map[int]*net.UDPConn
}

// owners maps each conn handed out by a PortPool to its pool, so that a
// Recording can give the port back when it stops without knowing the pool.
var owners sync.Map // *net.UDPConn -> *PortPool

// NewPortPool returns a pool of the even ports in [lo, hi] on bind.
func NewPortPool(bind netip.Addr, lo, hi int) (*PortPool, error) {
	if !bind.IsValid() {
		return nil, errors.New("new port pool: invalid bind address")
	}
	lo += lo & 1
	hi -= hi & 1
	if lo < 2 || hi > 65534 || lo > hi {
		return nil, fmt.Errorf("new port pool: no even port in range %d-%d", lo, hi)
	}
	return &PortPool{bind: bind.Unmap(), lo: lo, hi: hi, next: lo, used: make(map[int]*net.UDPConn)}, nil
}

// Listen binds the next free even port and returns its socket. The port is
// released when the Recording that owns the conn stops, or by Release.
func (p *PortPool) Listen() (*net.UDPConn, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range (p.hi-p.lo)/2 + 1 {
		port := p.next
		p.next += 2
		if p.next > p.hi {
			p.next = p.lo
		}
		if p.used[port] != nil {
			continue
		}
		addr := net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port)))
		conn, err := net.ListenUDP("udp", addr)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("listen rtp %s: %w", addr, err)
		}
		p.used[port] = conn
		owners.Store(conn, p)
		return conn, port, nil
	}
	return nil, 0, fmt.Errorf("listen rtp on %s %d-%d: %w", p.bind, p.lo, p.hi, errNoFreePort)
}

// Release closes the socket of port and makes the port available again. It
// does nothing for a port that is not in use. Do not call it for a port
// whose conn was given to a Recording: the Recording releases it on Stop,
// and a later Release could close the socket of a new call on that port.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	conn := p.used[port]
	delete(p.used, port)
	p.mu.Unlock()
	if conn != nil {
		owners.Delete(conn)
		_ = conn.Close()
	}
}

// InUse returns how many ports are handed out.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}

// releaseConn gives back the port of conn if a PortPool handed it out. It
// releases only that exact conn, never a newer one on the same port.
func releaseConn(conn net.PacketConn) {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return
	}
	v, ok := owners.LoadAndDelete(uc)
	if !ok {
		return
	}
	p := v.(*PortPool)
	port := uc.LocalAddr().(*net.UDPAddr).Port
	p.mu.Lock()
	if p.used[port] == uc {
		delete(p.used, port)
	}
	p.mu.Unlock()
	_ = uc.Close()
}
