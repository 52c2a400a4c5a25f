package siprec

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// checkBye checks a BYE of ours in the dialog callID where our To tag is
// tag: Request-URI, tags swapped, Call-ID, CSeq, Max-Forwards, Reason.
func checkBye(t *testing.T, bye *sip.Request, wantURI, callID, tag, wantReason string) {
	t.Helper()
	if bye.Method != sip.BYE {
		t.Fatalf("got %s, want BYE:\n%s", bye.Method, bye)
	}
	if got := bye.Recipient.String(); got != wantURI {
		t.Errorf("Request-URI %q, want %q", got, wantURI)
	}
	if got, _ := bye.From().Params.Get("tag"); got != tag {
		t.Errorf("From tag %q, want our To tag %q", got, tag)
	}
	if got, _ := bye.To().Params.Get("tag"); got != cubeFromTag {
		t.Errorf("To tag %q, want the client's From tag %q", got, cubeFromTag)
	}
	if got := bye.CallID().Value(); got != callID {
		t.Errorf("Call-ID %q, want %q", got, callID)
	}
	if cs := bye.CSeq(); cs.MethodName != sip.BYE || cs.SeqNo == 0 {
		t.Errorf("CSeq %q", cs.Value())
	}
	if got := header(bye, "Max-Forwards"); got != "70" {
		t.Errorf("Max-Forwards %q", got)
	}
	if got := header(bye, "Reason"); got != wantReason {
		t.Errorf("Reason %q, want %q", got, wantReason)
	}
}

// settle waits, through Shutdown, until every End has returned and every
// BYE has its answer.
func settle(t *testing.T, ts *testServer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// readPacketRequest reads a request from pc and returns it with its source.
func readPacketRequest(t *testing.T, pc net.PacketConn) (*sip.Request, net.Addr) {
	t.Helper()
	pc.SetReadDeadline(time.Now().Add(waitTimeout))
	buf := make([]byte, 65535)
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	m, err := sip.ParseMessage(buf[:n])
	if err != nil {
		t.Fatalf("parse request: %v\n%s", err, buf[:n])
	}
	req, ok := m.(*sip.Request)
	if !ok {
		t.Fatalf("got a response, want a request:\n%s", buf[:n])
	}
	return req, from
}

func TestHangupUDP(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "hangup-udp@10.10.1.20"
	tag := admitCall(t, ts, c, callID)

	// A target refresh moves the remote target to another socket of the
	// client's: the re-INVITE's Contact.
	target, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	defer target.Close()
	c.contact = "sip:refreshed@" + target.LocalAddr().String()
	c.sendSample("cisco/cube-reinvite-hold.sip", callID, tag)
	c.expect(200, "re-INVITE")
	c.ack(callID, tag, 102)
	recv(t, ts.rec.updates, "Update")

	if !ts.srv.Hangup(callID, 507, `disk "full"`, "disk_full") {
		t.Fatal("Hangup of a live session returned false")
	}
	e := recv(t, ts.rec.ends, "End")
	if e.reason != "disk_full" || e.s.CallID != callID {
		t.Errorf("End(%q, %q), want (%q, disk_full)", e.s.CallID, e.reason, callID)
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after Hangup", n)
	}
	bye, from := readPacketRequest(t, target)
	checkBye(t, bye, c.contact, callID, tag, `SIP;cause=507;text="disk 'full'"`)
	// Sent from our listener, which the client knows.
	if from.String() != ts.udpAddr {
		t.Errorf("BYE came from %s, want our listener %s", from, ts.udpAddr)
	}
	if via := bye.Via(); via.Transport != "UDP" || via.Host != "127.0.0.1" || netip.MustParseAddrPort(ts.udpAddr).Port() != uint16(via.Port) {
		t.Errorf("Via %q, want our UDP listener %s", via.Value(), ts.udpAddr)
	}

	// The client's BYE crosses ours: the session is ending, as it asks.
	c.sendSample("cisco/cube-bye.sip", callID, tag)
	c.expect(200, "BYE crossing ours")
	if _, err := target.WriteTo([]byte(sip.NewResponseFromRequest(bye, 200, "OK", nil).String()), from); err != nil {
		t.Fatalf("answer BYE: %v", err)
	}
	settle(t, ts)

	// Our BYE answered and End returned: the dialog is gone.
	c.sendSample("cisco/cube-bye.sip", callID, tag)
	c.expect(481, "BYE after the hang-up")
	if ts.srv.Hangup(callID, 503, "again", "again") {
		t.Error("second Hangup returned true")
	}
	noMore(t, ts.rec.ends, "End")
}

// A CUBE over TCP gives Contact <sip:GW:5060;transport=tcp> and keeps the
// connection it opened from an ephemeral port: the BYE comes back over it.
// The client answers 481 (it forgot the dialog), which is no error.
func TestHangupTCPReusesConnection(t *testing.T) {
	t.Parallel()
	logs := &logRecords{}
	ts := startServerLog(t, slog.New(logs))
	c := dialClient(t, "TCP", ts.tcpAddr)
	callID := "hangup-tcp@10.10.1.20"
	tag := admitCall(t, ts, c, callID)

	if !ts.srv.Hangup(callID, 503, "disk full", "disk_full") {
		t.Fatal("Hangup of a live session returned false")
	}
	recv(t, ts.rec.ends, "End")
	bye := c.readRequest()
	checkBye(t, bye, c.contact, callID, tag, `SIP;cause=503;text="disk full"`)
	if via := bye.Via(); via.Transport != "TCP" {
		t.Errorf("Via %q, want TCP", via.Value())
	}
	c.respond(bye, 481)
	settle(t, ts)

	got := logs.find("BYE answered: no such dialog at the client")
	if len(got) != 1 || got[0].Level != slog.LevelInfo {
		t.Errorf("log of a BYE answered 481: %v, want one record at INFO", got)
	}
	for _, r := range logs.all() {
		if strings.Contains(r.Message, "BYE") && r.Level >= slog.LevelWarn {
			t.Errorf("unexpected %s record: %s", r.Level, r.Message)
		}
	}
}

func TestHangupUnknownCallID(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	tag := admitCall(t, ts, c, "known@10.10.1.20")
	if ts.srv.Hangup("unknown@10.10.1.20", 503, "x", "x") {
		t.Error("Hangup of an unknown Call-ID returned true")
	}
	noMore(t, ts.rec.ends, "End")
	if n := ts.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}
	hangUp(t, ts, c, "known@10.10.1.20", tag)
}

// TestPeerBye builds BYEs from INVITEs without sockets: the route set in
// its loose- and strict-routing forms, and the fallbacks for a client
// without a usable Contact.
func TestPeerBye(t *testing.T) {
	t.Parallel()
	src := netip.MustParseAddrPort("192.0.2.7:40000")
	tests := []struct {
		name      string
		transport string
		hdrs      string // extra INVITE headers
		contact   string // "" for none
		wantURI   string
		wantRoute []string
		wantDest  string
	}{
		{name: "no route set", transport: "UDP", contact: "<sip:gw@192.0.2.7:5062>;+sip.src",
			wantURI: "sip:gw@192.0.2.7:5062", wantDest: "192.0.2.7:5062"},
		{name: "default port", transport: "TCP", contact: "<sip:gw.example.net;transport=tcp>",
			wantURI: "sip:gw.example.net;transport=tcp", wantDest: "gw.example.net:5060"},
		{name: "loose routing", transport: "UDP", contact: "<sip:gw@192.0.2.7:5062>",
			hdrs:      "Record-Route: <sip:p1.example.net;lr>, <sip:p2.example.net:5070;lr>\r\nRecord-Route: <sip:p3.example.net;lr>\r\n",
			wantURI:   "sip:gw@192.0.2.7:5062",
			wantRoute: []string{"<sip:p1.example.net;lr>", "<sip:p2.example.net:5070;lr>", "<sip:p3.example.net;lr>"},
			wantDest:  "p1.example.net:5060"},
		{name: "strict routing", transport: "UDP", contact: "<sip:gw@192.0.2.7:5062>",
			hdrs:      "Record-Route: <sip:p1.example.net:5080>, <sip:p2.example.net;lr>\r\n",
			wantURI:   "sip:p1.example.net:5080",
			wantRoute: []string{"<sip:p2.example.net;lr>", "<sip:gw@192.0.2.7:5062>"},
			wantDest:  "p1.example.net:5080"},
		{name: "no contact", transport: "TCP",
			wantURI: "sip:192.0.2.7:40000;transport=tcp", wantDest: "192.0.2.7:40000"},
		{name: "tel contact", transport: "UDP", contact: "<tel:+15551234>",
			wantURI: "sip:192.0.2.7:40000", wantDest: "192.0.2.7:40000"},
		{name: "uri headers dropped", transport: "UDP", contact: "<sip:gw@192.0.2.7?Subject=x>",
			wantURI: "sip:gw@192.0.2.7", wantDest: "192.0.2.7:5060"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := "INVITE sip:callvault@192.0.2.1 SIP/2.0\r\n" +
				"Via: SIP/2.0/" + tt.transport + " 192.0.2.7:5060;branch=z9hG4bK-1\r\n" +
				"From: \"Gateway\" <sip:gw@192.0.2.7>;tag=" + cubeFromTag + "\r\n" +
				"To: <sip:callvault@192.0.2.1>\r\n" +
				"Call-ID: peer@192.0.2.7\r\nCSeq: 7 INVITE\r\nMax-Forwards: 70\r\n" + tt.hdrs
			if tt.contact != "" {
				msg += "Contact: " + tt.contact + "\r\n"
			}
			msg += "Content-Length: 0\r\n\r\n"
			m, err := sip.ParseMessage([]byte(msg))
			if err != nil {
				t.Fatalf("parse INVITE: %v", err)
			}
			p := newPeer(m.(*sip.Request), "ourtag", "<sip:callvault@192.0.2.1:5090;transport=tcp>", src)
			p.cseq = 1
			bye := p.bye("peer@192.0.2.7", tt.transport, 503, "recorder shutting down", "callvault-test")

			checkBye(t, bye, tt.wantURI, "peer@192.0.2.7", "ourtag", `SIP;cause=503;text="recorder shutting down"`)
			if got := bye.To().DisplayName; got != "Gateway" {
				t.Errorf("To display name %q, want the client's From's", got)
			}
			if got := bye.From().Address.String(); got != "sip:callvault@192.0.2.1" {
				t.Errorf("From %q, want the INVITE's To", got)
			}
			var routes []string
			for _, h := range bye.GetHeaders("Route") {
				routes = append(routes, h.Value())
			}
			if !slices.Equal(routes, tt.wantRoute) {
				t.Errorf("Route %q, want %q", routes, tt.wantRoute)
			}
			if got := bye.Destination(); got != tt.wantDest {
				t.Errorf("destination %q, want %q", got, tt.wantDest)
			}
			via := bye.Via()
			if via.Transport != tt.transport || via.Host != "192.0.2.1" || via.Port != 5090 ||
				!strings.HasPrefix(via.Params.GetOr("branch", ""), sip.RFC3261BranchMagicCookie) {
				t.Errorf("Via %q", via.Value())
			}
			if got := header(bye, "User-Agent"); got != "callvault-test" {
				t.Errorf("User-Agent %q", got)
			}
			if cl := bye.ContentLength(); cl == nil || *cl != 0 {
				t.Errorf("Content-Length %v, want 0", cl)
			}
		})
	}
}
