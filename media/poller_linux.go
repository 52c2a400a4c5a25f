package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pollEvents is the most ready sockets one epoll_wait returns.
const pollEvents = 256

// pollReads is the most datagrams read from one socket per readiness
// event; the rest wait for the next round (the socket stays ready: its
// registration is level-triggered), so one busy leg does not starve the
// others.
const pollReads = 4

// portSocket is a PortConn's socket on Linux: a non-blocking UDP socket
// that Go's netpoller does not know, read by a poller.
type portSocket struct {
	fd     int
	stamps bool // the kernel stamps arrivals (SO_TIMESTAMPNS)

	// mu is held while a poller reads the socket and ingests what it
	// read, and by close: once close has it, no read of fd happens again.
	mu     sync.Mutex
	closed bool
	poller *poller // set while registered
	token  uint32
	r      *Recording
	l      *leg
	errs   int // consecutive read errors
}

// listen binds s, a non-blocking UDP socket, to addr, asking the kernel
// to stamp arrivals.
func (s *portSocket) listen(addr netip.AddrPort) error {
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if a := addr.Addr(); a.Is4() {
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: a.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: a.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	if family == unix.AF_INET6 {
		// As Go's net does: the wildcard takes IPv4 too, a given address
		// only itself.
		v6only := 1
		if addr.Addr().IsUnspecified() {
			v6only = 0
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			unix.Close(fd)
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("bind", err)
	}
	s.fd = fd
	s.stamps = stampLayout && unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil
	return nil
}

// close stops the socket's poller from reading it (waiting for a read in
// progress) and closes it.
func (s *portSocket) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.poller != nil {
		s.poller.remove(s)
		s.readRest()
	}
	return os.NewSyscallError("close", unix.Close(s.fd))
}

// maxRest bounds what readRest reads: 20 s of a leg's packets.
const maxRest = 1000

// readRest ingests the datagrams still waiting in the socket when its
// recording stops: on a busy box the poller may be behind by a second or
// more, and what it has not read yet is the end of the call. s.mu is held.
func (s *portSocket) readRest() {
	rx := receivers.Get().(*receiver)
	defer receivers.Put(rx)
	for range maxRest {
		n, from, at, err := rx.recv(s.fd, s.stamps)
		if err != nil {
			return
		}
		s.r.ingest(s.l, rx.buf[:n], from, at)
	}
}

// receivers are the buffers of readRest.
var receivers = sync.Pool{New: func() any {
	x := new(receiver)
	x.init()
	return x
}}

// pollLeg has leg l read from c by the recording's poller: the first
// polled leg picks one of the pool's pollers, the call's other legs join
// it, so that a call's legs are read one after the other in the same
// round and never by two goroutines at once. r.mu is held.
func (r *Recording) pollLeg(l *leg, c *PortConn) error {
	if r.poller == nil {
		p, err := c.pool.pollers.next()
		if err != nil {
			return err
		}
		r.poller = p
	}
	return r.poller.add(&c.portSocket, r, l)
}

// pollers are a pool's pollers, one per CPU Go runs on, started with the
// pool and stopped by its Close.
type pollers struct {
	mu   sync.Mutex
	list []*poller
	n    int
}

// start starts the pollers.
func (ps *pollers) start() error {
	for range runtime.GOMAXPROCS(0) {
		p, err := newPoller()
		if err != nil {
			ps.stop()
			return fmt.Errorf("rtp poller: %w", err)
		}
		ps.list = append(ps.list, p)
	}
	return nil
}

// stop stops the pollers: the sockets still registered are read no more.
func (ps *pollers) stop() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range ps.list {
		p.stop()
	}
	ps.list = nil
}

// next returns the pollers in turn.
func (ps *pollers) next() (*poller, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.list) == 0 {
		return nil, errors.New("rtp pollers stopped: the port pool is closed")
	}
	ps.n++
	return ps.list[ps.n%len(ps.list)], nil
}

// A poller reads the datagrams of many legs' sockets from one goroutine:
// an epoll instance holds the sockets, and the epoll instance itself is
// waited on in Go's netpoller. Where a goroutine per leg was woken and
// scheduled for every packet, one wake-up serves every socket that became
// ready meanwhile, and a call costs no goroutine stacks or read buffers.
type poller struct {
	epfd int
	file *os.File        // epfd; closing it stops the poller
	ep   syscall.RawConn // epfd, known to Go's netpoller

	mu      sync.Mutex // guards subs, last and stopped
	subs    map[uint32]*portSocket
	last    uint32 // the last token handed out
	stopped bool   // file is closed
	ready   []*portSocket

	// The poller goroutine's own: the epoll events and one datagram.
	events [pollEvents]unix.EpollEvent
	rx     receiver
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(epfd), "rtp-poller") // non-blocking: goes to the netpoller
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &poller{epfd: epfd, file: f, ep: rc, subs: make(map[uint32]*portSocket)}
	p.rx.init()
	go p.run()
	return p, nil
}

// stop closes the epoll instance, which ends run; no epoll_ctl comes
// after it (the descriptor's number may be another file's by then).
func (p *poller) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	_ = p.file.Close()
}

// add registers s, read into leg l of r. r.mu is held; s.mu is not.
func (p *poller) add(s *portSocket, r *Recording, l *leg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("add leg: socket closed")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return errors.New("add leg: rtp poller stopped: the port pool is closed")
	}
	for p.last++; p.subs[p.last] != nil || p.last == 0; p.last++ {
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(p.last)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	s.poller, s.token, s.r, s.l = p, p.last, r, l
	p.subs[p.last] = s
	return nil
}

// remove deregisters s. s.mu is held, so the poller is not reading s.
func (p *poller) remove(s *portSocket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, s.fd, nil)
	}
	delete(p.subs, s.token)
	s.poller = nil
}

// run waits for ready sockets and serves them, until the pool closes.
func (p *poller) run() {
	var werr error
	for {
		err := p.ep.Read(func(uintptr) bool {
			n, err := unix.EpollWait(p.epfd, p.events[:], 0)
			switch {
			case err == unix.EINTR:
				return true // again at once
			case err != nil:
				werr = err
				return true
			case n == 0:
				return false // nothing ready: wait in the netpoller
			}
			p.serve(p.events[:n])
			return true
		})
		if err == nil {
			err = werr
		}
		if errors.Is(err, os.ErrClosed) {
			return
		}
		if err != nil {
			slog.Error("rtp poller stopped: its legs are no longer read", "err", err)
			return
		}
	}
}

// serve reads the sockets of one epoll round. The sockets are looked up
// under p.mu; each is then read under its own lock, which close takes
// before it closes the socket, so a socket closed meanwhile is skipped
// and a closed descriptor is never read.
func (p *poller) serve(events []unix.EpollEvent) {
	p.mu.Lock()
	p.ready = p.ready[:0]
	for i := range events {
		if s := p.subs[uint32(events[i].Fd)]; s != nil {
			p.ready = append(p.ready, s)
		}
	}
	p.mu.Unlock()
	for _, s := range p.ready {
		p.drain(s)
	}
	clear(p.ready)
}

// drain reads up to pollReads datagrams from s and ingests them.
func (p *poller) drain(s *portSocket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range pollReads {
		if s.closed {
			return
		}
		n, from, at, err := p.rx.recv(s.fd, s.stamps)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			return
		case err != nil:
			if s.errs++; s.errs == maxReadErrors {
				s.r.log.Error("rtp leg reader gave up", "leg", s.l.stats.Label, "err", err)
				p.remove(s) // the socket stays open until the recording stops
			}
			return
		}
		s.errs = 0
		s.r.ingest(s.l, p.rx.buf[:n], from, at)
	}
}

// receiver reads one datagram with its source and the kernel's arrival
// stamp, with recvmsg directly: no allocation, no netpoller.
type receiver struct {
	buf  [readBufSize]byte
	oob  [oobSize]byte
	name unix.RawSockaddrInet6 // room for either family
	iov  unix.Iovec
	msg  unix.Msghdr
}

func (x *receiver) init() {
	x.iov.Base = &x.buf[0]
	x.iov.SetLen(len(x.buf))
	x.msg.Name = (*byte)(unsafe.Pointer(&x.name))
	x.msg.Iov = &x.iov
	x.msg.SetIovlen(1)
	x.msg.Control = &x.oob[0]
}

// recv reads one datagram from fd into x.buf.
func (x *receiver) recv(fd int, stamps bool) (int, netip.AddrPort, time.Time, error) {
	x.msg.Namelen = unix.SizeofSockaddrInet6
	x.msg.SetControllen(len(x.oob))
	x.msg.Flags = 0
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&x.msg)), unix.MSG_DONTWAIT)
	if e != 0 {
		return 0, netip.AddrPort{}, time.Time{}, e
	}
	from := x.source()
	if stamps {
		if at, ok := parseStamp(x.oob[:x.msg.Controllen]); ok {
			return int(n), from, at, nil
		}
	}
	return int(n), from, time.Now(), nil
}

// source returns the datagram's source address, IPv4 unmapped.
func (x *receiver) source() netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&x.name.Port))[:])
	switch x.name.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&x.name))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(x.name.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}
