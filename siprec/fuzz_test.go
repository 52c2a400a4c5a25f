package siprec

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// Fuzz targets for the hostile-input edges that have no target beside
// their own tests. Each has a committed seed corpus under
// testdata/fuzz/<target>: the vendor messages (or the parts the target
// takes), the RFC 4475 torture messages and edge cases. The seeds run in
// every `go test`; `go test ./siprec -run '^$' -fuzz '^FuzzX$'` explores.
//
// A whole-request target (raw request to the session model) is left out:
// onInvite chains SplitBody, parseSDP, ParseMetadata and Merge inline
// between sipgo calls, and the three parsers have targets of their own.

// FuzzCheckDatagram: the UDP guard never panics, and the 400 it sends for
// a datagram it rejects is a 400 to the request's Call-ID that sipgo
// parses, unless the request's own Via, From, To, Call-ID or CSeq (which
// the 400 must copy) is what sipgo cannot read.
func FuzzCheckDatagram(f *testing.F) {
	for _, name := range sampleFiles(f) {
		f.Add(loadSample(f, name, nil))
	}
	for _, m := range tortureMessages(f) {
		f.Add(m.data)
	}
	f.Add([]byte(strings.Replace(guardInvite, "%LEN%", "4000", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		reason := checkDatagram(sip.NewParser(), data)
		if reason == "" {
			return
		}
		if resp := badRequest(data, reason, "callvault-fuzz"); resp != nil {
			checkBadRequest(t, data, resp)
		}
	})
}

// copiedHeaders are the headers a response copies from its request (RFC
// 3261 section 8.2.6.2), long and compact names.
var copiedHeaders = [][2]string{{"via", "v"}, {"from", "f"}, {"to", "t"}, {"call-id", "i"}, {"cseq", ""}}

// checkBadRequest checks resp, the guard's answer to the request datagram
// req: a status line of 400, line ends that are all CRLF (no header a
// request smuggles in), and req's Call-ID. When sipgo reads every value of
// the headers the 400 copies, it must read the 400 too.
func checkBadRequest(t testing.TB, req, resp []byte) {
	t.Helper()
	if !bytes.HasPrefix(resp, []byte("SIP/2.0 400 ")) || !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		t.Fatalf("the answer is not a 400 ending its headers: %q", resp)
	}
	for i, c := range resp {
		if c == '\n' && (i == 0 || resp[i-1] != '\r') || c == '\r' && (i+1 == len(resp) || resp[i+1] != '\n') {
			t.Fatalf("the 400 has a bare CR or LF at %d: %q\nrequest %q", i, resp, req)
		}
	}
	ids := rawHeaderValues(req, "call-id", "i")
	if got := rawHeaderValues(resp, "call-id", "i"); len(got) != 1 || !slices.Contains(ids, got[0]) {
		t.Fatalf("the 400 carries Call-ID %q, the request %q\nresponse %q", got, ids, resp)
	}
	for _, h := range copiedHeaders {
		for _, v := range rawHeaderValues(req, h[0], h[1]) {
			if !sipgoReads(h[0], v) {
				return // the 400 copies what sipgo cannot read
			}
		}
	}
	msg, err := sip.NewParser().ParseSIP(resp)
	if err != nil {
		t.Fatalf("the 400 does not parse: %v\nrequest %q\nresponse %q", err, req, resp)
	}
	if res, ok := msg.(*sip.Response); !ok || res.StatusCode != 400 || res.CallID() == nil || !slices.Contains(ids, res.CallID().Value()) {
		t.Fatalf("sipgo reads the 400 as %v\nrequest %q\nresponse %q", msg, req, resp)
	}
}

// sipgoReads reports whether sipgo reads value as the header name in an
// otherwise sound response.
func sipgoReads(name, value string) bool {
	hdrs := map[string]string{"via": "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-r", "from": "<sip:a@192.0.2.1>;tag=f",
		"to": "<sip:b@192.0.2.2>", "call-id": "r", "cseq": "1 OPTIONS"}
	hdrs[name] = value
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	for _, h := range copiedHeaders {
		b.WriteString(h[0] + ": " + hdrs[h[0]] + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	_, err := sip.NewParser().ParseSIP([]byte(b.String()))
	return err == nil
}

// rawHeaderValues returns the values of the header named long or compact
// in a raw message's header section, each trimmed, folded lines joined by
// a space (RFC 3261 section 7.3.1).
func rawHeaderValues(msg []byte, long, compact string) []string {
	head := msg
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		head = msg[:i]
	} else if i := bytes.Index(msg, []byte("\n\n")); i >= 0 {
		head = msg[:i]
	}
	var lines []string
	for raw := range strings.SplitSeq(string(head), "\n") {
		l := strings.TrimRight(raw, "\r")
		if l != "" && (l[0] == ' ' || l[0] == '\t') && len(lines) > 0 {
			lines[len(lines)-1] += " " + strings.TrimSpace(l)
			continue
		}
		lines = append(lines, l)
	}
	var vals []string
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if name = strings.TrimSpace(name); ok && (strings.EqualFold(name, long) || strings.EqualFold(name, compact)) {
			vals = append(vals, strings.TrimSpace(val))
		}
	}
	return vals
}

// FuzzParseCrypto: parseCrypto never panics; what it accepts writes back
// (Crypto.line) as a line that reads as the same value, and its errors
// never hold the key (they read the same whatever the key's characters).
func FuzzParseCrypto(f *testing.F) {
	for _, name := range sampleFiles(f) {
		ct, raw := sampleBody(f, name)
		b, err := SplitBody(ct, raw)
		if err != nil {
			continue
		}
		for _, v := range cryptoValues(b.SDP) {
			f.Add(v)
		}
	}
	for _, v := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|1:4",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|1:4;inline:" + b46 + "|2^20|2:4 WSH=64 KDR=0",
		"999999999 AEAD_AES_256_GCM inline:" + b46[:59] + "|1048576",
		"2 FUTURE inline:QQ|2^63|340282366920938463463374607431768211455:16",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseCrypto(v)
		if err != nil {
			// The same line with other key characters (of the same
			// length and validity) must fail with the same words.
			if key := inlineKey(v); key != "" && strings.Count(v, key) == 1 {
				other := strings.Replace(v, key, rotateBase64(key), 1)
				if _, err2 := parseCrypto(other); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("the error depends on the key's characters, it may hold them:\n%q: %v\n%q: %v", v, err, other, err2)
				}
			}
			return
		}
		line := c.line()
		back, err := parseCrypto(line)
		if err != nil {
			t.Fatalf("%q reads as %v, written back as %q, which fails: %v", v, c, line, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("%q reads as %v %x, written back as %q, which reads as %v %x", v, c, c.Key, line, back, back.Key)
		}
	})
}

// cryptoValues returns the values of the a=crypto lines of an SDP body.
func cryptoValues(sdp []byte) []string {
	var vals []string
	for l := range strings.SplitSeq(string(sdp), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "a=crypto:"); ok {
			vals = append(vals, v)
		}
	}
	return vals
}

// inlineKey returns the text of the key of an a=crypto value's key
// parameter (its third field: after "inline:", up to "|" or ";"), "" when
// there is none.
func inlineKey(v string) string {
	f := strings.Fields(v)
	if len(f) < 3 || len(f[2]) < len("inline:") || !strings.EqualFold(f[2][:len("inline:")], "inline:") {
		return ""
	}
	k := f[2][len("inline:"):]
	if j := strings.IndexAny(k, "|;"); j >= 0 {
		k = k[:j]
	}
	return k
}

// rotateBase64 replaces each base64 digit of s by the next one (the last
// by the first) and leaves every other byte: the result decodes, or fails
// to, as s does, to as many bytes.
func rotateBase64(s string) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := []byte(s)
	for i, c := range b {
		if j := strings.IndexByte(digits, c); j >= 0 {
			b[i] = digits[(j+1)%len(digits)]
		}
	}
	return string(b)
}

// FuzzParticipantUser: Participant.User never panics and gives "" or a
// number: digits with at most a leading "+", taken in order from the AOR
// or from the display name.
func FuzzParticipantUser(f *testing.F) {
	for _, name := range sampleFiles(f) {
		ct, raw := sampleBody(f, name)
		b, err := SplitBody(ct, raw)
		if err != nil || b.Metadata == nil {
			continue
		}
		md, err := ParseMetadata(b.Metadata)
		if err != nil {
			continue
		}
		for _, p := range md.Participants {
			f.Add(p.AOR, p.Name)
		}
	}
	for _, p := range [][2]string{
		{"sip:2501@10.0.0.1;user=phone", ""},
		{"tel:+1-555-123-0001;phone-context=example.com", ""},
		{`"Alice" <sip:+15558201@gw>`, ""},
		{"sip:ASBCE@10.0.0.1", `"Agent 2501"`},
		{"sip:[2001:db8::1]:5060", "+1 (408) 555-0199"},
		{"Extension-016190619@host", ""},
		{"sip:10.10.1.20", "+"},
		{"<<<sip:@>", "0"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, aor, name string) {
		u := Participant{AOR: aor, Name: name}.User()
		if u == "" {
			return
		}
		digits := strings.TrimPrefix(u, "+")
		if digits == "" || strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
			t.Fatalf("User() of AOR %q, name %q = %q: not a number", aor, name, u)
		}
		if !isSubsequence(digits, digitsOf(aor)) && !isSubsequence(digits, digitsOf(name)) {
			t.Fatalf("User() of AOR %q, name %q = %q: digits taken from neither", aor, name, u)
		}
	})
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// isSubsequence reports whether sub's bytes appear in s in order.
func isSubsequence(sub, s string) bool {
	for i := 0; i < len(s) && sub != ""; i++ {
		if s[i] == sub[0] {
			sub = sub[1:]
		}
	}
	return sub == ""
}
