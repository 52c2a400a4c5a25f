package siprec

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
)

// staticFormats are the RFC 3551 payload types an offer may list without
// an a=rtpmap line.
var staticFormats = map[uint8]Format{
	0:  {PT: 0, Name: "PCMU", Rate: 8000, Channels: 1},
	3:  {PT: 3, Name: "GSM", Rate: 8000, Channels: 1},
	4:  {PT: 4, Name: "G723", Rate: 8000, Channels: 1},
	8:  {PT: 8, Name: "PCMA", Rate: 8000, Channels: 1},
	9:  {PT: 9, Name: "G722", Rate: 8000, Channels: 1},
	13: {PT: 13, Name: "CN", Rate: 8000, Channels: 1},
	18: {PT: 18, Name: "G729", Rate: 8000, Channels: 1},
}

// maxMediaLines bounds the m-lines read from one offer.
const maxMediaLines = 64

// ParseSDP reads an SDP offer into one MediaStream per m-line, in order.
// It is lenient with what gateways send: LF or CRLF line ends, unknown or
// malformed attribute lines (ignored), formats without a=rtpmap (static
// payload types resolved), a=crypto lines it cannot use (left out of
// MediaStream.Crypto). It fails when an m-line cannot be read or when no
// m=audio line is offered at all.
func ParseSDP(b []byte) ([]MediaStream, error) {
	return parseSDP(b, nil)
}

// parseSDP is ParseSDP logging, at debug level, the a=crypto lines it
// leaves out (why, never the key); log may be nil.
func parseSDP(b []byte, log *slog.Logger) ([]MediaStream, error) {
	var (
		streams    []MediaStream
		sessAddr   netip.Addr
		sessDir    string
		cur        *MediaStream
		rtpmaps    map[uint8]Format
		fmtps      map[uint8]string
		haveAudio  bool
		mediaCount int
	)
	finish := func() {
		if cur == nil {
			return
		}
		for i, f := range cur.Formats {
			if m, ok := rtpmaps[f.PT]; ok {
				cur.Formats[i] = m
			} else if s, ok := staticFormats[f.PT]; ok {
				cur.Formats[i] = s
			}
			cur.Formats[i].Fmtp = fmtps[f.PT]
		}
		streams = append(streams, *cur)
		cur = nil
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		l := strings.TrimRight(string(line), "\r \t")
		if len(l) < 2 || l[1] != '=' {
			continue
		}
		val := l[2:]
		switch l[0] {
		case 'm':
			finish()
			if mediaCount++; mediaCount > maxMediaLines {
				return nil, fmt.Errorf("parse sdp: %w: more than %d m-lines", errMalformedSDP, maxMediaLines)
			}
			ms, err := parseMediaLine(val)
			if err != nil {
				return nil, fmt.Errorf("parse sdp: %w", err)
			}
			ms.Index = len(streams)
			if ms.Kind == "audio" {
				haveAudio = true
			}
			cur = &ms
			rtpmaps = make(map[uint8]Format)
			fmtps = make(map[uint8]string)
		case 'c':
			a, ok := parseConnection(val)
			if !ok {
				continue
			}
			if cur == nil {
				sessAddr = a
			} else {
				cur.Addr = a
			}
		case 'a':
			name, arg, _ := strings.Cut(val, ":")
			name = strings.ToLower(strings.TrimSpace(name))
			if isDirection(name) {
				if cur == nil {
					sessDir = name
				} else {
					cur.Direction = name
				}
				continue
			}
			if cur == nil {
				continue
			}
			switch name {
			case "label":
				cur.Label = strings.TrimSpace(arg)
			case "ptime":
				if n, err := strconv.Atoi(strings.TrimSpace(arg)); err == nil && n > 0 {
					cur.Ptime = n
				}
			case "rtpmap":
				if f, ok := parseRtpmap(arg); ok {
					rtpmaps[f.PT] = f
				}
			case "crypto":
				if c, err := parseCrypto(arg); err == nil {
					cur.Crypto = append(cur.Crypto, c)
				} else if log != nil {
					log.Debug("a=crypto line left out", "m_line", cur.Index, "error", err)
				}
			case "fmtp":
				pt, params, ok := strings.Cut(strings.TrimSpace(arg), " ")
				if n, err := strconv.ParseUint(pt, 10, 7); ok && err == nil {
					fmtps[uint8(n)] = strings.TrimSpace(params)
				}
			}
		}
	}
	finish()
	if !haveAudio {
		return nil, fmt.Errorf("parse sdp: %w", errNoAudio)
	}
	for i := range streams {
		if !streams[i].Addr.IsValid() {
			streams[i].Addr = sessAddr
		}
		if streams[i].Direction == "" {
			streams[i].Direction = sessDir
		}
		if streams[i].Direction == "" {
			streams[i].Direction = "sendrecv"
		}
	}
	return streams, nil
}

func isDirection(a string) bool {
	switch a {
	case "sendrecv", "sendonly", "recvonly", "inactive":
		return true
	}
	return false
}

// parseMediaLine reads "audio 49170 RTP/AVP 0 8 101" (the port may carry a
// "/count" suffix).
func parseMediaLine(v string) (MediaStream, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return MediaStream{}, fmt.Errorf("%w: short m-line %q", errMalformedSDP, v)
	}
	portStr, _, _ := strings.Cut(f[1], "/")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return MediaStream{}, fmt.Errorf("%w: m-line port %q", errMalformedSDP, f[1])
	}
	ms := MediaStream{Kind: strings.ToLower(f[0]), Port: int(port), Proto: f[2]}
	for _, p := range f[3:] {
		n, err := strconv.ParseUint(p, 10, 7)
		if err != nil {
			continue // not an RTP payload type (e.g. m=application)
		}
		ms.Formats = append(ms.Formats, Format{PT: uint8(n), Channels: 1})
	}
	return ms, nil
}

// parseConnection reads "IN IP4 10.0.0.1" (a multicast "/ttl" is dropped).
// A host name gives ok == false.
func parseConnection(v string) (netip.Addr, bool) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return netip.Addr{}, false
	}
	host, _, _ := strings.Cut(f[2], "/")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseRtpmap reads "101 telephone-event/8000" or "96 opus/48000/2".
func parseRtpmap(v string) (Format, bool) {
	pt, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return Format{}, false
	}
	n, err := strconv.ParseUint(pt, 10, 7)
	if err != nil {
		return Format{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	f := Format{PT: uint8(n), Name: parts[0], Channels: 1}
	if len(parts) > 1 {
		f.Rate, _ = strconv.Atoi(parts[1])
	}
	if len(parts) > 2 {
		if c, err := strconv.Atoi(parts[2]); err == nil && c > 0 {
			f.Channels = c
		}
	}
	return f, f.Name != ""
}

// BuildAnswer writes the SDP answer to an offer: one m-line per offered
// m-line, in order and of the same kind and transport protocol. A
// MediaAnswer with Port 0 (or a missing one) rejects its line, which keeps
// the offered format list. An accepted line carries the chosen payload
// type, plus telephone-event when it was offered, a=recvonly (a=inactive
// when the offer was inactive or recvonly), the offered a=label and
// a=ptime, and, for an SRTP line (MediaStream.Secure), the answer's
// a=crypto line. An SRTP line whose MediaAnswer has no Crypto, or one
// whose tag and suite match no offered a=crypto line, is rejected like a
// Port 0 answer: an SRTP offer never gets a plaintext answer. addr goes
// into o= and c=.
func BuildAnswer(offer []MediaStream, answers []MediaAnswer, addr netip.Addr, sessID, version uint64) []byte {
	ipv, host := sdpAddr(addr)
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\n")
	fmt.Fprintf(&b, "o=callvault %d %d IN %s %s\r\n", sessID, version, ipv, host)
	fmt.Fprintf(&b, "s=callvault\r\n")
	fmt.Fprintf(&b, "c=IN %s %s\r\n", ipv, host)
	fmt.Fprintf(&b, "t=0 0\r\n")
	for i, m := range offer {
		var ans MediaAnswer
		if i < len(answers) {
			ans = answers[i]
		}
		if ans.Port <= 0 || ans.Port > 65535 || m.Secure() && !answersCrypto(m, ans.Crypto) {
			writeRejected(&b, m)
			continue
		}
		chosen, ok := findFormat(m.Formats, ans.PT)
		if !ok {
			chosen, ok = staticFormats[ans.PT]
			if !ok {
				chosen = Format{PT: ans.PT}
			}
		}
		fmts := []Format{chosen}
		if !strings.EqualFold(chosen.Name, "telephone-event") {
			if te, ok := findTelephoneEvent(m.Formats, chosen.Rate); ok {
				fmts = append(fmts, te)
			}
		}
		fmt.Fprintf(&b, "m=%s %d %s", m.Kind, ans.Port, m.Proto)
		for _, f := range fmts {
			fmt.Fprintf(&b, " %d", f.PT)
		}
		b.WriteString("\r\n")
		for _, f := range fmts {
			if f.Name != "" {
				fmt.Fprintf(&b, "a=rtpmap:%d %s/%d", f.PT, f.Name, f.Rate)
				if f.Channels > 1 {
					fmt.Fprintf(&b, "/%d", f.Channels)
				}
				b.WriteString("\r\n")
			}
			if f.Fmtp != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", f.PT, f.Fmtp)
			}
		}
		if m.Ptime > 0 {
			fmt.Fprintf(&b, "a=ptime:%d\r\n", m.Ptime)
		}
		if m.Secure() {
			fmt.Fprintf(&b, "a=crypto:%s\r\n", ans.Crypto.line())
		}
		if m.Label != "" {
			fmt.Fprintf(&b, "a=label:%s\r\n", m.Label)
		}
		if m.Direction == "inactive" || m.Direction == "recvonly" {
			b.WriteString("a=inactive\r\n")
		} else {
			b.WriteString("a=recvonly\r\n")
		}
	}
	return []byte(b.String())
}

// answersCrypto reports whether c can answer the SRTP line m: a key we
// can write, for an offered line of the same tag and suite (RFC 4568
// section 7.1.2).
func answersCrypto(m MediaStream, c *Crypto) bool {
	if c == nil || !c.valid() {
		return false
	}
	for _, o := range m.Crypto {
		if o.Tag == c.Tag && strings.EqualFold(o.Suite, c.Suite) {
			return true
		}
	}
	return false
}

func writeRejected(b *strings.Builder, m MediaStream) {
	fmt.Fprintf(b, "m=%s 0 %s", m.Kind, m.Proto)
	if len(m.Formats) == 0 {
		b.WriteString(" 0") // an m-line needs at least one format
	}
	for _, f := range m.Formats {
		fmt.Fprintf(b, " %d", f.PT)
	}
	b.WriteString("\r\n")
	if m.Label != "" {
		fmt.Fprintf(b, "a=label:%s\r\n", m.Label)
	}
}

func findFormat(fs []Format, pt uint8) (Format, bool) {
	for _, f := range fs {
		if f.PT == pt {
			return f, true
		}
	}
	return Format{}, false
}

// findTelephoneEvent returns the offered telephone-event format, preferring
// the one at the clock rate of the chosen codec.
func findTelephoneEvent(fs []Format, rate int) (Format, bool) {
	var found Format
	ok := false
	for _, f := range fs {
		if !strings.EqualFold(f.Name, "telephone-event") {
			continue
		}
		if f.Rate == rate {
			return f, true
		}
		if !ok {
			found, ok = f, true
		}
	}
	return found, ok
}

// sdpAddr gives addr as o= and c= lines name it: IP4 or IP6 and the
// address, 0.0.0.0 when there is none.
func sdpAddr(addr netip.Addr) (ipv, host string) {
	addr = addr.Unmap()
	ipv, host = "IP4", "0.0.0.0"
	if addr.Is6() {
		ipv = "IP6"
	}
	if addr.IsValid() {
		host = addr.String()
	}
	return ipv, host
}
