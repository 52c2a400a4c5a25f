package siprec

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSourceOutsideAllowList: a source outside the allow-list gets 403
// over UDP (from the guard, before sipgo keeps any state) and over TCP,
// and the recorder never hears of the session.
func TestSourceOutsideAllowList(t *testing.T) {
	ts := startServerWith(t, Config{Admission: Admission{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}}, testLogger(t))
	for _, transport := range []string{"UDP", "TCP"} {
		c := dialClient(t, transport, map[string]string{"UDP": ts.udpAddr, "TCP": ts.tcpAddr}[transport])
		c.sendSample("cisco/cube-invite.sip", "deny-"+transport, "")
		res := c.expect(403, transport+" INVITE from outside the allow-list")
		if w := header(res, "Warning"); !strings.Contains(w, "source not allowed") {
			t.Errorf("%s: Warning = %q", transport, w)
		}
	}
	noMore(t, ts.rec.admits, "a session admitted from outside the allow-list")
	ts.srv.SetAllow([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	c := dialClient(t, "UDP", ts.udpAddr)
	c.sendSample("cisco/cube-invite.sip", "allowed-now", "")
	c.expect(200, "INVITE once the allow-list names the source")
}

// TestSourceRateAndSessionCap: a source over its session rate gets 503
// with a Retry-After, over UDP for the same INVITE's retransmission too;
// above the cap on live sessions every source gets 503.
func TestSourceRateAndSessionCap(t *testing.T) {
	ts := startServerWith(t, Config{Admission: Admission{SourceRate: 0.01, SourceBurst: 2, MaxSessions: 100}}, testLogger(t))
	c := dialClient(t, "UDP", ts.udpAddr)
	for i := range 2 {
		c.sendSample("cisco/cube-invite.sip", "rate-"+itoa(i), "")
		c.expect(200, "INVITE within the burst")
	}
	msg := c.sendSample("cisco/cube-invite.sip", "rate-over", "")
	res := c.expect(503, "INVITE over the source's rate")
	if ra := header(res, "Retry-After"); ra == "" || ra == "0" {
		t.Errorf("503 without a Retry-After: %q", ra)
	}
	c.send(msg) // its retransmission
	c.expect(503, "retransmission of the refused INVITE")
	tc := dialClient(t, "TCP", ts.tcpAddr)
	tc.sendSample("cisco/cube-invite.sip", "rate-tcp", "")
	tc.expect(503, "INVITE over TCP from the same source")

	capped := startServerWith(t, Config{Admission: Admission{MaxSessions: 1}}, testLogger(t))
	c = dialClient(t, "UDP", capped.udpAddr)
	c.sendSample("cisco/cube-invite.sip", "cap-1", "")
	c.expect(200, "first session")
	c.sendSample("cisco/cube-invite.sip", "cap-2", "")
	if w := header(c.expect(503, "session above the cap"), "Warning"); !strings.Contains(w, "too many live sessions (1)") {
		t.Errorf("Warning = %q", w)
	}
}

// TestAnswersGoToTheSource: a UDP request whose Via claims another port
// (a reflector's trick) is answered at the port it came from.
func TestAnswersGoToTheSource(t *testing.T) {
	ts := startServer(t)
	victim, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	c := dialClient(t, "UDP", ts.udpAddr)
	msg := c.fixAddrs(loadSample(t, "cisco/cube-invite.sip", c.vars("reflect", "")))
	msg = bytes.Replace(msg, []byte(c.conn.LocalAddr().String()+";rport;"), []byte(victim.LocalAddr().String()+";"), 1)
	c.send(msg)
	c.expect(200, "INVITE with a Via naming another port")
	victim.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := victim.ReadFrom(make([]byte, 2048)); err == nil {
		t.Errorf("the port the Via claimed got %d bytes", n)
	}
}

// TestJunkDatagramsLeaveNoState: random bytes are dropped and unanswered.
func TestJunkDatagramsLeaveNoState(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	for i := range 50 {
		c.send(bytes.Repeat([]byte{byte(i), 0xff, '\n'}, 40))
	}
	c.send(c.request("OPTIONS", "after-junk", "t1", "", 1, nil, "", ""))
	c.expect(200, "OPTIONS after the junk")
}

// TestNoDialToClaimedAddresses: a client that sends a request over TCP and
// closes at once does not make the server connect to the address its Via
// names: sipgo would, to deliver the response; the dialer refuses hosts
// that hold no session here.
func TestNoDialToClaimedAddresses(t *testing.T) {
	ts := startServer(t)
	victim, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3 on this machine: %v", err)
	}
	defer victim.Close()
	dialed := make(chan struct{}, 100)
	go func() {
		for {
			c, err := victim.Accept()
			if err != nil {
				return
			}
			c.Close()
			dialed <- struct{}{}
		}
	}()
	for i := range 20 {
		c, err := net.Dial("tcp", ts.tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "OPTIONS sip:rec@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-claim-%d\r\n"+
			"From: <sip:x@y>;tag=1\r\nTo: <sip:rec@127.0.0.1>\r\nCall-ID: claim-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			victim.Addr(), i, i)
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	select {
	case <-dialed:
		t.Fatal("the server connected to the address a request's Via named")
	case <-time.After(1500 * time.Millisecond):
	}
}
