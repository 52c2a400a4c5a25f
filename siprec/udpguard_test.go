package siprec

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

const guardInvite = "INVITE sip:7777@127.0.0.1:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
	"From: <sip:127.0.0.1>;tag=a\r\n" +
	"To: <sip:7777@127.0.0.1>\r\n" +
	"Call-ID: guard-1\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: %LEN%\r\n\r\n" +
	"v=0\r\n"

func TestCheckDatagram(t *testing.T) {
	p := sip.NewParser()
	for _, c := range []struct {
		name, msg, want string
	}{
		{"sound", strings.Replace(guardInvite, "%LEN%", "5", 1), ""},
		{"length lies", strings.Replace(guardInvite, "%LEN%", "4000", 1), "Content-Length 4000 exceeds the 5 body bytes"},
		{"compact length lies", strings.Replace(strings.Replace(guardInvite, "Content-Length: %LEN%", "l: 99", 1), "%LEN%", "", 1), "Content-Length 99 exceeds the 5 body bytes"},
		{"no header end", "INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK-2\r\n", "malformed message"},
		{"bad request line", strings.Replace(strings.Replace(guardInvite, "%LEN%", "5", 1), "INVITE sip:7777@127.0.0.1:5060 SIP/2.0", "INVITE", 1), "malformed message"},
		{"response", "SIP/2.0 200 OK\r\n\r\n", ""},
		{"keepalive", "\r\n\r\n", ""},
	} {
		got := checkDatagram(p, []byte(c.msg))
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: checkDatagram = %q, want %q", c.name, got, c.want)
		}
	}
}

// BenchmarkCheckDatagram: the guard's cost on a sound request, paid once per
// UDP request on top of sipgo's own parse.
func BenchmarkCheckDatagram(b *testing.B) {
	p := sip.NewParser()
	msg := []byte(strings.Replace(guardInvite, "%LEN%", "5", 1))
	b.ReportAllocs()
	for b.Loop() {
		if checkDatagram(p, msg) != "" {
			b.Fatal("sound request rejected")
		}
	}
}
