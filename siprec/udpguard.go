package siprec

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// udpGuard wraps the UDP socket handed to sipgo: it is the UDP edge, and
// what it turns away leaves no state behind (sipgo builds a transaction,
// with its timers, for every request it sees).
//   - A datagram sipgo cannot parse (a Content-Length larger than the
//     datagram, a broken header) is answered 400 straight to the sender;
//     sipgo would drop it with only a log line, and the client would
//     retransmit into silence.
//   - A request from a source outside the allow-list gets 403.
//   - A new INVITE from a source over its session rate, or while the
//     server is over its own (max_cps), gets 503 with a Retry-After; its
//     retransmissions get the same.
//   - Non-SIP junk is dropped.
//
// A request passed on has its top Via marked rport (RFC 3581), so that
// sipgo answers the address and port it came from, never an address the
// request claims.
type udpGuard struct {
	net.PacketConn
	parser *sip.Parser
	server string
	log    *slog.Logger
	gate   *gate
	now    func() time.Time
	quiet  *quietLog
}

func newUDPGuard(c net.PacketConn, userAgent string, g *gate, log *slog.Logger) *udpGuard {
	return &udpGuard{PacketConn: c, parser: sip.NewParser(), server: userAgent, log: log,
		gate: g, now: time.Now, quiet: newQuietLog(10 * time.Second)}
}

// ReadFrom returns the next datagram that sipgo is to handle.
func (g *udpGuard) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := g.PacketConn.ReadFrom(b)
		if err != nil || n == 0 {
			return n, addr, err
		}
		if m, pass := g.judge(b, n, addr); pass {
			return m, addr, nil
		}
	}
}

// judge answers or drops a datagram that is not to reach sipgo, and
// returns the length of one that is (its Via marked rport).
func (g *udpGuard) judge(b []byte, n int, addr net.Addr) (int, bool) {
	data := b[:n]
	if r, _ := judgeMessage(g.parser, data); r.Code != 0 {
		if resp := statelessResponse(data, r.Code, r.Text, g.server); resp != nil {
			g.note(addr, "sip datagram rejected", "status", r.Code, "reason", r.Text, "size", n)
			g.send(resp, addr)
		} else {
			g.note(addr, "sip datagram dropped", "reason", r.Text, "size", n)
		}
		return 0, false
	}
	info := peekRequest(data)
	if info.method == "" {
		return n, true // a response or a keep-alive: sipgo's to match
	}
	src := addrPortOf(addr)
	if !g.gate.allowed(src.Addr()) && !selfProbe(info.method, src.Addr()) {
		g.note(addr, "sip request refused", "status", 403, "reason", RefuseSource.Text, "method", info.method)
		g.answer(data, info, RefuseSource, "", addr)
		return 0, false
	}
	if info.method == "INVITE" && !info.toTag {
		if r, wait := g.gate.open(src.Addr(), info.branch, g.now()); r.Code != 0 {
			g.note(addr, "sip request refused", "status", r.Code, "reason", r.Text)
			g.answer(data, info, r, retryAfterValue(wait), addr)
			return 0, false
		}
	}
	return forceRport(b, n), true
}

// answer sends a stateless refusal to a request (never to an ACK).
func (g *udpGuard) answer(data []byte, info requestInfo, r Refusal, retry string, addr net.Addr) {
	if info.method == "ACK" {
		return
	}
	var extra []string
	if retry != "" {
		extra = append(extra, "Retry-After: "+retry)
	}
	if resp := statelessResponse(data, r.Code, r.Text, g.server, extra...); resp != nil {
		g.send(resp, addr)
	}
}

func (g *udpGuard) send(resp []byte, addr net.Addr) {
	if _, err := g.PacketConn.WriteTo(resp, addr); err != nil {
		g.log.Debug("send stateless response failed", "source", addr.String(), "error", err)
	}
}

// note logs a turned-away datagram at Warn, at most once per source
// address per interval, with the count of those not logged meanwhile.
func (g *udpGuard) note(addr net.Addr, msg string, args ...any) {
	src := addrPortOf(addr).Addr()
	if skipped, ok := g.quiet.allow(src, g.now()); ok {
		g.log.Warn(msg, append([]any{"source", addr.String(), "unlogged_before", skipped}, args...)...)
	}
}

// addrPortOf is the address and port of a UDP or TCP peer.
func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// retryAfterValue is a Retry-After header value for a wait: whole
// seconds, at least 1.
func retryAfterValue(d time.Duration) string {
	return itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// checkDatagram returns why a request datagram cannot be handled, or "" for
// one sipgo can parse (and for responses and keepalives, which are not ours
// to judge). It runs sipgo's own parser: what it refuses, sipgo would drop
// without an answer (a Content-Length past the datagram's end, a Route
// whose port is not a number).
func checkDatagram(p *sip.Parser, data []byte) string {
	r, _ := judgeMessage(p, data)
	if r.Code == 0 {
		return ""
	}
	return r.Text
}

// judgeMessage parses a whole message with sipgo's parser and returns the
// refusal a request earns (zero when it is fit for sipgo): 400 when it
// cannot be parsed, 505 for another SIP version, 416 for a Request-URI
// scheme we do not serve, 400 when its CSeq names another method.
// Responses and keep-alives are not judged.
func judgeMessage(p *sip.Parser, data []byte) (Refusal, sip.Message) {
	if len(bytes.TrimSpace(bytes.Trim(data, "\x00"))) == 0 || bytes.HasPrefix(data, []byte("SIP/")) {
		return Refusal{}, nil
	}
	msg, err := p.ParseSIP(data)
	if err != nil {
		if errors.Is(err, sip.ErrParseReadBodyIncomplete) && msg != nil {
			if cl := msg.ContentLength(); cl != nil {
				return RefuseContentLength.With(int(*cl), len(data)-headerLen(data)), nil
			}
		}
		if errors.Is(err, sip.ErrMessageTooLarge) {
			return RefuseMalformed.With("message too large"), nil
		}
		return RefuseMalformed.With(err.Error()), nil
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return Refusal{}, msg
	}
	if v := req.SipVersion; !strings.EqualFold(v, "SIP/2.0") {
		return RefuseVersion.With(quotable(v)), msg
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel", "urn":
	default:
		return RefuseScheme.With(quotable(req.Recipient.Scheme)), msg
	}
	if c := req.CSeq(); c != nil && !strings.EqualFold(string(c.MethodName), string(req.Method)) {
		return RefuseCSeqMethod.With(quotable(string(c.MethodName)), quotable(string(req.Method))), msg
	}
	return Refusal{}, msg
}

// isHeader reports whether name is the header long or its compact form.
func isHeader(name []byte, long, compact string) bool {
	return bytes.EqualFold(name, []byte(long)) || (compact != "" && bytes.EqualFold(name, []byte(compact)))
}

// headerLen is the length of the header section including the empty line.
func headerLen(data []byte) int {
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		return i + 2
	}
	return len(data)
}

// badRequest builds a 400 to a request datagram, or returns nil when it is
// not a request we can answer (an ACK, or one without the headers every
// request has).
func badRequest(data []byte, reason, server string) []byte {
	return statelessResponse(data, 400, reason, server)
}

// statelessResponse builds a response to a request datagram from its raw
// Via, From, To, Call-ID and CSeq lines, with reason in its Warning and
// Reason headers and extra header lines, or returns nil when it is not a
// request we can answer (an ACK, or one without those headers).
func statelessResponse(data []byte, code int, reason, server string, extra ...string) []byte {
	lines := headerLines(data[:headerLen(data)])
	if len(lines) == 0 {
		return nil
	}
	start := strings.Fields(lines[0])
	if len(start) < 3 || !strings.HasPrefix(start[len(start)-1], "SIP/") || strings.EqualFold(start[0], "ACK") {
		return nil
	}
	var vias []string
	var from, to, callID, cseq string
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if strings.ContainsAny(val, "\r\x00") {
			return nil // a value we would not copy faithfully: no answer
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			vias = append(vias, val)
		case "from", "f":
			from = val
		case "to", "t":
			to = val
		case "call-id", "i":
			callID = val
		case "cseq":
			cseq = val
		}
	}
	if len(vias) == 0 || from == "" || to == "" || callID == "" || cseq == "" {
		return nil
	}
	if !strings.Contains(strings.ToLower(to), ";tag=") {
		to += ";tag=" + newTag()
	}
	reason = quotable(reason)
	var b strings.Builder
	b.WriteString("SIP/2.0 " + itoa(code) + " " + Phrase(code) + "\r\n")
	for _, v := range vias {
		b.WriteString("Via: " + v + "\r\n")
	}
	b.WriteString("From: " + from + "\r\n")
	b.WriteString("To: " + to + "\r\n")
	b.WriteString("Call-ID: " + callID + "\r\n")
	b.WriteString("CSeq: " + cseq + "\r\n")
	b.WriteString("Warning: 399 callvault \"" + reason + "\"\r\n")
	b.WriteString("Reason: SIP;cause=" + itoa(code) + ";text=\"" + reason + "\"\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if server != "" {
		b.WriteString("Server: " + server + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// headerLines splits a header section into lines (CRLF or LF), joining
// folded continuation lines.
func headerLines(h []byte) []string {
	var out []string
	for raw := range strings.SplitSeq(string(h), "\n") {
		l := strings.TrimRight(raw, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(l)
			continue
		}
		out = append(out, l)
	}
	return out
}
