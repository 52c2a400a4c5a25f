package siprec

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// expiryProbe is a session timer that reports each interval it is armed
// with and lasts what the test says.
type expiryProbe struct {
	intervals chan time.Duration
	waits     []time.Duration // by arming, the last repeated
	n         int
}

func newExpiryProbe(waits ...time.Duration) *expiryProbe {
	return &expiryProbe{intervals: make(chan time.Duration, 16), waits: waits}
}

func (p *expiryProbe) expiry(interval time.Duration) time.Duration {
	p.intervals <- interval
	w := p.waits[min(p.n, len(p.waits)-1)]
	p.n++ // armings are serialised by the dialog's lock
	return w
}

// A session the client does not refresh ends with our BYE carrying
// Reason 408 "session expired", over the client's TCP connection, and the
// recorder is told "session_expired".
func TestSessionExpiredHangsUp(t *testing.T) {
	t.Parallel()
	probe := newExpiryProbe(20 * time.Millisecond)
	ts := startServerTimers(t, Timers{SessionWait: probe.expiry})
	c := dialClient(t, "TCP", ts.tcpAddr)
	callID := "expired@10.10.1.20"
	c.sendSample("cisco/cube-invite.sip", callID, "")
	res := c.expect(200, "INVITE")
	if got := header(res, "Session-Expires"); got != "1800;refresher=uac" {
		t.Errorf("Session-Expires %q, want 1800;refresher=uac", got)
	}
	tag := toTag(t, res)
	c.ack(callID, tag, 101)
	recv(t, ts.rec.admits, "Admit")
	if iv := recv(t, probe.intervals, "session timer"); iv != 1800*time.Second {
		t.Errorf("session timer armed with %v, want the offered 1800 s", iv)
	}

	bye := c.readRequest()
	checkBye(t, bye, c.contact, callID, tag, `SIP;cause=408;text="session expired"`)
	c.respond(bye, 200)
	if e := recv(t, ts.rec.ends, "End"); e.reason != "session_expired" || e.s.CallID != callID {
		t.Errorf("End(%q, %q), want (%q, session_expired)", e.s.CallID, e.reason, callID)
	}
	settle(t, ts)
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after expiry", n)
	}
}

// A refresh (UPDATE with Session-Expires) re-arms the timer with the new
// interval: the session then ends by the new timer, not the first.
func TestSessionRefreshRearms(t *testing.T) {
	t.Parallel()
	probe := newExpiryProbe(time.Hour, 20*time.Millisecond)
	ts := startServerTimers(t, Timers{SessionWait: probe.expiry})
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "refresh@10.10.1.20"
	tag := admitCall(t, ts, c, callID)
	recv(t, probe.intervals, "session timer")

	c.send(c.request("UPDATE", callID, cubeFromTag, tag, 102,
		[]string{"Supported: timer", "Session-Expires: 120;refresher=uac", "Contact: <" + c.contact + ">"}, "", ""))
	if got := header(c.expect(200, "refreshing UPDATE"), "Session-Expires"); got != "120;refresher=uac" {
		t.Errorf("Session-Expires of the refresh's 200: %q", got)
	}
	if iv := recv(t, probe.intervals, "re-armed session timer"); iv != 120*time.Second {
		t.Errorf("session timer re-armed with %v, want 120 s", iv)
	}
	bye := c.readRequest()
	checkBye(t, bye, c.contact, callID, tag, `SIP;cause=408;text="session expired"`)
	c.respond(bye, 200)
	if e := recv(t, ts.rec.ends, "End"); e.reason != "session_expired" {
		t.Errorf("End reason %q, want session_expired", e.reason)
	}
	settle(t, ts)
}

// A timer that fired as a refresh re-armed it is stale: it does not end
// the session. Driven directly, without waiting for any timer.
func TestSessionExpiryStale(t *testing.T) {
	t.Parallel()
	ts := startServerTimers(t, Timers{SessionWait: func(time.Duration) time.Duration { return time.Hour }})
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "stale@10.10.1.20"
	tag := admitCall(t, ts, c, callID)
	d := ts.srv.liveByCallID(callID)
	d.mu.Lock()
	gen := d.expiryGen
	d.mu.Unlock()
	if gen == 0 {
		t.Fatal("session timer not armed")
	}

	ts.srv.expire(d, gen-1)
	noMore(t, ts.rec.ends, "End")
	if n := ts.srv.Sessions(); n != 1 {
		t.Fatalf("a stale timer ended the session: Sessions() = %d", n)
	}
	ts.srv.expire(d, gen)
	if e := recv(t, ts.rec.ends, "End"); e.reason != "session_expired" {
		t.Errorf("End reason %q, want session_expired", e.reason)
	}
	bye := c.readRequest()
	checkBye(t, bye, c.contact, callID, tag, `SIP;cause=408;text="session expired"`)
	c.respond(bye, 200)
	settle(t, ts)
}

// An initial 2xx never acknowledged is retransmitted (T1 doubling up to
// T2), then, 64*T1 on, the session ends with a BYE carrying Reason 408
// "ACK not received", sent at once: not after another 64*T1 of waiting
// for the ACK, which the test's wait would not outlast.
func TestAckTimeoutHangsUp(t *testing.T) {
	t.Parallel()
	ts := startServerTimers(t, Timers{T1: time.Millisecond, T2: 4 * time.Millisecond, AckWait: 64 * time.Millisecond})
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "no-ack@10.10.1.20"
	c.sendSample("cisco/cube-invite.sip", callID, "")
	tag := toTag(t, c.expect(200, "INVITE"))
	recv(t, ts.rec.admits, "Admit")

	retransmits := 0
	var bye *sip.Request
	for bye == nil {
		switch m := c.readMsg().(type) {
		case *sip.Response:
			if m.StatusCode != 200 || m.CSeq().MethodName != sip.INVITE {
				t.Fatalf("unexpected response:\n%s", m)
			}
			retransmits++
		case *sip.Request:
			bye = m
		}
	}
	// 1+2+4+4+... ms within 64 ms: 17 or so, fewer on a busy machine.
	if retransmits < 3 {
		t.Errorf("2xx retransmitted %d times before the BYE, want several", retransmits)
	}
	checkBye(t, bye, c.contact, callID, tag, `SIP;cause=408;text="ACK not received"`)
	c.respond(bye, 200)
	if e := recv(t, ts.rec.ends, "End"); e.reason != "ack_timeout" || e.s.CallID != callID {
		t.Errorf("End(%q, %q), want (%q, ack_timeout)", e.s.CallID, e.reason, callID)
	}
	settle(t, ts)
}

// A timer that fires as the ACK arrives finds the dialog confirmed and
// leaves the session alone. Driven directly: the test confirms the dialog
// as the ACK would.
func TestAckTimeoutAfterAck(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	c := dialClient(t, "TCP", ts.tcpAddr)
	callID := "ack-race@10.10.1.20"
	c.sendSample("cisco/cube-invite.sip", callID, "")
	tag := toTag(t, c.expect(200, "INVITE"))
	recv(t, ts.rec.admits, "Admit")
	d := ts.srv.liveByCallID(callID)
	d.mu.Lock()
	d.acked(101)
	d.mu.Unlock()
	ts.srv.ackTimeout(d)
	noMore(t, ts.rec.ends, "End")
	if n := ts.srv.Sessions(); n != 1 {
		t.Fatalf("Sessions() = %d after a late ACK timer", n)
	}
	c.ack(callID, tag, 101)
	hangUp(t, ts, c, callID, tag)
}

func TestSessionWait(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ interval, want time.Duration }{
		{90 * time.Second, 120 * time.Second},
		{91 * time.Second, 91*time.Second + 91*time.Second/3},
		{96 * time.Second, 128 * time.Second},
		{1800 * time.Second, 1832 * time.Second},
	} {
		if got := sessionWait(tt.interval); got != tt.want {
			t.Errorf("sessionWait(%v) = %v, want %v", tt.interval, got, tt.want)
		}
	}
}

func TestSessionExpiresHeader(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		hdr  string
		want int
	}{
		{"Session-Expires: 1800;refresher=uac", 1800},
		{"Session-Expires:  90", 90},
		{"x: 120", 120},
		{"Session-Expires: 86401", maxSE},
		{"Session-Expires: 99999999999999999999999999", maxSE},
		{"Session-Expires: -5", 0},
		{"Session-Expires: soon", 0},
		{"Session-Expires: ", 0},
		{"Subject: none", 0},
	} {
		msg := "UPDATE sip:callvault@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-1\r\n" +
			"From: <sip:gw@192.0.2.7>;tag=a\r\nTo: <sip:callvault@192.0.2.1>;tag=b\r\nCall-ID: se\r\nCSeq: 2 UPDATE\r\n" +
			tt.hdr + "\r\nContent-Length: 0\r\n\r\n"
		m, err := sip.ParseMessage([]byte(msg))
		if err != nil {
			t.Fatalf("parse %q: %v", tt.hdr, err)
		}
		if got := sessionExpires(m.(*sip.Request)); got != tt.want {
			t.Errorf("sessionExpires(%q) = %d, want %d", tt.hdr, got, tt.want)
		}
	}
}

// A 2xx to an INVITE over UDP is resent at T1, 2*T1, 4*T1, ... at most T2
// apart, until the ACK: never earlier than that schedule (timers do not
// fire early), and no more once the ACK is in.
func TestAckRetransmitUntilAck(t *testing.T) {
	t.Parallel()
	tm := Timers{T1: 2 * time.Millisecond, T2: 8 * time.Millisecond, AckWait: time.Hour}
	ts := startServerTimers(t, tm)
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "retransmit@10.10.1.20"
	start := time.Now()
	c.sendSample("cisco/cube-invite.sip", callID, "")
	first := c.expect(200, "INVITE")
	tag := toTag(t, first)
	recv(t, ts.rec.admits, "Admit")

	due := time.Duration(0)
	interval := tm.T1
	for i := 1; i <= 6; i++ {
		res := c.read()
		at := time.Since(start)
		due += interval
		interval = nextRetransmit(interval, tm.T2)
		if res.StatusCode != 200 || res.CSeq().MethodName != sip.INVITE || toTag(t, res) != tag {
			t.Fatalf("retransmission %d is not the 2xx:\n%s", i, res)
		}
		if !bytes.Equal(res.Body(), first.Body()) {
			t.Errorf("retransmission %d has another body", i)
		}
		if at < due {
			t.Errorf("retransmission %d came %v after the INVITE, before its schedule %v", i, at, due)
		}
	}

	c.ack(callID, tag, 101)
	d := ts.srv.liveByCallID(callID)
	waitFor(t, "the ACK", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.confirmed
	})
	// Those sent before the ACK may still be on their way; then silence,
	// where retransmissions would come every T2.
	c.drainUntilQuiet(3*tm.T2, 1000)
	hangUp(t, ts, c, callID, tag)
	settle(t, ts)
}

// A re-INVITE's 2xx without an ACK is retransmitted for the ACK wait, then
// given up with a warning; the session goes on.
func TestReinviteAckTimeoutKeepsSession(t *testing.T) {
	t.Parallel()
	logs := &logRecords{}
	ts := startServerWith(t, Config{Timers: Timers{T1: time.Millisecond, T2: 4 * time.Millisecond, AckWait: 30 * time.Millisecond}}, slog.New(logs))
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "reinvite-no-ack@10.10.1.20"
	tag := admitCall(t, ts, c, callID)
	c.sendSample("cisco/cube-reinvite-hold.sip", callID, tag)
	c.expect(200, "re-INVITE")
	recv(t, ts.rec.updates, "Update")

	waitFor(t, "the re-INVITE's ACK wait", func() bool { return len(logs.find("no ACK for re-INVITE 2xx")) > 0 })
	if n := c.drainUntilQuiet(3*4*time.Millisecond, 1000); n == 0 {
		t.Error("the re-INVITE's 2xx was not retransmitted")
	}
	noMore(t, ts.rec.ends, "End")
	if n := ts.srv.Sessions(); n != 1 {
		t.Fatalf("Sessions() = %d after a re-INVITE's ACK wait, want 1", n)
	}
	hangUp(t, ts, c, callID, tag)
	settle(t, ts)
}

// inviteWithInterval is the CUBE INVITE with Session-Expires: se.
func inviteWithInterval(c *sipClient, callID string, se int) []byte {
	msg := c.fixAddrs(loadSample(c.t, "cisco/cube-invite.sip", c.vars(callID, "")))
	return bytes.Replace(msg, []byte("Session-Expires:  1800"), []byte("Session-Expires:  "+strconv.Itoa(se)), 1)
}

// checkTooSmall checks a 422 naming our Min-SE.
func checkTooSmall(t *testing.T, res *sip.Response) {
	t.Helper()
	if got := header(res, "Min-SE"); got != strconv.Itoa(minSE) {
		t.Errorf("Min-SE %q, want %d", got, minSE)
	}
	if got := header(res, "Reason"); !strings.Contains(got, "session interval too small") {
		t.Errorf("Reason %q", got)
	}
}

// An INVITE whose Session-Expires is below our Min-SE gets 422 with
// Min-SE and opens no session; at Min-SE it is admitted.
func TestInviteIntervalTooSmall(t *testing.T) {
	t.Parallel()
	probe := newExpiryProbe(time.Hour)
	ts := startServerTimers(t, Timers{SessionWait: probe.expiry})
	c := dialClient(t, "TCP", ts.tcpAddr)
	c.send(inviteWithInterval(c, "short@10.10.1.20", minSE-1))
	checkTooSmall(t, c.expect(422, "INVITE below Min-SE"))
	noMore(t, ts.rec.admits, "Admit")
	noMore(t, probe.intervals, "session timer")
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after a 422", n)
	}

	callID := "min-se@10.10.1.20"
	c.send(inviteWithInterval(c, callID, minSE))
	res := c.expect(200, "INVITE at Min-SE")
	if got := header(res, "Session-Expires"); got != "90;refresher=uac" {
		t.Errorf("Session-Expires %q, want 90;refresher=uac", got)
	}
	tag := toTag(t, res)
	c.ack(callID, tag, 101)
	recv(t, ts.rec.admits, "Admit")
	if iv := recv(t, probe.intervals, "session timer"); iv != minSE*time.Second {
		t.Errorf("session timer armed with %v, want %d s", iv, minSE)
	}
	hangUp(t, ts, c, callID, tag)
	settle(t, ts)
}

// A re-INVITE or UPDATE asking for an interval below Min-SE gets 422 and
// changes nothing: no Update, the session timer as it was.
func TestModifyIntervalTooSmall(t *testing.T) {
	t.Parallel()
	probe := newExpiryProbe(time.Hour)
	ts := startServerTimers(t, Timers{SessionWait: probe.expiry})
	c := dialClient(t, "TCP", ts.tcpAddr)
	callID := "modify-short@10.10.1.20"
	tag := admitCall(t, ts, c, callID)
	recv(t, probe.intervals, "session timer")

	short := []string{"Supported: timer", "Session-Expires: 60;refresher=uac", "Contact: <" + c.contact + ">"}
	_, body := splitSample(loadSample(t, "cisco/cube-update-metadata.sip", nil))
	c.send(c.request("INVITE", callID, cubeFromTag, tag, 102, short, "application/rs-metadata+xml", string(body)))
	checkTooSmall(t, c.expect(422, "re-INVITE below Min-SE"))
	c.send(c.request("UPDATE", callID, cubeFromTag, tag, 103, short, "", ""))
	checkTooSmall(t, c.expect(422, "UPDATE below Min-SE"))
	noMore(t, ts.rec.updates, "Update")
	noMore(t, probe.intervals, "session timer re-armed")

	// A refresh without Session-Expires keeps the interval.
	c.send(c.request("UPDATE", callID, cubeFromTag, tag, 104, []string{"Supported: timer"}, "", ""))
	if got := header(c.expect(200, "refresh"), "Session-Expires"); got != "1800;refresher=uac" {
		t.Errorf("Session-Expires after the 422s: %q, want 1800;refresher=uac", got)
	}
	if iv := recv(t, probe.intervals, "session timer re-armed"); iv != 1800*time.Second {
		t.Errorf("session timer re-armed with %v, want 1800 s", iv)
	}
	hangUp(t, ts, c, callID, tag)
	settle(t, ts)
}

// A re-INVITE or UPDATE whose CSeq is not above the last one gets 500
// "CSeq out of order" and changes nothing; the dialog goes on.
func TestModifyCSeqOutOfOrder(t *testing.T) {
	t.Parallel()
	probe := newExpiryProbe(time.Hour)
	ts := startServerTimers(t, Timers{SessionWait: probe.expiry})
	c := dialClient(t, "TCP", ts.tcpAddr)
	callID := "cseq@10.10.1.20"
	tag := admitCall(t, ts, c, callID)
	recv(t, probe.intervals, "session timer")

	c.send(c.request("UPDATE", callID, cubeFromTag, tag, 105, []string{"Supported: timer"}, "", ""))
	c.expect(200, "UPDATE 105")
	recv(t, probe.intervals, "session timer re-armed")

	_, body := splitSample(loadSample(t, "cisco/cube-update-metadata.sip", nil))
	for _, tt := range []struct {
		method string
		cseq   int
	}{{"INVITE", 105}, {"INVITE", 104}, {"UPDATE", 105}, {"UPDATE", 101}} {
		c.send(c.request(tt.method, callID, cubeFromTag, tag, tt.cseq, nil, "application/rs-metadata+xml", string(body)))
		res := c.expect(500, tt.method+" "+strconv.Itoa(tt.cseq))
		if got := header(res, "Reason"); got != `SIP;cause=500;text="CSeq out of order"` {
			t.Errorf("%s %d: Reason %q", tt.method, tt.cseq, got)
		}
	}
	noMore(t, ts.rec.updates, "Update")
	noMore(t, probe.intervals, "session timer re-armed")
	if n := ts.srv.Sessions(); n != 1 {
		t.Fatalf("Sessions() = %d, want 1", n)
	}
	c.send(c.request("UPDATE", callID, cubeFromTag, tag, 106, nil, "application/rs-metadata+xml", string(body)))
	c.expect(200, "UPDATE 106")
	recv(t, ts.rec.updates, "Update")
	hangUp(t, ts, c, callID, tag)
	settle(t, ts)
}
