package siprec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// edgeWait bounds every wait for something the limits do: generous, so
// that a slow machine does not fail the tests.
const edgeWait = 5 * time.Second

// edge is a streamListener on a loopback port whose connections echo what
// they read.
type edge struct {
	l    *streamListener
	logs *logRecords
	addr string
	ends chan error // each served connection's last Read error

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startEdge(t *testing.T, lim StreamLimits, conf *tls.Config) *edge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	logs := &logRecords{}
	e := &edge{l: newStreamListener(ln, lim, conf, slog.New(logs)), logs: logs,
		addr: ln.Addr().String(), ends: make(chan error, 1024)}
	e.l.quiet = newQuietLog(0) // every handshake failure logged: the tests look for each
	e.wg.Go(func() {
		for {
			c, err := e.l.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conns = append(e.conns, c)
			e.mu.Unlock()
			e.wg.Go(func() { e.echo(c) })
		}
	})
	t.Cleanup(func() {
		e.l.Close()
		e.mu.Lock()
		for _, c := range e.conns {
			c.Close()
		}
		e.mu.Unlock()
		e.wg.Wait()
	})
	return e
}

// echo serves one connection the way sipgo does: Read until an error,
// then Close.
func (e *edge) echo(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil && err == nil {
				err = werr
			}
		}
		if err != nil {
			c.Close()
			select {
			case e.ends <- err:
			default:
			}
			return
		}
	}
}

// end returns the last Read error of the next served connection to end.
func (e *edge) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-e.ends:
		return err
	case <-time.After(edgeWait):
		t.Fatal("no served connection ended")
	}
	return nil
}

// waitOpen waits until the listener counts n open connections.
func (e *edge) waitOpen(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(edgeWait)
	for e.l.Open() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", e.l.Open(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLog waits for a record with message msg whose attributes include
// want, and returns it.
func waitLog(t *testing.T, logs *logRecords, msg string, want map[string]string) slog.Record {
	t.Helper()
	deadline := time.Now().Add(edgeWait)
	for {
		for _, r := range logs.find(msg) {
			if hasAttrs(r, want) {
				return r
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, r := range logs.all() {
				seen = append(seen, fmt.Sprintf("%s %s %v", r.Level, r.Message, recordAttrs(r)))
			}
			t.Fatalf("no log %q with %v; logged:\n%s", msg, want, strings.Join(seen, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func recordAttrs(r slog.Record) map[string]string {
	m := make(map[string]string)
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

func hasAttrs(r slog.Record, want map[string]string) bool {
	got := recordAttrs(r)
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func dialEdge(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads its echo back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(edgeWait))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read the echo of %d bytes: %v", len(msg), err)
	}
	if string(got) != msg {
		t.Fatalf("echo %q, want %q", got, msg)
	}
}

// expectClosed reads c (discarding any echo) until the far end closes it;
// it fails if that takes longer than edgeWait.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(edgeWait))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %s", edgeWait)
		}
		// A TLS client sees the server's alert or its close as an error.
		if _, ok := c.(*tls.Conn); ok {
			return
		}
		t.Fatalf("read: %v", err)
	}
}

func TestStreamSourceCap(t *testing.T) {
	e := startEdge(t, StreamLimits{SourceConns: 2}, nil)
	a, b := dialEdge(t, e.addr), dialEdge(t, e.addr)
	roundTrip(t, a, optionsMsg)
	roundTrip(t, b, optionsMsg)

	extra := dialEdge(t, e.addr)
	expectClosed(t, extra)
	waitLog(t, e.logs, "sip connection refused", map[string]string{
		"source": "127.0.0.1", "open": "2", "limit": "2", "cap": "source", "refused": "1", "transport": "TCP"})
	if n := e.l.Open(); n != 2 {
		t.Fatalf("%d open after a refusal, want 2", n)
	}

	// A second refusal within 10 s is not logged again.
	expectClosed(t, dialEdge(t, e.addr))
	if n := len(e.logs.find("sip connection refused")); n != 1 {
		t.Fatalf("%d refusal lines, want 1", n)
	}
	if n := e.l.refused.Load(); n != 2 {
		t.Fatalf("%d connections counted as refused, want 2 (each one, logged or not)", n)
	}

	// Closing a connection frees its place.
	a.Close()
	e.waitOpen(t, 1)
	roundTrip(t, dialEdge(t, e.addr), optionsMsg)
	e.waitOpen(t, 2)
	roundTrip(t, b, optionsMsg)

	// Another source has places of its own (127.0.0.2 is loopback too on
	// Linux; skip that part where it is not).
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	other, err := d.Dial("tcp", e.addr)
	if err != nil {
		t.Logf("no second loopback source: %v", err)
		return
	}
	defer other.Close()
	roundTrip(t, other, optionsMsg)
	e.waitOpen(t, 3)
}

func TestStreamTotalCap(t *testing.T) {
	e := startEdge(t, StreamLimits{MaxConns: 3}, nil)
	var cs []net.Conn
	for range 3 {
		c := dialEdge(t, e.addr)
		roundTrip(t, c, optionsMsg)
		cs = append(cs, c)
	}
	expectClosed(t, dialEdge(t, e.addr))
	waitLog(t, e.logs, "sip connection refused", map[string]string{"open": "3", "limit": "3", "cap": "total"})
	cs[0].Close()
	e.waitOpen(t, 2)
	roundTrip(t, dialEdge(t, e.addr), optionsMsg)
	for _, c := range cs[1:] {
		c.Close()
	}
	e.waitOpen(t, 1)
}

func TestStreamIdleTimeout(t *testing.T) {
	// The idle timeout is ten keep-alive periods: a loaded machine may
	// delay one or two, never ten.
	e := startEdge(t, StreamLimits{IdleTimeout: time.Second, HeaderTimeout: 300 * time.Millisecond}, nil)
	idle := dialEdge(t, e.addr)
	alive := dialEdge(t, e.addr)

	// alive sends a CRLF keep-alive every 100 ms for several idle timeouts.
	start := time.Now()
	for time.Since(start) < 3*time.Second {
		roundTrip(t, alive, "\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
	}
	expectClosed(t, idle)
	waitLog(t, e.logs, "sip connection closed", map[string]string{
		"source": idle.LocalAddr().String(), "transport": "TCP", "reason": "idle for 1s"})
	roundTrip(t, alive, inviteMsg)
	if n := e.l.Open(); n != 1 {
		t.Fatalf("%d open, want the keep-alive one", n)
	}
	// The limit's close reads io.EOF on the server's side, not a timeout.
	if err := e.end(t); err != io.EOF {
		t.Fatalf("server read %v after the idle close, want io.EOF", err)
	}
	expectClosed(t, alive)
	e.waitOpen(t, 0)
}

func TestStreamTrickledHeader(t *testing.T) {
	e := startEdge(t, StreamLimits{IdleTimeout: time.Minute, HeaderTimeout: 300 * time.Millisecond}, nil)
	c := dialEdge(t, e.addr)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		expectClosed(t, c)
	}()
	// One byte every 50 ms: always active, never done with its headers.
	partial := []byte(inviteMsg[:strings.Index(inviteMsg, "\r\n\r\n")])
	sent := 0
trickle:
	for _, b := range partial {
		select {
		case <-closed:
			break trickle
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := c.Write([]byte{b}); err != nil {
			break
		}
		sent++
	}
	<-closed
	if sent == len(partial) {
		t.Fatalf("all %d header bytes trickled without the connection being closed", sent)
	}
	waitLog(t, e.logs, "sip connection closed", map[string]string{
		"reason": "headers incomplete 300ms after the first byte", "transport": "TCP"})
	e.waitOpen(t, 0)
}

func TestStreamMessagesAcrossReads(t *testing.T) {
	e := startEdge(t, StreamLimits{IdleTimeout: 2 * time.Second, HeaderTimeout: 2 * time.Second}, nil)
	c := dialEdge(t, e.addr)
	c.SetDeadline(time.Now().Add(edgeWait))
	// A complete header section and part of the body, then the rest.
	cut := strings.Index(inviteMsg, "\r\n\r\n") + 4 + 10
	want := inviteMsg + optionsMsg + inviteMsg
	for _, part := range []string{inviteMsg[:cut], inviteMsg[cut:] + optionsMsg + inviteMsg[:20], inviteMsg[20:]} {
		if _, err := io.WriteString(c, part); err != nil {
			t.Fatalf("write: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != want {
		t.Fatalf("read %q, want %q", got, want)
	}
	if n := len(e.logs.find("sip connection closed")); n != 0 {
		t.Fatalf("%d connections closed by a limit", n)
	}
}

func TestStreamBodyStalls(t *testing.T) {
	e := startEdge(t, StreamLimits{IdleTimeout: 300 * time.Millisecond, HeaderTimeout: time.Minute}, nil)
	c := dialEdge(t, e.addr)
	cut := strings.Index(inviteMsg, "\r\n\r\n") + 4 + 10
	io.WriteString(c, inviteMsg[:cut])
	expectClosed(t, c)
	waitLog(t, e.logs, "sip connection closed", map[string]string{
		"reason": "body incomplete, nothing received for 300ms"})
}

func TestStreamFramingLimits(t *testing.T) {
	for _, tc := range []struct {
		name, data, reason string
	}{
		{"header too large", optionsMsg + "INVITE sip:a@b SIP/2.0\r\nX-Pad: " + strings.Repeat("a", 2000) + "\r\n",
			"header section over 1024 bytes"},
		{"negative length", "INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n", "negative Content-Length"},
		{"huge length", "INVITE sip:a@b SIP/2.0\r\nl: 999999999\r\n\r\n", "Content-Length over 16777216 bytes"},
		{"unreadable length", "INVITE sip:a@b SIP/2.0\r\nl: ten\r\n\r\n", "Content-Length unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEdge(t, StreamLimits{MaxHeaderBytes: 1024}, nil)
			c := dialEdge(t, e.addr)
			io.WriteString(c, tc.data)
			expectClosed(t, c)
			waitLog(t, e.logs, "sip connection closed", map[string]string{"reason": tc.reason})
			e.waitOpen(t, 0)
		})
	}
}

func TestStreamPeerReset(t *testing.T) {
	e := startEdge(t, StreamLimits{IdleTimeout: time.Minute}, nil)
	c := dialEdge(t, e.addr)
	roundTrip(t, c, optionsMsg)
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	if err := e.end(t); !errors.Is(err, syscall.ECONNRESET) && err != io.EOF {
		t.Fatalf("server read %v, want the reset", err)
	}
	e.waitOpen(t, 0)
	if n := len(e.logs.find("sip connection closed")); n != 0 {
		t.Fatalf("a peer's reset was logged as a limit closing the connection")
	}
}

func TestStreamCallerReadDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecords{}
	l := newStreamListener(ln, StreamLimits{IdleTimeout: time.Minute}, nil, slog.New(logs))
	defer l.Close()
	c := dialEdge(t, ln.Addr().String())
	sc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = sc.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the caller's deadline: %v, want a timeout", err)
	}
	// The connection is still good once the caller lifts its deadline.
	sc.SetReadDeadline(time.Time{})
	io.WriteString(c, "\r\n")
	if n, err := sc.Read(make([]byte, 10)); n != 2 || err != nil {
		t.Fatalf("read %d, %v after the deadline was lifted", n, err)
	}
	if len(logs.all()) != 0 {
		t.Fatalf("logged %v", logs.all())
	}
	sc.Close()
	if err := sc.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := l.Open(); n != 0 {
		t.Fatalf("%d open after Close twice", n)
	}
}

func TestConnTally(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	tl := newConnTally(3, 2)
	for _, src := range []netip.Addr{a, a, b} {
		if ok, _, _, _ := tl.admit(src); !ok {
			t.Fatalf("%v refused", src)
		}
	}
	if ok, open, limit, scope := tl.admit(a); ok || open != 2 || limit != 2 || scope != "source" {
		t.Fatalf("third from a: %v %d %d %q", ok, open, limit, scope)
	}
	if ok, open, limit, scope := tl.admit(b); ok || open != 3 || limit != 3 || scope != "total" {
		t.Fatalf("fourth in all: %v %d %d %q", ok, open, limit, scope)
	}
	tl.release(a)
	if ok, _, _, _ := tl.admit(b); !ok {
		t.Fatal("refused after a release")
	}
	tl.release(a)
	tl.release(b)
	tl.release(b)
	if tl.total != 0 || len(tl.open) != 0 {
		t.Fatalf("after releasing all: total %d, %v", tl.total, tl.open)
	}

	// Refusals: one line per source per 10 s, counting those in between.
	t0 := time.Unix(1000, 0)
	if line, _ := tl.refuse(a, t0, 2, 2, "source"); line == nil || line.pending != 1 {
		t.Fatalf("first refusal: %+v", line)
	}
	for i := 1; i <= 4; i++ {
		if line, _ := tl.refuse(a, t0.Add(time.Duration(i)*time.Second), 2, 2, "source"); line != nil {
			t.Fatalf("refusal %d within 10 s logged", i)
		}
	}
	if line, _ := tl.refuse(b, t0.Add(5*time.Second), 3, 3, "total"); line == nil || line.source != b {
		t.Fatalf("another source's refusal: %+v", line)
	}
	line, _ := tl.refuse(a, t0.Add(10*time.Second), 2, 2, "source")
	if line == nil || line.pending != 5 {
		t.Fatalf("refusal after 10 s: %+v, want 5 refused", line)
	}
	// a goes quiet with one refusal unlogged; a later sweep reports it.
	tl.refuse(a, t0.Add(11*time.Second), 2, 2, "source")
	_, quiet := tl.refuse(b, t0.Add(25*time.Second), 3, 3, "total")
	if len(quiet) != 1 || quiet[0].source != a || quiet[0].pending != 1 {
		t.Fatalf("sweep: %+v", quiet)
	}
	if _, ok := tl.refused[a]; ok {
		t.Fatal("a quiet source was kept")
	}
}

// flakyListener fails its first Accepts as a process out of descriptors
// does.
type flakyListener struct {
	net.Listener
	fails int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

func TestStreamAcceptRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecords{}
	l := newStreamListener(&flakyListener{Listener: ln, fails: 3}, StreamLimits{}, nil, slog.New(logs))
	defer l.Close()
	c := dialEdge(t, ln.Addr().String())
	sc, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	defer sc.Close()
	if sc.RemoteAddr().String() != c.LocalAddr().String() {
		t.Fatalf("accepted %v, want %v", sc.RemoteAddr(), c.LocalAddr())
	}
	if n := len(logs.find("sip accept failed")); n != 3 {
		t.Fatalf("%d accept failures logged, want 3", n)
	}

	// Close ends an Accept waiting out a failure.
	l2 := newStreamListener(&flakyListener{Listener: ln, fails: 1000}, StreamLimits{}, nil, slog.New(logs))
	errc := make(chan error, 1)
	go func() {
		_, err := l2.Accept()
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l2.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	case <-time.After(edgeWait):
		t.Fatal("Accept did not return after Close")
	}
}

// TLS.

// testCA is a certificate authority made up for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var certSerial struct {
	sync.Mutex
	n int64
}

func nextSerial() *big.Int {
	certSerial.Lock()
	defer certSerial.Unlock()
	certSerial.n++
	return big.NewInt(certSerial.n)
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue makes a leaf certificate for 127.0.0.1: a server's or a client's.
func (ca *testCA) issue(t *testing.T, name string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageClientAuth
	if server {
		usage = x509.ExtKeyUsageServerAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// dialTLS connects a TLS client trusting ca and completes its side of the
// handshake. The client presents cert when the server asks for one, even
// one from a CA the server did not name.
func dialTLS(t *testing.T, addr string, ca *testCA, cert *tls.Certificate) (*tls.Conn, error) {
	t.Helper()
	raw := dialEdge(t, addr)
	conf := &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"}
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if cert == nil {
			return &tls.Certificate{}, nil
		}
		return cert, nil
	}
	c := tls.Client(raw, conf)
	c.SetDeadline(time.Now().Add(edgeWait))
	err := c.Handshake()
	c.SetDeadline(time.Time{})
	return c, err
}

func TestStreamTLS(t *testing.T) {
	ca := newTestCA(t, "callvault test CA")
	conf := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "recorder", true)}}
	e := startEdge(t, StreamLimits{IdleTimeout: 300 * time.Millisecond, HeaderTimeout: 300 * time.Millisecond}, conf)
	c, err := dialTLS(t, e.addr, ca, nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	roundTrip(t, c, inviteMsg+optionsMsg)
	if got := e.l.Addr().String(); got != e.addr {
		t.Fatalf("Addr %s, want %s", got, e.addr)
	}
	// The limits hold over TLS too.
	expectClosed(t, c)
	waitLog(t, e.logs, "sip connection closed", map[string]string{"transport": "TLS", "reason": "idle for 300ms"})
	e.waitOpen(t, 0)
}

func TestStreamMutualTLS(t *testing.T) {
	ca := newTestCA(t, "callvault test CA")
	other := newTestCA(t, "some other CA")
	conf := &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, "recorder", true)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.pool,
	}
	e := startEdge(t, StreamLimits{IdleTimeout: time.Minute, HeaderTimeout: 2 * time.Second}, conf)

	cube := ca.issue(t, "cube", false)
	good, err := dialTLS(t, e.addr, ca, &cube)
	if err != nil {
		t.Fatalf("handshake with a good certificate: %v", err)
	}
	roundTrip(t, good, optionsMsg)

	intruder := other.issue(t, "intruder", false)
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		err  string // in the server's log
	}{
		{"no certificate", nil, "didn't provide a certificate"},
		{"other CA", &intruder, "unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.logs.find("sip tls handshake failed"))
			c, err := dialTLS(t, e.addr, ca, tc.cert)
			if err == nil {
				// In TLS 1.3 the client is done before the server has
				// checked its certificate: the refusal comes on its next read.
				c.SetReadDeadline(time.Now().Add(edgeWait))
				_, err = c.Read(make([]byte, 1))
			}
			if err == nil {
				t.Fatal("served without an acceptable certificate")
			}
			deadline := time.Now().Add(edgeWait)
			for len(e.logs.find("sip tls handshake failed")) == before {
				if time.Now().After(deadline) {
					t.Fatal(`no "sip tls handshake failed" logged`)
				}
				time.Sleep(5 * time.Millisecond)
			}
			r := e.logs.find("sip tls handshake failed")[before]
			if r.Level != slog.LevelWarn || recordAttrs(r)["source"] != c.NetConn().LocalAddr().String() || !strings.Contains(recordAttrs(r)["error"], tc.err) {
				t.Fatalf("logged %s %v", r.Level, recordAttrs(r))
			}
		})
	}
	e.waitOpen(t, 1)
	roundTrip(t, good, optionsMsg)
}

func TestStreamTLSRefusesPlainAndSilent(t *testing.T) {
	ca := newTestCA(t, "callvault test CA")
	conf := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "recorder", true)}}
	e := startEdge(t, StreamLimits{IdleTimeout: time.Minute, HeaderTimeout: 300 * time.Millisecond}, conf)

	plain := dialEdge(t, e.addr)
	io.WriteString(plain, inviteMsg)
	expectClosed(t, plain)
	waitLog(t, e.logs, "sip tls handshake failed", map[string]string{"source": plain.LocalAddr().String()})

	// A client that never says hello is cut off by HeaderTimeout.
	silent := dialEdge(t, e.addr)
	expectClosed(t, silent)
	r := waitLog(t, e.logs, "sip tls handshake failed", map[string]string{"source": silent.LocalAddr().String()})
	if !strings.Contains(recordAttrs(r)["error"], "timeout") {
		t.Fatalf("silent client: %v", recordAttrs(r))
	}
	e.waitOpen(t, 0)
	if err := e.end(t); err != io.EOF {
		t.Fatalf("server read %v after a failed handshake, want io.EOF", err)
	}
	if n := e.l.failed.Load(); n != 2 {
		t.Fatalf("%d failed handshakes counted, want 2", n)
	}
}

// TestStreamScannerThroughSipgo is the scanner of the task: 100 idle
// connections and 100 trickling an INVITE that never ends its headers, at
// a sipgo server serving the streamListener. All are closed, sipgo logs
// nothing above debug for them, and no goroutine is left behind.
func TestStreamScannerThroughSipgo(t *testing.T) {
	sipLogs := &logRecords{}
	sipLog := slog.New(sipLogs)
	ua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecords{}
	l := newStreamListener(ln, StreamLimits{IdleTimeout: 300 * time.Millisecond, HeaderTimeout: 300 * time.Millisecond}, nil, slog.New(logs))
	served := make(chan error, 1)
	go func() { served <- srv.ServeTCP(l) }()
	defer func() {
		l.Close()
		<-served
	}()
	addr := ln.Addr().String()

	// sipgo answers through the listener.
	c := dialEdge(t, addr)
	options := sipMsg("OPTIONS sip:rec@127.0.0.1 SIP/2.0", []string{
		"Via: SIP/2.0/TCP " + c.LocalAddr().String() + ";branch=z9hG4bK-edge-1",
		"From: <sip:scan@127.0.0.1>;tag=1",
		"To: <sip:rec@127.0.0.1>",
		"Call-ID: edge-options-1",
		"CSeq: 1 OPTIONS",
		"Max-Forwards: 70",
		"Content-Length: 0",
	}, "")
	c.SetDeadline(time.Now().Add(edgeWait))
	io.WriteString(c, options)
	// Read the whole answer: closing with bytes unread would reset the
	// connection, which sipgo logs as an error.
	var answer []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(answer), "\r\n\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("answer %q: %v", answer, err)
		}
		answer = append(answer, buf[:n]...)
	}
	if !strings.HasPrefix(string(answer), "SIP/2.0 200 ") {
		t.Fatalf("answer %q", answer)
	}
	c.Close()
	deadline := time.Now().Add(edgeWait)
	for l.Open() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d open after the OPTIONS client left", l.Open())
		}
		time.Sleep(5 * time.Millisecond)
	}

	base := runtime.NumGoroutine()
	partial := []byte(inviteMsg[:strings.Index(inviteMsg, "\r\n\r\n")])
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for i := range 200 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		wg.Go(func() {
			defer c.Close()
			closed := make(chan error, 1)
			go func() {
				c.SetReadDeadline(time.Now().Add(2 * edgeWait))
				_, err := io.Copy(io.Discard, c)
				closed <- err
			}()
			if i%2 == 1 {
			trickle:
				for _, b := range partial {
					select {
					case err := <-closed:
						closed <- err
						break trickle
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := c.Write([]byte{b}); err != nil {
						break
					}
				}
			}
			if err := <-closed; err != nil && !errors.Is(err, syscall.ECONNRESET) {
				fail("connection %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	deadline = time.Now().Add(2 * edgeWait)
	for l.Open() != 0 || runtime.NumGoroutine() > base+3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d open, %d goroutines, %d before the scan", l.Open(), runtime.NumGoroutine(), base)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var idle, header int
	for _, r := range logs.find("sip connection closed") {
		switch recordAttrs(r)["reason"] {
		case "idle for 300ms":
			idle++
		case "headers incomplete 300ms after the first byte":
			header++
		}
	}
	if idle != 100 || header != 100 {
		t.Errorf("closed %d idle and %d incomplete, want 100 each", idle, header)
	}
	for _, r := range sipLogs.all() {
		if r.Level >= slog.LevelWarn {
			t.Errorf("sipgo logged %s %q %v", r.Level, r.Message, recordAttrs(r))
		}
	}
}
