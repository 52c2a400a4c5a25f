package siprec

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

const waitTimeout = 10 * time.Second

// testRecorder records the Recorder calls it gets.
type testRecorder struct {
	admits  chan Session
	updates chan Session
	ends    chan endCall

	mu       sync.Mutex
	admitErr error
	// hold, when set, makes Admit wait for its context to end or for the
	// channel to close, after announcing itself on held.
	hold chan struct{}
	held chan struct{}
	// endGate, when set, makes End announce the Call-ID on endsBegun and
	// wait for a value from endGate (or its closing) before it returns.
	endGate   chan struct{}
	endsBegun chan string
	inEnd     atomic.Int32 // End calls waiting at endGate
	maxInEnd  atomic.Int32 // the most ever waiting at once
}

type endCall struct {
	s      Session
	reason string
}

func newTestRecorder() *testRecorder {
	return &testRecorder{admits: make(chan Session, 16), updates: make(chan Session, 16), ends: make(chan endCall, 16),
		endsBegun: make(chan string, 16)}
}

func answersFor(s *Session) []MediaAnswer {
	a := make([]MediaAnswer, len(s.Media))
	for i, m := range s.Media {
		if m.Kind == "audio" && len(m.Formats) > 0 {
			a[i] = MediaAnswer{Port: 30000 + 2*i, PT: m.Formats[0].PT}
		}
	}
	return a
}

func (r *testRecorder) Admit(ctx context.Context, s *Session) ([]MediaAnswer, error) {
	r.mu.Lock()
	err, hold, held := r.admitErr, r.hold, r.held
	r.mu.Unlock()
	r.admits <- *s
	if hold != nil {
		close(held)
		select {
		case <-hold:
		case <-ctx.Done():
		}
	}
	if err != nil {
		return nil, err
	}
	return answersFor(s), nil
}

func (r *testRecorder) Update(ctx context.Context, s *Session) ([]MediaAnswer, error) {
	r.updates <- *s
	return answersFor(s), nil
}

func (r *testRecorder) End(s *Session, reason string) {
	r.mu.Lock()
	gate := r.endGate
	r.mu.Unlock()
	if gate != nil {
		n := r.inEnd.Add(1)
		for m := r.maxInEnd.Load(); n > m && !r.maxInEnd.CompareAndSwap(m, n); m = r.maxInEnd.Load() {
		}
		r.endsBegun <- s.CallID
		<-gate
		r.inEnd.Add(-1)
	}
	r.ends <- endCall{*s, reason}
}

// gateEnds makes every End from now on wait at the returned gate: a value
// sent releases one, closing it releases all.
func (r *testRecorder) gateEnds() chan struct{} {
	gate := make(chan struct{})
	r.mu.Lock()
	r.endGate = gate
	r.mu.Unlock()
	return gate
}

func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// noMore fails if c holds a value now.
func noMore[T any](t *testing.T, c <-chan T, what string) {
	t.Helper()
	select {
	case v := <-c:
		t.Errorf("unexpected %s: %+v", what, v)
	default:
	}
}

type testServer struct {
	srv      *Server
	rec      *testRecorder
	udpAddr  string
	tcpAddr  string
	stop     context.CancelFunc
	stopped  chan error
	stopOnce sync.Once
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServer runs a Server on 127.0.0.1 port-0 UDP and TCP sockets.
func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerLog(t, testLogger(t))
}

// startServerLog is startServer with the server logging to log.
func startServerLog(t *testing.T, log *slog.Logger) *testServer {
	t.Helper()
	return startServerWith(t, Config{}, log)
}

// startServerTimers is startServer with the dialog timers tm.
func startServerTimers(t *testing.T, tm Timers) *testServer {
	t.Helper()
	return startServerWith(t, Config{Timers: tm}, testLogger(t))
}

// startServerWith is startServer with a configuration.
func startServerWith(t *testing.T, cfg Config, log *slog.Logger) *testServer {
	t.Helper()
	rec := newTestRecorder()
	cfg.UserAgent = "callvault-test"
	srv, err := NewServer(cfg, rec, log)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen tcp: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{srv: srv, rec: rec, udpAddr: udp.LocalAddr().String(), tcpAddr: tcp.Addr().String(),
		stop: cancel, stopped: make(chan error, 1)}
	go func() { ts.stopped <- srv.Serve(ctx, Listeners{UDP: udp, TCP: tcp}) }()
	t.Cleanup(func() { ts.shutdown(t) })
	return ts
}

// shutdown stops the server and waits for Serve to return.
func (ts *testServer) shutdown(t *testing.T) {
	ts.stopOnce.Do(func() {
		ts.stop()
		if err := recv(t, ts.stopped, "Serve to return"); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

// sipClient speaks raw SIP text over a real socket.
type sipClient struct {
	t         *testing.T
	transport string // "UDP" or "TCP"
	conn      net.Conn
	rd        *bufio.Reader
	server    string
	n         int
	// contact replaces the samples' Contact URI. Over UDP it is the
	// client's socket; over TCP, like a CUBE's, the client's host at port
	// 5060 while the connection comes from an ephemeral port.
	contact string
}

func dialClient(t *testing.T, transport, server string) *sipClient {
	t.Helper()
	c, err := net.Dial(strings.ToLower(transport), server)
	if err != nil {
		t.Fatalf("dial %s: %v", transport, err)
	}
	t.Cleanup(func() { c.Close() })
	contact := "sip:" + c.LocalAddr().String()
	if transport == "TCP" {
		host, _, _ := net.SplitHostPort(c.LocalAddr().String())
		contact = "sip:" + net.JoinHostPort(host, "5060") + ";transport=tcp"
	}
	return &sipClient{t: t, transport: transport, conn: c, rd: bufio.NewReader(c), server: server, contact: contact}
}

// vars are the sample placeholders for a new transaction in call callID.
func (c *sipClient) vars(callID, toTag string) map[string]string {
	c.n++
	return map[string]string{
		"HOST": c.server, "TRANSPORT": c.transport, "CALLID": callID, "TOTAG": toTag,
		"BRANCH": fmt.Sprintf("z9hG4bK-%s-%d-%d", c.transport, time.Now().UnixNano(), c.n),
	}
}

// fixAddrs points the sample's Via and Contact at this client.
func (c *sipClient) fixAddrs(msg []byte) []byte {
	msg = bytes.Replace(msg, []byte("10.10.1.20:5060;branch"), []byte(c.conn.LocalAddr().String()+";rport;branch"), 1)
	return bytes.Replace(msg, []byte("Contact: <sip:10.10.1.20:5060>"), []byte("Contact: <"+c.contact+">"), 1)
}

func (c *sipClient) send(msg []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(msg); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// sendSample sends testdata/name with fresh placeholders; it returns the
// message sent.
func (c *sipClient) sendSample(name, callID, toTag string) []byte {
	c.t.Helper()
	msg := c.fixAddrs(loadSample(c.t, name, c.vars(callID, toTag)))
	c.send(msg)
	return msg
}

// read returns the next final response. 100 Trying is skipped, and so
// are requests: retransmissions of one already read.
func (c *sipClient) read() *sip.Response {
	c.t.Helper()
	for {
		res, ok := c.readMsg().(*sip.Response)
		if ok && res.StatusCode != 100 {
			return res
		}
	}
}

// readRequest returns the next request the server sends (responses
// skipped: there are none unless a test left one unread).
func (c *sipClient) readRequest() *sip.Request {
	c.t.Helper()
	for {
		if req, ok := c.readMsg().(*sip.Request); ok {
			return req
		}
	}
}

// respond answers a request the server sent.
func (c *sipClient) respond(req *sip.Request, code int) {
	c.t.Helper()
	c.send([]byte(sip.NewResponseFromRequest(req, code, Phrase(code), nil).String()))
}

func (c *sipClient) readMsg() sip.Message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	var data []byte
	if c.transport == "UDP" {
		buf := make([]byte, 65535)
		n, err := c.conn.Read(buf)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		data = buf[:n]
	} else {
		var head bytes.Buffer
		length := 0
		for {
			line, err := c.rd.ReadString('\n')
			if err != nil {
				c.t.Fatalf("read: %v", err)
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(c.rd, body); err != nil {
			c.t.Fatalf("read body: %v", err)
		}
		data = append(head.Bytes(), body...)
	}
	msg, err := sip.ParseMessage(data)
	if err != nil {
		c.t.Fatalf("parse message: %v\n%s", err, data)
	}
	return msg
}

// drainUntilQuiet reads, over UDP, what the server sends until nothing
// comes for quiet, and returns how many messages came. It fails when more
// than most come: the server keeps sending.
func (c *sipClient) drainUntilQuiet(quiet time.Duration, most int) int {
	c.t.Helper()
	buf := make([]byte, 65535)
	for n := 0; ; n++ {
		if n > most {
			c.t.Fatalf("still receiving after %d messages", n)
		}
		c.conn.SetReadDeadline(time.Now().Add(quiet))
		if _, err := c.conn.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return n
			}
			c.t.Fatalf("read: %v", err)
		}
	}
}

// waitFor polls cond every millisecond until it holds; it fails after
// waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// expect reads the next final response and checks its status.
func (c *sipClient) expect(code int, what string) *sip.Response {
	c.t.Helper()
	res := c.read()
	if res.StatusCode != code {
		c.t.Fatalf("%s: got %d %s, want %d\n%s", what, res.StatusCode, res.Reason, code, res.String())
	}
	return res
}

// toTag is the tag the server put in a response's To.
func toTag(t *testing.T, res *sip.Response) string {
	t.Helper()
	tag, ok := res.To().Params.Get("tag")
	if !ok || tag == "" {
		t.Fatalf("response without To tag:\n%s", res.String())
	}
	return tag
}

// request builds a simple in-dialog or out-of-dialog request.
func (c *sipClient) request(method, callID, fromTag, toTag string, cseq int, hdrs []string, ct string, body string) []byte {
	v := c.vars(callID, toTag)
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:callvault@%s SIP/2.0\r\n", method, c.server)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;rport;branch=%s\r\n", c.transport, c.conn.LocalAddr(), v["BRANCH"])
	fmt.Fprintf(&b, "From: <sip:10.10.1.20>;tag=%s\r\n", fromTag)
	if toTag != "" {
		fmt.Fprintf(&b, "To: <sip:callvault@%s>;tag=%s\r\n", c.server, toTag)
	} else {
		fmt.Fprintf(&b, "To: <sip:callvault@%s>\r\n", c.server)
	}
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n", callID, cseq, method)
	for _, h := range hdrs {
		b.WriteString(h + "\r\n")
	}
	if ct != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ct)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// ack acknowledges a 2xx to the INVITE with CSeq cseq.
func (c *sipClient) ack(callID, toTag string, cseq int) {
	c.send(c.request("ACK", callID, "5E3F1A2-1B7", toTag, cseq, nil, "", ""))
}

// header returns the value of a message header, "" when absent.
func header(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// logRecords is a slog.Handler that keeps every record.
type logRecords struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// all returns the records kept so far.
func (l *logRecords) all() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.records)
}

// find returns the records with message msg.
func (l *logRecords) find(msg string) []slog.Record {
	var found []slog.Record
	for _, r := range l.all() {
		if r.Message == msg {
			found = append(found, r)
		}
	}
	return found
}
