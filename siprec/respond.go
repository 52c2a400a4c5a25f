package siprec

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

const (
	allowHeader  = "INVITE, ACK, BYE, CANCEL, UPDATE, INFO, OPTIONS"
	acceptHeader = "application/sdp, application/rs-metadata+xml, application/rs-metadata, multipart/mixed"
	// supportedHeader lists the extensions we implement.
	supportedHeader = "siprec, timer"
	// retryAfter is what a draining server asks clients to wait (seconds).
	retryAfter = "60"
)

// newResponse builds a response to req with our common headers.
func (s *Server) newResponse(req *sip.Request, code int, body []byte, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, Phrase(code), body)
	if s.cfg.UserAgent != "" {
		res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if len(body) > 0 {
		// The only bodies we send are SDP answers.
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	return res
}

// reply sends a response without a body and logs a failure to send it.
func (s *Server) reply(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction, code int, hdrs ...sip.Header) {
	if err := tx.Respond(s.newResponse(req, code, nil, hdrs...)); err != nil {
		log.Warn("send response failed", "status", code, "error", err)
	}
}

// reject sends an error response carrying reason in a Warning (RFC 3261
// 20.43, code 399) and a Reason header (RFC 3326).
func (s *Server) reject(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	reason = quotable(reason)
	hdrs = append(hdrs,
		sip.NewHeader("Warning", fmt.Sprintf("399 %s \"%s\"", warnAgent(req), reason)),
		sip.NewHeader("Reason", fmt.Sprintf("SIP;cause=%d;text=\"%s\"", code, reason)),
	)
	log.Info("request rejected", "method", string(req.Method), "status", code, "reason", reason)
	s.reply(log, req, tx, code, hdrs...)
}

// refuse rejects req for one of the listed refusals.
func (s *Server) refuse(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction, r Refusal, hdrs ...sip.Header) {
	s.reject(log, req, tx, r.Code, r.Text, hdrs...)
}

// rejectErr rejects req with the status err maps to.
func (s *Server) rejectErr(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction, err error) {
	code, reason := statusFor(err)
	if code == 500 {
		log.Error("request failed", "method", string(req.Method), "error", err)
	}
	s.reject(log, req, tx, code, reason)
}

// quotable makes s safe inside a quoted-string: no quotes, backslashes or
// control characters, at most 120 bytes.
func quotable(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\':
			return '\''
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.TrimSpace(s)
}

// warnAgent is the host we name in Warning headers: the host the client
// addressed us by.
func warnAgent(req *sip.Request) string {
	if h := req.Recipient.Host; h != "" {
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
			return "[" + h + "]"
		}
		return h
	}
	return "callvault"
}

// optionTags returns the option tags of all headers named name (and its
// compact form, if any), lower-cased.
func optionTags(req *sip.Request, names ...string) []string {
	var tags []string
	for _, name := range names {
		for _, h := range req.GetHeaders(name) {
			for t := range strings.SplitSeq(h.Value(), ",") {
				if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
					tags = append(tags, t)
				}
			}
		}
	}
	return tags
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// readBody refuses a request that requires an extension we lack (420)
// or whose body cannot be split into its parts; otherwise it returns
// the parts. It reports false when it has answered the request.
func (s *Server) readBody(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction) (Body, bool) {
	if bad := unsupportedRequire(req); len(bad) > 0 {
		s.refuse(log, req, tx, RefuseExtension, sip.NewHeader("Unsupported", joinTags(bad)))
		return Body{}, false
	}
	body, err := SplitBody(contentType(req), req.Body())
	if err != nil {
		s.rejectErr(log, req, tx, err)
		return Body{}, false
	}
	return body, true
}

// unsupportedRequire returns the Require option tags we do not implement.
func unsupportedRequire(req *sip.Request) []string {
	var bad []string
	for _, t := range optionTags(req, "Require") {
		switch t {
		case "siprec", "timer", "100rel":
		default:
			bad = append(bad, t)
		}
	}
	return bad
}

// isSiprecOffer reports whether an initial INVITE comes from a recording
// client: siprec in Require or Supported, +sip.src in Contact, or a
// metadata part in the body.
func isSiprecOffer(req *sip.Request, body Body) bool {
	if hasTag(optionTags(req, "Require", "Supported", "k"), "siprec") {
		return true
	}
	for _, h := range req.GetHeaders("Contact") {
		if strings.Contains(strings.ToLower(h.Value()), "+sip.src") {
			return true
		}
	}
	return body.Metadata != nil
}

func contentType(req *sip.Request) string {
	if h := req.ContentType(); h != nil {
		return h.Value()
	}
	return ""
}

// localAddr is the local address of the connection req arrived on.
func localAddr(tx sip.ServerTransaction) netip.AddrPort {
	st, ok := tx.(*sip.ServerTx)
	if !ok || st.Connection() == nil {
		return netip.AddrPort{}
	}
	ap, err := netip.ParseAddrPort(st.Connection().LocalAddr().String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// mediaAddr picks the address for the c= line of our answers; see
// Config.MediaAddr.
func (s *Server) mediaAddr(req *sip.Request, local netip.AddrPort, src netip.AddrPort) (netip.Addr, error) {
	if s.cfg.MediaAddr.IsValid() {
		return s.cfg.MediaAddr.Unmap(), nil
	}
	if a := local.Addr(); a.IsValid() && !a.IsUnspecified() {
		return a, nil
	}
	if a, err := netip.ParseAddr(strings.Trim(req.Recipient.Host, "[]")); err == nil && !a.IsUnspecified() {
		return a.Unmap(), nil
	}
	if src.IsValid() {
		// The local address of the route back to the client. A UDP
		// "connection" sends nothing.
		var d net.Dialer
		c, err := d.DialContext(context.Background(), "udp", src.String())
		if err == nil {
			defer c.Close()
			if ap, err := netip.ParseAddrPort(c.LocalAddr().String()); err == nil {
				return ap.Addr().Unmap(), nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("choose media address: no usable local address for %s", src)
}

// contactFor is our Contact for a dialog: the local address the request
// arrived on, or addr with the local port on a wildcard listener.
func contactFor(local netip.AddrPort, addr netip.Addr, transport string) string {
	host := local.Addr()
	if !host.IsValid() || host.IsUnspecified() {
		host = addr
	}
	hp := netip.AddrPortFrom(host, local.Port()).String()
	if local.Port() == 0 {
		hp = host.String()
		if host.Is6() {
			hp = "[" + hp + "]"
		}
	}
	c := "<sip:callvault@" + hp
	if t := strings.ToLower(transport); t != "" && t != "udp" {
		c += ";transport=" + t
	}
	return c + ">"
}

func parseSource(req *sip.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func cseqOf(req *sip.Request) uint32 {
	if c := req.CSeq(); c != nil {
		return c.SeqNo
	}
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }

// bodyValue logs a SIP body as text, converting it only when the record is
// actually written (bodies are logged at debug level alone). SDES keys
// (a=crypto ... inline:<key>) are replaced by "inline:<redacted>": keys
// never reach a log.
type bodyValue []byte

func (b bodyValue) LogValue() slog.Value { return slog.StringValue(redactKeys(b)) }
