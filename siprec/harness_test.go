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
	"strconv"
	"strings"
	"sync"
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
}

type endCall struct {
	s      Session
	reason string
}

func newTestRecorder() *testRecorder {
	return &testRecorder{admits: make(chan Session, 16), updates: make(chan Session, 16), ends: make(chan endCall, 16)}
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
	r.ends <- endCall{*s, reason}
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
	rec := newTestRecorder()
	srv, err := NewServer(Config{UserAgent: "callvault-test"}, rec, testLogger(t))
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
	go func() { ts.stopped <- srv.Serve(ctx, udp, tcp) }()
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
}

func dialClient(t *testing.T, transport, server string) *sipClient {
	t.Helper()
	c, err := net.Dial(strings.ToLower(transport), server)
	if err != nil {
		t.Fatalf("dial %s: %v", transport, err)
	}
	t.Cleanup(func() { c.Close() })
	return &sipClient{t: t, transport: transport, conn: c, rd: bufio.NewReader(c), server: server}
}

// vars are the sample placeholders for a new transaction in call callID.
func (c *sipClient) vars(callID, toTag string) map[string]string {
	c.n++
	return map[string]string{
		"HOST": c.server, "TRANSPORT": c.transport, "CALLID": callID, "TOTAG": toTag,
		"BRANCH": fmt.Sprintf("z9hG4bK-%s-%d-%d", c.transport, time.Now().UnixNano(), c.n),
	}
}

// fixVia points the sample's Via at this client.
func (c *sipClient) fixVia(msg []byte) []byte {
	return bytes.Replace(msg, []byte("10.10.1.20:5060;branch"), []byte(c.conn.LocalAddr().String()+";rport;branch"), 1)
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
	msg := c.fixVia(loadSample(c.t, name, c.vars(callID, toTag)))
	c.send(msg)
	return msg
}

// read returns the next final response (100 Trying skipped).
func (c *sipClient) read() *sip.Response {
	c.t.Helper()
	for {
		res := c.readAny()
		if res.StatusCode != 100 {
			return res
		}
	}
}

func (c *sipClient) readAny() *sip.Response {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	var data []byte
	if c.transport == "UDP" {
		buf := make([]byte, 65535)
		n, err := c.conn.Read(buf)
		if err != nil {
			c.t.Fatalf("read response: %v", err)
		}
		data = buf[:n]
	} else {
		var head bytes.Buffer
		length := 0
		for {
			line, err := c.rd.ReadString('\n')
			if err != nil {
				c.t.Fatalf("read response: %v", err)
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
		c.t.Fatalf("parse response: %v\n%s", err, data)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		c.t.Fatalf("got a request, want a response:\n%s", data)
	}
	return res
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

// header returns the value of a response header, "" when absent.
func header(res *sip.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}
