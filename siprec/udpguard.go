package siprec

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// udpGuard wraps the UDP socket handed to sipgo. sipgo drops a datagram it
// cannot parse (a Content-Length larger than the datagram, a broken header)
// with only a log line, and the client retransmits into silence. The guard
// parses each request first, answers such datagrams with 400 straight to
// the sender and does not pass them on.
type udpGuard struct {
	net.PacketConn
	parser *sip.Parser
	server string
	log    *slog.Logger
}

func newUDPGuard(c net.PacketConn, userAgent string, log *slog.Logger) *udpGuard {
	return &udpGuard{PacketConn: c, parser: sip.NewParser(), server: userAgent, log: log}
}

// ReadFrom returns the next datagram that sipgo can handle.
func (g *udpGuard) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := g.PacketConn.ReadFrom(b)
		if err != nil || n == 0 {
			return n, addr, err
		}
		reason := checkDatagram(g.parser, b[:n])
		if reason == "" {
			return n, addr, nil
		}
		resp := badRequest(b[:n], reason, g.server)
		if resp == nil {
			g.log.Warn("sip datagram dropped", "source", addr.String(), "reason", reason, "size", n)
			continue
		}
		g.log.Warn("sip datagram rejected", "source", addr.String(), "status", 400, "reason", reason, "size", n)
		if _, err := g.PacketConn.WriteTo(resp, addr); err != nil {
			g.log.Warn("send 400 failed", "source", addr.String(), "error", err)
		}
	}
}

// checkDatagram returns why a request datagram cannot be handled, or "" for
// one sipgo can parse (and for responses and keepalives, which are not ours
// to judge). It reads the header lines without parsing them, so a sound
// request is not parsed twice; only one that looks wrong is handed to the
// full parser to name the problem.
func checkDatagram(p *sip.Parser, data []byte) string {
	if len(bytes.TrimSpace(bytes.Trim(data, "\x00"))) == 0 || bytes.HasPrefix(data, []byte("SIP/")) {
		return ""
	}
	if reason, sound := scanDatagram(data); sound {
		return reason
	}
	msg, err := p.ParseSIP(data)
	if err == nil {
		return ""
	}
	if errors.Is(err, sip.ErrParseReadBodyIncomplete) && msg != nil {
		if cl := msg.ContentLength(); cl != nil {
			have := len(data) - headerLen(data)
			return fmt.Sprintf("Content-Length %d exceeds the %d body bytes in the datagram", int(*cl), have)
		}
	}
	if errors.Is(err, sip.ErrMessageTooLarge) {
		return "message too large"
	}
	return "malformed message: " + err.Error()
}

// scanDatagram looks at a request's header lines without parsing them. It
// reports sound when the request line and the headers every request needs
// are there; reason is then non-empty only when the Content-Length claims
// more bytes than the datagram holds.
func scanDatagram(data []byte) (reason string, sound bool) {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return "", false
	}
	head, body := data[:end], len(data)-end-4
	first := true
	var seen uint8 // bits: via, from, to, call-id, cseq
	cl := -1
	for len(head) > 0 {
		line := head
		if i := bytes.Index(head, []byte("\r\n")); i >= 0 {
			line, head = head[:i], head[i+2:]
		} else {
			head = nil
		}
		if first {
			first = false
			if f := bytes.Fields(line); len(f) != 3 || !bytes.HasPrefix(f[2], []byte("SIP/2.0")) {
				return "", false
			}
			continue
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
				continue // folded continuation
			}
			return "", false
		}
		name = bytes.TrimSpace(name)
		switch {
		case isHeader(name, "via", "v"):
			seen |= 1
		case isHeader(name, "from", "f"):
			seen |= 2
		case isHeader(name, "to", "t"):
			seen |= 4
		case isHeader(name, "call-id", "i"):
			seen |= 8
		case isHeader(name, "cseq", ""):
			seen |= 16
		case isHeader(name, "content-length", "l"):
			n, ok := atoi(bytes.TrimSpace(val))
			if !ok {
				return "", false
			}
			cl = n
		}
	}
	if seen != 31 {
		return "", false
	}
	if cl > body {
		return fmt.Sprintf("Content-Length %d exceeds the %d body bytes in the datagram", cl, body), true
	}
	return "", true
}

// isHeader reports whether name is the header long or its compact form.
func isHeader(name []byte, long, compact string) bool {
	return bytes.EqualFold(name, []byte(long)) || (compact != "" && bytes.EqualFold(name, []byte(compact)))
}

// atoi reads a small decimal number without allocating.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
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

// badRequest builds a 400 to a request datagram from its raw Via, From, To,
// Call-ID and CSeq lines, or returns nil when it is not a request we can
// answer (an ACK, or one without those headers).
func badRequest(data []byte, reason, server string) []byte {
	lines := headerLines(data[:headerLen(data)])
	if len(lines) == 0 {
		return nil
	}
	start := strings.Fields(lines[0])
	if len(start) != 3 || !strings.HasPrefix(start[2], "SIP/") || strings.EqualFold(start[0], "ACK") {
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
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	for _, v := range vias {
		b.WriteString("Via: " + v + "\r\n")
	}
	b.WriteString("From: " + from + "\r\n")
	b.WriteString("To: " + to + "\r\n")
	b.WriteString("Call-ID: " + callID + "\r\n")
	b.WriteString("CSeq: " + cseq + "\r\n")
	b.WriteString("Warning: 399 callvault \"" + reason + "\"\r\n")
	b.WriteString("Reason: SIP;cause=400;text=\"" + reason + "\"\r\n")
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
