package siprec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestUnparsableRequestGets400: a request whose Route port is not a
// number gets 400 with a Warning over UDP and TCP, and the TCP connection
// goes on serving.
func TestUnparsableRequestGets400(t *testing.T) {
	ts := startServer(t)
	for _, transport := range []string{"UDP", "TCP"} {
		c := dialClient(t, transport, map[string]string{"UDP": ts.udpAddr, "TCP": ts.tcpAddr}[transport])
		msg := string(c.fixAddrs(loadSample(t, "cisco/cube-invite.sip", c.vars("badroute-"+transport, ""))))
		msg = strings.Replace(msg, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRoute: <sip:10.0.0.2:abc;lr>\r\n", 1)
		c.send([]byte(msg))
		res := c.expect(400, transport+" INVITE with a Route port that is not a number")
		if w := header(res, "Warning"); !strings.Contains(w, "malformed message") {
			t.Errorf("%s: Warning = %q", transport, w)
		}
		c.send(c.request("OPTIONS", "after-badroute-"+transport, "t1", "", 1, nil, "", ""))
		c.expect(200, transport+" OPTIONS after the refused INVITE")
	}
	noMore(t, ts.rec.admits, "a session admitted from an unparsable INVITE")
}

func TestStreamMessagesWithholdsUntilWhole(t *testing.T) {
	fr := newFramer(0)
	m := streamMessages{fr: &fr, parser: sip.NewParser()}
	good := "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK-1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nabcd"
	bad := strings.Replace(good, "Call-ID: c1\r\n", "Call-ID: c2\r\nRoute: <sip:h:abc>\r\n", 1)
	stream := "\r\n\r\n" + good + bad + good
	var got []string
	buf := make([]byte, 7)
	var rejected []rejected
	for i := 0; i < len(stream); i += 5 {
		r, framing := m.take([]byte(stream[i:min(i+5, len(stream))]))
		if framing != "" {
			t.Fatal(framing)
		}
		rejected = append(rejected, r...)
		var unit []byte
		for n := m.next(buf); n > 0; n = m.next(buf) {
			unit = append(unit, buf[:n]...)
			if len(m.cur) == 0 {
				got = append(got, string(unit))
				unit = nil
			}
		}
	}
	if want := []string{"\r\n\r\n", good, good}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("handed on %q, want %q", got, want)
	}
	if len(rejected) != 1 || string(rejected[0].msg) != bad || !strings.Contains(rejected[0].refusal.Text, "malformed message") {
		t.Errorf("rejected %+v, want the Route one", rejected)
	}
}

// TestJudgeTortureMessages: the RFC 4475 requests whose answer the RFC
// names get it from the edge, on every transport.
func TestJudgeTortureMessages(t *testing.T) {
	for name, want := range map[string]int{"badvers": 505, "mismatch01": 400, "unkscm": 416, "clerr": 400} {
		raw, err := os.ReadFile(filepath.Join("testdata", "rfc4475", name+".sip"))
		if err != nil {
			t.Fatal(err)
		}
		r, _ := judgeMessage(sip.NewParser(), raw)
		if r.Code != want {
			t.Errorf("%s: judged %d %q, want %d", name, r.Code, r.Text, want)
		}
	}
	raw, _ := os.ReadFile(filepath.Join("testdata", "rfc4475", "lwsruri.sip"))
	if resp := statelessResponse(raw, 400, "x", ""); resp == nil {
		t.Error("lwsruri (a request line with four fields) got no 400")
	}
}
