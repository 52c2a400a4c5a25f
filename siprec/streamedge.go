package siprec

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
)

// StreamLimits bound the TCP and TLS connections of the SIP listeners.
// sipgo reads each connection without a deadline and accepts without a
// cap, so without them a peer can hold any number of connections open,
// idle or trickling a message that never ends.
type StreamLimits struct {
	// MaxConns caps the open connections in all; 0 for no cap.
	MaxConns int
	// SourceConns caps the open connections per source IP address; 0 for
	// no cap.
	SourceConns int
	// IdleTimeout closes a connection that receives nothing, not even a
	// CRLF keep-alive, for this long between messages or within a body;
	// 0 for never.
	IdleTimeout time.Duration
	// HeaderTimeout is how long after its first byte a message's start
	// line and headers must be complete; it also bounds the TLS
	// handshake. 0 means 10 s.
	HeaderTimeout time.Duration
	// MaxHeaderBytes closes a connection whose message has a larger header
	// section; 0 means 64 KiB.
	MaxHeaderBytes int
}

const (
	defaultHeaderTimeout = 10 * time.Second
	// refusalQuiet is how long refusals from one source go unlogged after
	// one was logged.
	refusalQuiet = 10 * time.Second
)

// withDefaults fills the zero fields that have a default.
func (lim StreamLimits) withDefaults() StreamLimits {
	if lim.HeaderTimeout <= 0 {
		lim.HeaderTimeout = defaultHeaderTimeout
	}
	if lim.MaxHeaderBytes <= 0 {
		lim.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	return lim
}

// connTally counts open connections per source and in all, and rations
// the log lines about refused ones. It is pure: the caller passes the
// time and does the locking.
type connTally struct {
	maxConns, sourceConns int
	total                 int
	open                  map[netip.Addr]int
	refused               map[netip.Addr]*refusal
	swept                 time.Time
}

// refusal is what the log has not yet said about a source's refused
// connections.
type refusal struct {
	source  netip.Addr
	logged  time.Time // last line about the source
	pending int       // refused since that line
	open    int       // as at the last refusal
	limit   int
	scope   string
}

func newConnTally(maxConns, sourceConns int) *connTally {
	return &connTally{maxConns: maxConns, sourceConns: sourceConns,
		open: make(map[netip.Addr]int), refused: make(map[netip.Addr]*refusal)}
}

// admit counts a connection from src if no cap refuses it. Otherwise it
// returns ok false with the open connections and the limit of the cap
// that refused it, and scope "source" or "total".
func (t *connTally) admit(src netip.Addr) (ok bool, open, limit int, scope string) {
	if n := t.open[src]; t.sourceConns > 0 && n >= t.sourceConns {
		return false, n, t.sourceConns, "source"
	}
	if t.maxConns > 0 && t.total >= t.maxConns {
		return false, t.total, t.maxConns, "total"
	}
	t.open[src]++
	t.total++
	return true, 0, 0, ""
}

// release uncounts a connection admit counted.
func (t *connTally) release(src netip.Addr) {
	if n := t.open[src]; n > 1 {
		t.open[src] = n - 1
	} else {
		delete(t.open, src)
	}
	t.total--
}

// refuse notes a refused connection from src at now. It returns the line
// to log about src, if one is due (refused counts the connections from
// src refused since its last line, this one included), and the lines due
// for sources that went quiet with refusals never logged.
func (t *connTally) refuse(src netip.Addr, now time.Time, open, limit int, scope string) (line *refusal, quiet []refusal) {
	r := t.refused[src]
	if r == nil {
		r = &refusal{source: src}
		t.refused[src] = r
	}
	r.pending++
	r.open, r.limit, r.scope = open, limit, scope
	if r.logged.IsZero() || now.Sub(r.logged) >= refusalQuiet {
		out := *r
		line = &out
		r.logged, r.pending = now, 0
	}
	// src was logged within refusalQuiet: the sweep leaves it be.
	return line, t.sweep(now)
}

// sweep forgets the sources last logged more than refusalQuiet before
// now, at most once per refusalQuiet, and returns those with refusals not
// yet logged.
func (t *connTally) sweep(now time.Time) []refusal {
	if now.Sub(t.swept) < refusalQuiet {
		return nil
	}
	t.swept = now
	var quiet []refusal
	for src, r := range t.refused {
		if now.Sub(r.logged) < refusalQuiet {
			continue
		}
		if r.pending > 0 {
			quiet = append(quiet, *r)
		}
		delete(t.refused, src)
	}
	return quiet
}

// streamListener wraps the TCP listener of a SIP stream transport (TCP,
// or TLS with tlsConf). It caps the open connections per source and in
// all, and bounds each connection's reading in time and size (see
// streamConn). Accept never waits on a peer: the TLS handshake happens in
// the connection's first Read.
type streamListener struct {
	ln        net.Listener
	lim       StreamLimits
	tlsConf   *tls.Config
	transport string // "TCP" or "TLS", for the log
	log       *slog.Logger
	quiet     *quietLog // rations the handshake failures and rejected messages logged per source
	parser    *sip.Parser
	// userAgent names us in the Server header of the 400s this sends.
	userAgent string

	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu    sync.Mutex
	tally *connTally

	// refused counts the connections closed at once for a cap; failed the
	// TLS handshakes that failed (not counting peers that closed first).
	refused, failed atomic.Int64
}

// newStreamListener wraps ln, a plain TCP listener. With tlsConf non-nil
// each accepted connection is served as TLS; for mutual TLS tlsConf has
// ClientAuth tls.RequireAndVerifyClientCert and ClientCAs.
func newStreamListener(ln net.Listener, lim StreamLimits, tlsConf *tls.Config, log *slog.Logger) *streamListener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := "TCP"
	if tlsConf != nil {
		transport = "TLS"
	}
	lim = lim.withDefaults()
	return &streamListener{ln: ln, lim: lim, tlsConf: tlsConf, transport: transport, log: log,
		done: make(chan struct{}), tally: newConnTally(lim.MaxConns, lim.SourceConns), quiet: newQuietLog(refusalQuiet),
		parser: sip.NewParser()}
}

// Accept returns the next connection within the caps. One over a cap is
// closed at once and not returned. A lack of file descriptors or buffers
// is waited out (with a growing pause, up to a second) rather than
// returned: sipgo stops serving on any Accept error.
func (l *streamListener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		raw, err := l.ln.Accept()
		if err != nil {
			if !acceptExhausted(err) {
				return nil, err
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			l.log.Warn("sip accept failed", "transport", l.transport, "error", err.Error(), "retry_in", pause.String())
			if !l.sleep(pause) {
				return nil, net.ErrClosed
			}
			continue
		}
		pause = 0
		src := sourceAddr(raw.RemoteAddr())
		l.mu.Lock()
		ok, open, limit, scope := l.tally.admit(src)
		var line *refusal
		var quiet []refusal
		if !ok {
			line, quiet = l.tally.refuse(src, time.Now(), open, limit, scope)
		}
		l.mu.Unlock()
		if !ok {
			for _, r := range quiet {
				l.logRefusal(r)
			}
			if line != nil {
				l.logRefusal(*line)
			}
			l.refused.Add(1)
			raw.Close()
			continue
		}
		return l.newConn(raw, src), nil
	}
}

func (l *streamListener) logRefusal(r refusal) {
	l.log.Warn("sip connection refused", "transport", l.transport, "source", r.source.String(),
		"open", r.open, "limit", r.limit, "cap", r.scope, "refused", r.pending)
}

// sleep waits d, or until the listener is closed (then it returns false).
func (l *streamListener) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	}
}

// acceptExhausted reports an Accept error that says the process is out of
// descriptors or memory for now, not that the listener is broken.
func acceptExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// Close closes the listener. Connections already accepted stay open.
func (l *streamListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.ln.Close()
}

// Addr is the listener's address.
func (l *streamListener) Addr() net.Addr { return l.ln.Addr() }

// Open returns the number of connections open now.
func (l *streamListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tally.total
}

func (l *streamListener) release(src netip.Addr) {
	l.mu.Lock()
	l.tally.release(src)
	l.mu.Unlock()
}

// sourceAddr is the IP address a connection comes from (IPv4 unmapped).
func sourceAddr(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort().Addr().Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// streamConn is an accepted connection as sipgo gets it. Its Read keeps a
// framer over the bytes read and sets the read deadline from it: between
// messages and within a body, the last activity plus IdleTimeout; within
// a header section, its first byte plus HeaderTimeout. A connection that
// overruns a limit is closed, logged, and reads io.EOF, which sipgo takes
// for a normal close. Writes are passed through untouched.
//
// sipgo reads from one goroutine and writes and closes from others: the
// fields under "reader" are the Read goroutine's alone.
type streamConn struct {
	l    *streamListener
	raw  net.Conn  // the TCP connection
	conn net.Conn  // raw, or the TLS connection over it
	tls  *tls.Conn // nil for TCP
	src  netip.Addr

	// reader
	fr        framer
	msgs      streamMessages // whole, checked messages for sipgo
	readErr   error          // the connection's read error, returned once msgs is empty
	handshook bool
	ended     bool      // a limit or a failed handshake closed the connection
	last      time.Time // last bytes read (or the connection's start)
	headerBy  time.Time // deadline of the header section being read

	mu       sync.Mutex
	ours     time.Time // the deadline the limits ask for; zero for none
	caller   time.Time // read deadline set through SetReadDeadline or SetDeadline
	armed    time.Time // read deadline set on raw
	armedSet bool

	closeOnce sync.Once
	closeErr  error
}

func (l *streamListener) newConn(raw net.Conn, src netip.Addr) *streamConn {
	c := &streamConn{l: l, raw: raw, conn: raw, src: src, fr: newFramer(l.lim.MaxHeaderBytes), last: time.Now()}
	c.msgs = streamMessages{fr: &c.fr, parser: l.parser}
	if l.tlsConf != nil {
		c.tls = tls.Server(raw, l.tlsConf)
		c.conn = c.tls
	}
	return c
}

// Read reads from the connection within the limits; see streamConn. It
// returns whole messages that sipgo's parser accepts (and the keep-alives
// between them); a request it refuses is answered 400 here.
func (c *streamConn) Read(b []byte) (int, error) {
	for {
		if n := c.msgs.next(b); n > 0 {
			return n, nil
		}
		if c.ended {
			return 0, io.EOF
		}
		if c.readErr != nil {
			return 0, c.readErr
		}
		if c.tls != nil && !c.handshook && !c.handshake() {
			return 0, io.EOF
		}
		if err := c.arm(); err != nil {
			return 0, err
		}
		n, err := c.conn.Read(b)
		if n > 0 {
			now := time.Now()
			c.last = now
			if reason := c.track(b[:n], now); reason != "" {
				// Messages that ended before the offence in this read are
				// dropped too: their answers could not be sent.
				c.limitClose(reason)
				return 0, io.EOF
			}
		}
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.limitExpired() {
			c.limitClose(c.timeoutReason())
			return 0, io.EOF
		}
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			// The caller's own deadline: not sticky, and what this read
			// completed goes first.
			if c.msgs.queued() {
				continue
			}
			return 0, err
		}
		c.readErr = err
	}
}

// track runs the framer over freshly read bytes, answers the requests
// sipgo could not parse, and returns why the connection must close when
// the bytes break a limit.
func (c *streamConn) track(p []byte, now time.Time) (reason string) {
	starts := c.fr.starts
	bad, reason := c.msgs.take(p)
	for _, r := range bad {
		c.refuse(r)
	}
	if reason != "" {
		return reason
	}
	if c.fr.phase == frameHeader && c.fr.starts != starts {
		c.headerBy = now.Add(c.l.lim.HeaderTimeout)
	}
	return ""
}

// refuse answers a request sipgo could not parse (or that judgeMessage
// finds unfit) with its status and the reason
// (a response, or a request too broken to answer, is dropped), and logs
// it at most once per source per interval.
func (c *streamConn) refuse(r rejected) {
	resp := statelessResponse(r.msg, r.refusal.Code, r.refusal.Text, c.l.userAgent)
	if resp != nil {
		if _, err := c.conn.Write(resp); err != nil {
			c.l.log.Debug("send 400 failed", "source", c.raw.RemoteAddr().String(), "error", err)
		}
	}
	if skipped, ok := c.l.quiet.allow(c.src, time.Now()); ok {
		c.l.log.Warn("sip message rejected", "source", c.raw.RemoteAddr().String(), "transport", c.l.transport,
			"status", r.refusal.Code, "reason", r.refusal.Text, "answered", resp != nil, "unlogged_before", skipped)
	}
}

// handshake runs the TLS handshake within HeaderTimeout. On failure it
// logs, closes the connection and returns false.
func (c *streamConn) handshake() bool {
	deadline := time.Now().Add(c.l.lim.HeaderTimeout)
	c.mu.Lock()
	c.raw.SetDeadline(deadline)
	c.armed, c.armedSet = deadline, true
	c.mu.Unlock()
	err := c.tls.Handshake()
	c.raw.SetWriteDeadline(time.Time{})
	if err != nil {
		c.ended = true
		c.Close()
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
			// A port probe, a load balancer's health check, or our own
			// shutdown.
			c.l.log.Debug("sip tls connection closed before its handshake", "source", c.raw.RemoteAddr().String(), "error", err.Error())
			return false
		}
		c.l.failed.Add(1)
		if skipped, ok := c.l.quiet.allow(sourceAddr(c.raw.RemoteAddr()), time.Now()); ok {
			c.l.log.Warn("sip tls handshake failed", "source", c.raw.RemoteAddr().String(), "error", err.Error(), "unlogged_before", skipped)
		}
		return false
	}
	c.handshook = true
	c.last = time.Now()
	return true
}

// arm sets the read deadline the framer's phase asks for, or the
// caller's if that is earlier.
func (c *streamConn) arm() error {
	var ours time.Time
	switch c.fr.phase {
	case frameHeader:
		ours = c.headerBy
	default:
		if idle := c.l.lim.IdleTimeout; idle > 0 {
			ours = c.last.Add(idle)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ours = ours
	return c.setLocked()
}

// setLocked puts the earlier of the limits' and the caller's read
// deadlines on raw; with c.mu held.
func (c *streamConn) setLocked() error {
	d := earlier(c.ours, c.caller)
	if c.armedSet && d.Equal(c.armed) {
		return nil
	}
	if err := c.raw.SetReadDeadline(d); err != nil {
		return err
	}
	c.armed, c.armedSet = d, true
	return nil
}

// earlier returns the earlier of two deadlines, zero meaning none.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// limitExpired reports whether the deadline that expired was the limits'
// rather than the caller's.
func (c *streamConn) limitExpired() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.ours.IsZero() && (c.caller.IsZero() || !c.caller.Before(c.ours))
}

func (c *streamConn) timeoutReason() string {
	switch c.fr.phase {
	case frameHeader:
		return fmt.Sprintf("headers incomplete %s after the first byte", c.l.lim.HeaderTimeout)
	case frameBody:
		return fmt.Sprintf("body incomplete, nothing received for %s", c.l.lim.IdleTimeout)
	}
	return fmt.Sprintf("idle for %s", c.l.lim.IdleTimeout)
}

// limitClose closes the connection because it overran a limit.
func (c *streamConn) limitClose(reason string) {
	c.ended = true
	c.l.log.Info("sip connection closed", "source", c.raw.RemoteAddr().String(), "transport", c.l.transport, "reason", reason)
	c.Close()
}

// Write writes to the connection, as it would without the limits.
func (c *streamConn) Write(b []byte) (int, error) { return c.conn.Write(b) }

// Close closes the connection once and gives its place back to the
// listener's caps; later calls return what the first did. A TLS
// close_notify that cannot be sent is not an error: the connection is
// closed all the same.
func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		err := c.conn.Close()
		if err != nil && c.tls != nil && errors.Is(c.raw.Close(), net.ErrClosed) {
			err = nil
		}
		c.closeErr = err
		c.l.release(c.src)
	})
	return c.closeErr
}

func (c *streamConn) LocalAddr() net.Addr  { return c.raw.LocalAddr() }
func (c *streamConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the write deadline and the caller's read deadline,
// which Read honours alongside the limits'.
func (c *streamConn) SetDeadline(t time.Time) error {
	if err := c.raw.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// SetReadDeadline sets the caller's read deadline: Read ends at it or at
// the limits' deadline, whichever comes first.
func (c *streamConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caller = t
	return c.setLocked()
}

func (c *streamConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }
