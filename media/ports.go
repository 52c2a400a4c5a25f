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
// neither needs nor sends it. Every pool keeps its own ports: two pools (two
// daemons in one process) share nothing.
type PortPool struct {
	bind   netip.Addr
	lo, hi int // even

	mu   sync.Mutex
	next int
	used map[int]*PortConn

	pollers pollers // read the ports' sockets (Linux), from NewPortPool to Close
}

// PortConn is the socket of a port handed out by a PortPool. Closing it
// gives the port back to its pool, so a Recording that stops (it closes its
// legs' sockets) frees their ports without knowing the pool.
//
// On Linux the socket is a non-blocking one of the pool's own, outside
// Go's netpoller: a Recording does not read it with a goroutine of its
// own but hands it to one of the pool's pollers (poller_linux.go), each
// of which reads many legs' sockets from one goroutine. Elsewhere it is a
// *net.UDPConn read by a goroutine per leg.
type PortConn struct {
	portSocket
	pool *PortPool
	port int
	addr *net.UDPAddr
}

// Port returns the local port of c.
func (c *PortConn) Port() int { return c.port }

// LocalAddr returns the address c is bound to.
func (c *PortConn) LocalAddr() net.Addr { return c.addr }

// Close closes the socket (waiting for a poller's read of it in progress)
// and gives its port back to the pool, unless the port was released
// already (Release) and perhaps handed out again: then only the socket is
// closed, never the newer one on the same port. Later calls do nothing.
func (c *PortConn) Close() error {
	c.pool.mu.Lock()
	if c.pool.used[c.port] == c {
		delete(c.pool.used, c.port)
	}
	c.pool.mu.Unlock()
	return c.close()
}

// NewPortPool returns a pool of the even ports in [lo, hi] on bind, its
// pollers started.
func NewPortPool(bind netip.Addr, lo, hi int) (*PortPool, error) {
	if !bind.IsValid() {
		return nil, errors.New("new port pool: invalid bind address")
	}
	lo += lo & 1
	hi -= hi & 1
	if lo < 2 || hi > 65534 || lo > hi {
		return nil, fmt.Errorf("new port pool: no even port in range %d-%d", lo, hi)
	}
	p := &PortPool{bind: bind.Unmap(), lo: lo, hi: hi, next: lo, used: make(map[int]*PortConn)}
	if err := p.pollers.start(); err != nil {
		return nil, fmt.Errorf("new port pool: %w", err)
	}
	return p, nil
}

// Close stops the pool's pollers (Linux): the legs still open on its
// ports are read no more. Close it after the recordings have stopped.
func (p *PortPool) Close() { p.pollers.stop() }

// Listen binds the next free even port and returns its socket and the port.
// The port is released when the socket is closed (as the Recording it was
// given to does on Stop), or by Release.
func (p *PortPool) Listen() (*PortConn, int, error) {
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
		addr := netip.AddrPortFrom(p.bind, uint16(port))
		c := &PortConn{pool: p, port: port, addr: net.UDPAddrFromAddrPort(addr)}
		err := c.listen(addr)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("listen rtp %s: %w", addr, err)
		}
		p.used[port] = c
		return c, port, nil
	}
	return nil, 0, fmt.Errorf("listen rtp on %s %d-%d: %w", p.bind, p.lo, p.hi, errNoFreePort)
}

// Release closes the socket of port and makes the port available again. It
// does nothing for a port that is not in use. Do not call it for a port
// whose conn was given to a Recording: the Recording releases it on Stop,
// and a later Release could close the socket of a new call on that port.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	c := p.used[port]
	delete(p.used, port)
	p.mu.Unlock()
	if c != nil {
		_ = c.close()
	}
}

// InUse returns how many ports are handed out.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}
