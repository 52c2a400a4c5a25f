package siprec

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// dialUDPFrom is dialClient over UDP from the loopback address 127.0.0.n,
// a source of its own; from 127.0.0.1 (another port) where the machine
// has no such address.
func dialUDPFrom(t *testing.T, n int, server string) *sipClient {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(n))}, raddr)
	if err != nil {
		c, err = net.DialUDP("udp", nil, raddr)
		if err != nil {
			t.Fatalf("dial udp: %v", err)
		}
	}
	t.Cleanup(func() { c.Close() })
	return &sipClient{t: t, transport: "UDP", conn: c, rd: bufio.NewReader(c), server: server,
		contact: "sip:" + c.LocalAddr().String()}
}

// drainAdmits empties the test recorder's admissions and ends until the
// server has shut down, so that more sessions than its buffers hold may be
// admitted and ended.
func drainAdmits(t *testing.T, ts *testServer) {
	done := make(chan struct{})
	t.Cleanup(func() {
		ts.shutdown(t)
		close(done)
	})
	go func() {
		for {
			select {
			case <-ts.rec.admits:
			case <-ts.rec.ends:
			case <-done:
				return
			}
		}
	}()
}

// inviteFlood sends a new INVITE from each of n sources at once and
// returns the clients, the messages sent, their final responses, and how
// long that took from the first send to the last answer.
func inviteFlood(t *testing.T, ts *testServer, n int) ([]*sipClient, [][]byte, []*sip.Response, time.Duration) {
	t.Helper()
	clients := make([]*sipClient, n)
	for i := range clients {
		clients[i] = dialUDPFrom(t, 10+i, ts.udpAddr)
	}
	msgs := make([][]byte, n)
	res := make([]*sip.Response, n)
	start := time.Now()
	for i, c := range clients {
		msgs[i] = c.sendSample("cisco/cube-invite.sip", fmt.Sprintf("cps-%d-%d", n, i), "")
	}
	for i, c := range clients {
		res[i] = c.read()
	}
	return clients, msgs, res, time.Since(start)
}

// TestMaxCPS: above the server's max_cps new INVITEs from any source get
// 503 with Retry-After and a Warning that says why; a refused INVITE's
// retransmission gets 503 again and is not counted again.
func TestMaxCPS(t *testing.T) {
	// A source may open one session a second: each of the 20 sources is
	// within its own rate, so only the server's rate refuses.
	ts := startServerWith(t, Config{Admission: Admission{MaxCPS: 5, SourceRate: 1, SourceBurst: 1}}, testLogger(t))
	drainAdmits(t, ts)
	clients, msgs, res, took := inviteFlood(t, ts, 20)
	admitted, refused := 0, -1
	for i, r := range res {
		switch r.StatusCode {
		case 200:
			admitted++
		case 503:
			if ra := header(r, "Retry-After"); ra != "1" {
				t.Errorf("503 with Retry-After %q, want 1:\n%s", ra, r)
			}
			if w := header(r, "Warning"); !strings.Contains(w, "recorder over its call rate (5 calls/s)") {
				t.Errorf("503 without the Warning:\n%s", r)
			}
			refused = i
		default:
			t.Errorf("INVITE %d: %d, want 200 or 503", i, r.StatusCode)
		}
	}
	// The burst is one second's worth; the bucket refills at 5/s while
	// the flood is judged.
	if most := 5 + int(5*took.Seconds()) + 1; admitted < 5 || admitted > most {
		t.Fatalf("%d of 20 admitted in %v at max_cps 5, want 5 to %d", admitted, took, most)
	}
	t.Logf("%d of 20 admitted in %v; the first source %s", admitted, took, clients[0].conn.LocalAddr())
	if refused < 0 {
		t.Fatal("nothing refused")
	}
	over := ts.srv.Edge().SessionsOverMaxCPS
	if over != int64(20-admitted) {
		t.Errorf("SessionsOverMaxCPS = %d, want %d", over, 20-admitted)
	}
	if n := ts.srv.Edge().SessionsOverSourceRate; n != 0 {
		t.Errorf("SessionsOverSourceRate = %d, want 0: every source was within its rate", n)
	}

	// The refused INVITE's retransmission, once the bucket has refilled:
	// the same 503, counted once.
	time.Sleep(1200 * time.Millisecond)
	c := clients[refused]
	c.send(msgs[refused])
	r := c.expect(503, "retransmission of an INVITE refused for max_cps")
	if w := header(r, "Warning"); !strings.Contains(w, "recorder over its call rate") {
		t.Errorf("Warning = %q", w)
	}
	if n := ts.srv.Edge().SessionsOverMaxCPS; n != over {
		t.Errorf("SessionsOverMaxCPS = %d after a retransmission, want %d still", n, over)
	}
	// It spent no token: a new INVITE from a fresh source is admitted.
	fresh := dialUDPFrom(t, 40, ts.udpAddr)
	fresh.sendSample("cisco/cube-invite.sip", "cps-fresh", "")
	fresh.expect(200, "new INVITE once the rate allows")
}

// TestMaxCPSOverTCP: over TCP too, with a Retry-After for the time the
// bucket takes to hold a session again.
func TestMaxCPSOverTCP(t *testing.T) {
	ts := startServerWith(t, Config{Admission: Admission{MaxCPS: 0.01}}, testLogger(t))
	tc := dialClient(t, "TCP", ts.tcpAddr)
	tc.sendSample("cisco/cube-invite.sip", "cps-tcp-1", "")
	tc.expect(200, "first INVITE at max_cps 0.01")
	tc.sendSample("cisco/cube-invite.sip", "cps-tcp-2", "")
	r := tc.expect(503, "second INVITE at max_cps 0.01")
	if ra, _ := strconv.Atoi(header(r, "Retry-After")); ra < 50 || ra > 101 {
		t.Errorf("Retry-After = %q, want the ~100 s the bucket takes", header(r, "Retry-After"))
	}
	if w := header(r, "Warning"); !strings.Contains(w, "recorder over its call rate (0.01 calls/s)") {
		t.Errorf("Warning = %q", w)
	}
}

// TestNoMaxCPS: with max_cps 0 a flood is admitted whole.
func TestNoMaxCPS(t *testing.T) {
	ts := startServerWith(t, Config{}, testLogger(t))
	drainAdmits(t, ts)
	_, _, res, _ := inviteFlood(t, ts, 20)
	for i, r := range res {
		if r.StatusCode != 200 {
			t.Errorf("INVITE %d: %d, want 200 with no max_cps", i, r.StatusCode)
		}
	}
	if n := ts.srv.Edge().SessionsOverMaxCPS; n != 0 {
		t.Errorf("SessionsOverMaxCPS = %d", n)
	}
}
