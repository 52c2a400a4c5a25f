package pace

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// Socket is a leg's UDP socket, bound to the port its SDP announced (a
// recorder takes RTP only from there) and connected to the recorder's
// port. It is non-blocking and written with plain write(2): no poller, no
// goroutine, one system call per packet; a full buffer fails the packet.
type Socket struct {
	fd   int
	port int
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}

// Bind opens a UDP socket bound to local.
func Bind(local netip.AddrPort) (*Socket, error) {
	family := unix.AF_INET
	if a := local.Addr(); a.Is6() && !a.Is4In6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("rtp socket: %w", err)
	}
	if err := unix.Bind(fd, sockaddr(local)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("rtp socket: bind %s: %w", local, err)
	}
	return &Socket{fd: fd, port: int(local.Port())}, nil
}

// Connect sends every later packet to remote.
func (s *Socket) Connect(remote netip.AddrPort) error {
	if err := unix.Connect(s.fd, sockaddr(remote)); err != nil {
		return fmt.Errorf("rtp socket: connect %s: %w", remote, err)
	}
	return nil
}

// Port is the local port.
func (s *Socket) Port() int { return s.port }

// Send writes one packet.
func (s *Socket) Send(b []byte) error {
	_, err := unix.Write(s.fd, b)
	return err
}

// Close closes the socket.
func (s *Socket) Close() error { return unix.Close(s.fd) }

// Ports hands out sockets bound to the even ports of a range, in turn, so
// that a port freed by a call that ended is taken again only after every
// other one.
type Ports struct {
	mu     sync.Mutex
	ip     netip.Addr
	lo, hi int
	next   int
}

// NewPorts returns the allocator of ip's even ports lo to hi.
func NewPorts(ip netip.Addr, lo, hi int) (*Ports, error) {
	lo += lo % 2
	if lo < 1024 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("rtp ports %d-%d: want an even range within 1024-65535", lo, hi)
	}
	return &Ports{ip: ip, lo: lo, hi: hi, next: lo}, nil
}

// Bind returns a socket on the next free even port.
func (p *Ports) Bind() (*Socket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.hi-p.lo)/2 + 1
	for range n {
		port := p.next
		if p.next += 2; p.next > p.hi {
			p.next = p.lo
		}
		s, err := Bind(netip.AddrPortFrom(p.ip, uint16(port)))
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, unix.EADDRINUSE) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("rtp ports %d-%d: all %d in use", p.lo, p.hi, n)
}
