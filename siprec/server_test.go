package siprec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

const cubeFromTag = "5E3F1A2-1B7"

// admitCall sends the CUBE INVITE, checks the 200 and ACKs it. It returns
// the server's To tag.
func admitCall(t *testing.T, ts *testServer, c *sipClient, callID string) string {
	t.Helper()
	c.sendSample("cisco/cube-invite.sip", callID, "")
	res := c.expect(200, "INVITE")
	tag := toTag(t, res)
	c.ack(callID, tag, 101)
	s := recv(t, ts.rec.admits, "Admit")
	if s.CallID != callID {
		t.Fatalf("Admit call id %q, want %q", s.CallID, callID)
	}
	return tag
}

// hangUp sends the CUBE BYE and checks End("bye").
func hangUp(t *testing.T, ts *testServer, c *sipClient, callID, tag string) endCall {
	t.Helper()
	c.sendSample("cisco/cube-bye.sip", callID, tag)
	c.expect(200, "BYE")
	e := recv(t, ts.rec.ends, "End")
	if e.reason != "bye" || e.s.CallID != callID {
		t.Fatalf("End(%q, %q), want (%q, bye)", e.s.CallID, e.reason, callID)
	}
	return e
}

func TestServerCallFlowUDP(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "flow-udp@10.10.1.20"

	c.sendSample("cisco/cube-invite.sip", callID, "")
	res := c.expect(200, "INVITE")
	tag := toTag(t, res)
	sdp := string(res.Body())
	for _, want := range []string{
		"c=IN IP4 127.0.0.1\r\n",
		"m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=label:1\r\na=recvonly\r\n",
		"m=audio 30002 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=label:2\r\na=recvonly\r\n",
	} {
		if !strings.Contains(sdp, want) {
			t.Errorf("SDP answer lacks %q:\n%s", want, sdp)
		}
	}
	if ct := header(res, "Content-Type"); ct != "application/sdp" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, h := range []string{"Contact", "Allow", "Supported"} {
		if header(res, h) == "" {
			t.Errorf("200 without %s", h)
		}
	}
	if !strings.Contains(header(res, "Session-Expires"), "1800") {
		t.Errorf("Session-Expires %q", header(res, "Session-Expires"))
	}
	adm := recv(t, ts.rec.admits, "Admit")
	if len(adm.Media) != 2 || adm.Metadata == nil || len(adm.Metadata.Participants) != 2 {
		t.Fatalf("Admit session: %+v", adm)
	}
	if adm.Transport != "UDP" || adm.Source.String() != c.conn.LocalAddr().String() || adm.From != "sip:10.10.1.20" {
		t.Errorf("Admit session: transport %q source %v from %q", adm.Transport, adm.Source, adm.From)
	}
	c.ack(callID, tag, 101)
	if n := ts.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}

	// Hold re-INVITE: SDP answer with the held line inactive, version 2.
	c.sendSample("cisco/cube-reinvite-hold.sip", callID, tag)
	res = c.expect(200, "hold re-INVITE")
	sdp = string(res.Body())
	if !strings.Contains(sdp, "a=label:2\r\na=inactive\r\n") || !strings.Contains(sdp, "a=label:1\r\na=recvonly\r\n") || !strings.Contains(sdp, " 2 IN IP4 ") {
		t.Errorf("hold answer:\n%s", sdp)
	}
	c.ack(callID, tag, 102)
	up := recv(t, ts.rec.updates, "Update after re-INVITE")
	if up.Media[1].Direction != "inactive" {
		t.Errorf("Update media: %+v", up.Media)
	}

	// Metadata-only UPDATE: 200 without SDP, Update sees the new name.
	c.sendSample("cisco/cube-update-metadata.sip", callID, tag)
	res = c.expect(200, "metadata-only UPDATE")
	if len(res.Body()) != 0 {
		t.Errorf("metadata-only UPDATE answered with a body:\n%s", res.Body())
	}
	up = recv(t, ts.rec.updates, "Update after UPDATE")
	if p := up.Metadata.Participants; len(p) != 2 || p[1].Name != "Transferred Party" || p[1].AOR != "sip:+15558299@10.10.1.1" {
		t.Errorf("Update participants: %+v", p)
	}
	if len(up.Media) != 2 {
		t.Errorf("Update media changed: %+v", up.Media)
	}

	// Metadata-only re-INVITE: 200 without SDP.
	_, body := splitSample(loadSample(t, "cisco/cube-update-metadata.sip", nil))
	c.send(c.request("INVITE", callID, cubeFromTag, tag, 110, nil, "application/rs-metadata+xml", string(body)))
	res = c.expect(200, "metadata-only re-INVITE")
	if len(res.Body()) != 0 {
		t.Errorf("metadata-only re-INVITE answered with a body")
	}
	c.ack(callID, tag, 110)
	recv(t, ts.rec.updates, "Update after metadata re-INVITE")

	// INFO in dialog.
	c.send(c.request("INFO", callID, cubeFromTag, tag, 111, nil, "", ""))
	c.expect(200, "INFO")

	e := hangUp(t, ts, c, callID, tag)
	if e.s.Metadata == nil || e.s.Metadata.End.IsZero() || e.s.Metadata.Participants[0].Disassociated.IsZero() {
		t.Errorf("End session lacks BYE metadata: %+v", e.s.Metadata)
	}
	if e.s.Metadata.Participants[0].Name != "Alice Agent" {
		t.Errorf("BYE metadata lost the name: %+v", e.s.Metadata.Participants[0])
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() after BYE = %d", n)
	}

	// The dialog is gone.
	c.sendSample("cisco/cube-bye.sip", callID, tag)
	c.expect(481, "second BYE")
	ts.shutdown(t)
	noMore(t, ts.rec.ends, "End")
}

func TestServerCallFlowTCP(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "TCP", ts.tcpAddr)
	callID := "flow-tcp@10.10.1.20"
	tag := admitCall(t, ts, c, callID)
	c.sendSample("cisco/cube-reinvite-hold.sip", callID, tag)
	c.expect(200, "re-INVITE over TCP")
	c.ack(callID, tag, 102)
	recv(t, ts.rec.updates, "Update")
	e := hangUp(t, ts, c, callID, tag)
	if e.s.Transport != "TCP" {
		t.Errorf("Transport %q, want TCP", e.s.Transport)
	}
	ts.shutdown(t)
	noMore(t, ts.rec.ends, "End")
}

func TestServerOptions(t *testing.T) {
	ts := startServer(t)
	for _, tr := range []string{"UDP", "TCP"} {
		addr := ts.udpAddr
		if tr == "TCP" {
			addr = ts.tcpAddr
		}
		c := dialClient(t, tr, addr)
		c.send(c.request("OPTIONS", "options-"+tr, "o1", "", 1, nil, "", ""))
		res := c.expect(200, "OPTIONS")
		accept := header(res, "Accept")
		for _, want := range []string{"application/sdp", "application/rs-metadata+xml", "multipart/mixed"} {
			if !strings.Contains(accept, want) {
				t.Errorf("%s: Accept %q lacks %s", tr, accept, want)
			}
		}
		if !strings.Contains(header(res, "Allow"), "INVITE") {
			t.Errorf("%s: Allow %q", tr, header(res, "Allow"))
		}
	}
}

func TestServerCancel(t *testing.T) {
	ts := startServer(t)
	hold, held := make(chan struct{}), make(chan struct{})
	ts.rec.mu.Lock()
	ts.rec.hold, ts.rec.held = hold, held
	ts.rec.mu.Unlock()
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "cancel@10.10.1.20"
	invite := c.sendSample("cisco/cube-invite.sip", callID, "")
	recv(t, ts.rec.admits, "Admit")
	recv(t, held, "Admit to hold")

	// CANCEL: same Via branch, CSeq number, Call-ID, From and To.
	head, _, _ := strings.Cut(string(invite), "\r\n\r\n")
	var cancel strings.Builder
	for i, l := range strings.Split(head, "\r\n") {
		switch {
		case i == 0:
			l = strings.Replace(l, "INVITE", "CANCEL", 1)
		case strings.HasPrefix(l, "CSeq:"):
			l = "CSeq: 101 CANCEL"
		case strings.HasPrefix(l, "Content-"), strings.HasPrefix(l, "Require:"):
			continue
		}
		cancel.WriteString(l + "\r\n")
	}
	cancel.WriteString("Content-Length: 0\r\n\r\n")
	c.send([]byte(cancel.String()))

	got := map[string]int{}
	for len(got) < 2 {
		res := c.read()
		got[string(res.CSeq().MethodName)] = res.StatusCode
	}
	if got["CANCEL"] != 200 || got["INVITE"] != 487 {
		t.Fatalf("responses %v, want CANCEL 200 and INVITE 487", got)
	}
	e := recv(t, ts.rec.ends, "End after CANCEL")
	if e.reason != "cancel" {
		t.Errorf("End reason %q, want cancel", e.reason)
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d", n)
	}
	close(hold)
	ts.shutdown(t)
	noMore(t, ts.rec.ends, "End")
}

func TestServerUnknownDialog(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	c.send(c.request("BYE", "nobody@x", "a", "b", 5, nil, "", ""))
	c.expect(481, "BYE for unknown dialog")
	c.sendSample("cisco/cube-reinvite-hold.sip", "nobody@x", "no-such-tag")
	c.expect(481, "re-INVITE for unknown dialog")
	c.send(c.request("UPDATE", "nobody@x", "a", "b", 6, nil, "", ""))
	c.expect(481, "UPDATE for unknown dialog")
	c.send(c.request("CANCEL", "nobody@x", "a", "", 7, nil, "", ""))
	c.expect(481, "CANCEL for unknown transaction")
	c.send(c.request("SUBSCRIBE", "nobody@x", "a", "", 8, nil, "", ""))
	c.expect(405, "SUBSCRIBE")
}

func TestServerMalformed(t *testing.T) {
	ts := startServer(t)
	// sample builds the message from the named testdata file, unchanged.
	sample := func(name string) func(c *sipClient, id string) []byte {
		return func(c *sipClient, id string) []byte {
			return c.fixAddrs(loadSample(t, name, c.vars(id, "")))
		}
	}
	tests := []struct {
		name    string
		tr      string
		msg     func(c *sipClient, callID string) []byte
		status  int
		warning string // substring of the Warning header
	}{
		{name: "broken xml", tr: "UDP", status: 400, warning: "metadata", msg: sample("broken/broken-xml.sip")},
		{name: "no audio", tr: "TCP", status: 488, warning: "no audio", msg: sample("broken/no-audio.sip")},
		{name: "boundary missing", tr: "UDP", status: 400, warning: "boundary", msg: sample("broken/boundary-missing.sip")},
		{name: "unsupported type", tr: "TCP", status: 415, warning: "unsupported content type", msg: sample("broken/unsupported-type.sip")},
		{name: "not siprec", tr: "UDP", status: 488, warning: "not a SIPREC offer",
			msg: func(c *sipClient, id string) []byte {
				return c.request("INVITE", id, "x1", "", 1, nil, "application/sdp", "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n")
			}},
		{name: "bad extension", tr: "UDP", status: 420,
			msg: func(c *sipClient, id string) []byte {
				return c.request("INVITE", id, "x1", "", 1, []string{"Require: siprec, foo"}, "application/sdp", "v=0\r\nm=audio 4000 RTP/AVP 0\r\n")
			}},
		{name: "lying content-length", tr: "UDP", status: 400, warning: "Content-Length",
			msg: func(c *sipClient, id string) []byte {
				m := sample("cisco/cube-invite.sip")(c, id)
				h, _ := splitSample(m)
				return []byte(strings.Replace(string(m), "Content-Length: "+h["content-length"], "Content-Length: 9000", 1))
			}},
		{name: "unparseable header", tr: "UDP", status: 400, warning: "malformed",
			msg: func(c *sipClient, id string) []byte {
				m := sample("cisco/cube-invite.sip")(c, id)
				return []byte(strings.Replace(string(m), "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nthis line has no colon\r\n", 1))
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := ts.udpAddr
			if tt.tr == "TCP" {
				addr = ts.tcpAddr
			}
			c := dialClient(t, tt.tr, addr)
			c.send(tt.msg(c, fmt.Sprintf("bad-%d@x", i)))
			res := c.expect(tt.status, tt.name)
			if tt.status == 420 && header(res, "Unsupported") != "foo" {
				t.Errorf("Unsupported %q, want foo", header(res, "Unsupported"))
			}
			if tt.warning != "" {
				w := header(res, "Warning")
				if !strings.HasPrefix(w, "399 ") || !strings.Contains(w, tt.warning) {
					t.Errorf("Warning %q, want 399 with %q", w, tt.warning)
				}
				if r := header(res, "Reason"); !strings.HasPrefix(r, fmt.Sprintf("SIP;cause=%d;text=", tt.status)) {
					t.Errorf("Reason %q", r)
				}
			}
			noMore(t, ts.rec.admits, "Admit")

			// A good INVITE still works afterwards.
			id := fmt.Sprintf("good-%d@x", i)
			tag := admitCall(t, ts, c, id)
			hangUp(t, ts, c, id, tag)
		})
	}
}

func TestServerAdmitErrors(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	for i, tt := range []struct {
		err    error
		status int
	}{
		{Errorf(486, "licence exhausted"), 486},
		{fmt.Errorf("admit: %w", Errorf(403, "user not recorded")), 403},
		{fmt.Errorf("disk full"), 500},
	} {
		ts.rec.mu.Lock()
		ts.rec.admitErr = tt.err
		ts.rec.mu.Unlock()
		c.sendSample("cisco/cube-invite.sip", fmt.Sprintf("admit-err-%d", i), "")
		res := c.expect(tt.status, tt.err.Error())
		recv(t, ts.rec.admits, "Admit")
		if tt.status != 500 && !strings.Contains(header(res, "Reason"), "text=\"") {
			t.Errorf("Reason %q", header(res, "Reason"))
		}
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d", n)
	}
	ts.shutdown(t)
	noMore(t, ts.rec.ends, "End")
}

func TestServerDrain(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	tag := admitCall(t, ts, c, "before-drain")
	ts.srv.Drain()
	c.sendSample("cisco/cube-invite.sip", "after-drain", "")
	res := c.expect(503, "INVITE while draining")
	if header(res, "Retry-After") == "" || !strings.HasPrefix(header(res, "Reason"), "SIP;cause=503") {
		t.Errorf("503 headers: Retry-After %q Reason %q", header(res, "Retry-After"), header(res, "Reason"))
	}
	noMore(t, ts.rec.admits, "Admit")
	// The live call is still served.
	c.sendSample("cisco/cube-update-metadata.sip", "before-drain", tag)
	c.expect(200, "UPDATE while draining")
	recv(t, ts.rec.updates, "Update")
	hangUp(t, ts, c, "before-drain", tag)
}

func TestServerShutdownEndsSessions(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "TCP", ts.tcpAddr)
	admitCall(t, ts, c, "live-1")
	u := dialClient(t, "UDP", ts.udpAddr)
	admitCall(t, ts, u, "live-2")
	ts.shutdown(t)
	seen := map[string]string{}
	for range 2 {
		e := recv(t, ts.rec.ends, "End at shutdown")
		seen[e.s.CallID] = e.reason
	}
	if seen["live-1"] != "shutdown" || seen["live-2"] != "shutdown" {
		t.Errorf("ends %v", seen)
	}
	noMore(t, ts.rec.ends, "End")
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d", n)
	}
}

// answerByes reads n BYEs on c, answers each 200 and returns their Call-IDs.
func answerByes(t *testing.T, c *sipClient, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		bye := c.readRequest()
		if bye.Method != sip.BYE || !strings.HasPrefix(header(bye, "Reason"), `SIP;cause=503;text="recorder shutting down"`) {
			t.Fatalf("want BYE with the shutdown Reason, got:\n%s", bye)
		}
		c.respond(bye, 200)
		ids = append(ids, bye.CallID().Value())
	}
	return ids
}

func TestServerShutdownConcurrent(t *testing.T) {
	ts := startServer(t)
	clients := []*sipClient{dialClient(t, "UDP", ts.udpAddr), dialClient(t, "TCP", ts.tcpAddr)}
	const perClient = 2
	for i, c := range clients {
		for j := range perClient {
			admitCall(t, ts, c, fmt.Sprintf("drain-%d-%d", i, j))
		}
	}
	gate := ts.rec.gateEnds()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()

	for _, c := range clients {
		answerByes(t, c, perClient)
	}
	// Every End is in flight before any is released: they run at once.
	begun := map[string]bool{}
	for range len(clients) * perClient {
		begun[recv(t, ts.rec.endsBegun, "End to begin")] = true
	}
	if len(begun) != len(clients)*perClient {
		t.Errorf("Ends begun for %v", begun)
	}
	// The recorder still seals: new INVITEs are refused.
	late := dialClient(t, "UDP", ts.udpAddr)
	late.sendSample("cisco/cube-invite.sip", "during-shutdown", "")
	res := late.expect(503, "INVITE during Shutdown")
	if header(res, "Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while Ends were running", err)
	default:
	}
	close(gate)
	if err := recv(t, done, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range len(clients) * perClient {
		if e := recv(t, ts.rec.ends, "End"); e.reason != "shutdown" {
			t.Errorf("End(%q, %q), want reason shutdown", e.s.CallID, e.reason)
		}
	}
	noMore(t, ts.rec.admits, "Admit")
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d", n)
	}
	ts.shutdown(t)
	noMore(t, ts.rec.ends, "End")
}

func TestServerShutdownBounded(t *testing.T) {
	ts := startServer(t)
	ts.srv.endParallel = 2
	c := dialClient(t, "UDP", ts.udpAddr)
	const calls = 3
	for i := range calls {
		admitCall(t, ts, c, fmt.Sprintf("bounded-%d", i))
	}
	gate := ts.rec.gateEnds()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	answerByes(t, c, 2)
	recv(t, ts.rec.endsBegun, "first End")
	recv(t, ts.rec.endsBegun, "second End")
	gate <- struct{}{} // one End returns, which lets the third begin
	answerByes(t, c, 1)
	recv(t, ts.rec.endsBegun, "third End")
	close(gate)
	if err := recv(t, done, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if m := ts.rec.maxInEnd.Load(); m != 2 {
		t.Errorf("at most %d Ends ran at once, want 2", m)
	}
}

func TestServerShutdownDeadline(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "TCP", ts.tcpAddr)
	admitCall(t, ts, c, "slow-seal")
	gate := ts.rec.gateEnds()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(ctx) }()
	answerByes(t, c, 1)
	recv(t, ts.rec.endsBegun, "End")
	cancel() // the deadline passes while the recording is being sealed
	if err := recv(t, done, "Shutdown"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want %v", err, context.Canceled)
	}

	// Serve, stopped now, waits for the End still running and does not
	// end the session twice.
	ts.stop()
	close(gate)
	ts.shutdown(t)
	if n := ts.rec.inEnd.Load(); n != 0 {
		t.Errorf("Serve returned with %d End calls running", n)
	}
	if e := recv(t, ts.rec.ends, "End"); e.reason != "shutdown" {
		t.Errorf("End reason %q", e.reason)
	}
	noMore(t, ts.rec.ends, "End")
}
