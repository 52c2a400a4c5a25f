package siprec

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestPeekRequest(t *testing.T) {
	msg := strings.Replace(guardInvite, "%LEN%", "5", 1)
	if got := peekRequest([]byte(msg)); got != (requestInfo{method: "INVITE", branch: "z9hG4bK-1"}) {
		t.Errorf("peek INVITE = %+v", got)
	}
	re := strings.Replace(msg, "To: <sip:7777@127.0.0.1>", "t: <sip:7777@127.0.0.1> ; tag=x", 1)
	re = strings.Replace(re, "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1", "v: SIP/2.0/UDP 127.0.0.1:5070 ; branch=z9hG4bK-9 , SIP/2.0/UDP p;branch=z9hG4bK-0", 1)
	if got := peekRequest([]byte(re)); got != (requestInfo{method: "INVITE", branch: "z9hG4bK-9", toTag: true}) {
		t.Errorf("peek re-INVITE (compact, two Vias) = %+v", got)
	}
	if got := peekRequest([]byte("SIP/2.0 200 OK\r\n\r\n")); got.method != "" {
		t.Errorf("peek response = %+v", got)
	}
}

func TestForceRport(t *testing.T) {
	for _, c := range []struct{ via, want string }{
		{"Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-1", "Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-1;rport"},
		{"Via: SIP/2.0/UDP 192.0.2.9;rport;branch=z9hG4bK-1", "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-1;rport"},
		{"Via: SIP/2.0/UDP 192.0.2.9;rport=7;branch=z9hG4bK-1", "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-1;rport"},
		{"v: SIP/2.0/UDP a;branch=z9hG4bK-1,SIP/2.0/UDP b;branch=z9hG4bK-0", "v: SIP/2.0/UDP a;branch=z9hG4bK-1;rport,SIP/2.0/UDP b;branch=z9hG4bK-0"},
	} {
		msg := strings.Replace(strings.Replace(guardInvite, "%LEN%", "5", 1), "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1", c.via, 1)
		buf := make([]byte, 4096)
		n := forceRport(buf, copy(buf, msg))
		got := string(buf[:n])
		if want := strings.Replace(msg, c.via, c.want, 1); got != want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.via, got, want)
		}
		req, err := sip.ParseMessage(buf[:n])
		if err != nil {
			t.Fatalf("%s: rewritten request does not parse: %v", c.via, err)
		}
		if v, ok := req.(*sip.Request).Via().Params.Get("rport"); !ok || v != "" {
			t.Errorf("%s: top Via rport = %q, %t; want empty, present", c.via, v, ok)
		}
	}
	// A buffer too small for the rewrite leaves the request as it came.
	msg := strings.Replace(guardInvite, "%LEN%", "5", 1)
	buf := []byte(msg)
	if n := forceRport(buf, len(buf)); string(buf[:n]) != msg {
		t.Error("rewrite past the buffer's end")
	}
}

func TestPhrasesAreSIPs(t *testing.T) {
	for code, want := range map[int]string{422: "Session Interval Too Small", 482: "Loop Detected", 503: "Service Unavailable", 599: "Server Error", 481: "Call/Transaction Does Not Exist"} {
		if got := Phrase(code); got != want {
			t.Errorf("Phrase(%d) = %q, want %q", code, got, want)
		}
	}
	if got := RefuseSessions.TableRow(); got != "| 503 Service Unavailable | too many live sessions (…) |" {
		t.Errorf("TableRow = %q", got)
	}
}
