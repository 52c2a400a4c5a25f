package siprec

import (
	"bytes"

	"github.com/emiago/sipgo/sip"
)

// streamMessages stands between a TCP or TLS connection and sipgo's
// stream parser. It withholds the bytes of each message until the message
// is whole, checks it with sipgo's own parser, and queues for sipgo only
// sound messages and the keep-alives between them, each as a read of its
// own. sipgo, given a message it cannot parse (a Route whose port is not
// a number), closes the connection without a word and the gateway waits
// out its timer; a message this rejects gets a 400 instead (see
// streamConn) and the connection goes on. It is pure: no I/O, no clock.
type streamMessages struct {
	fr      *framer
	parser  *sip.Parser
	pending []byte   // the message being read
	units   [][]byte // what sipgo is to read, in order
	cur     []byte   // the rest of the unit being read
}

// rejected is a whole message sipgo's parser refused, or a request unfit
// to serve (judgeMessage).
type rejected struct {
	msg     []byte
	refusal Refusal
}

// take consumes bytes read from the connection. It returns the whole
// messages that failed the check, and why the stream cannot be framed
// any further ("" while it can).
func (m *streamMessages) take(p []byte) (bad []rejected, framing string) {
	for len(p) > 0 {
		idle := m.fr.phase == frameIdle
		k, done := m.fr.feed(p)
		if m.fr.err != nil {
			return bad, m.fr.err.Error()
		}
		chunk := p[:k]
		p = p[k:]
		if len(m.pending) == 0 && idle {
			// CR and LF before a message are keep-alives (RFC 5626): sipgo
			// answers a double CRLF; hand them on by themselves.
			i := 0
			for i < len(chunk) && (chunk[i] == '\r' || chunk[i] == '\n') {
				i++
			}
			if i > 0 {
				m.units = append(m.units, bytes.Clone(chunk[:i]))
				chunk = chunk[i:]
			}
		}
		m.pending = append(m.pending, chunk...)
		if !done {
			continue
		}
		msg := m.pending
		m.pending = nil
		if r, _ := judgeMessage(m.parser, msg); r.Code != 0 {
			bad = append(bad, rejected{msg: msg, refusal: r})
			continue
		}
		m.units = append(m.units, msg)
	}
	return bad, ""
}

// next copies the next queued bytes into b, never more than one unit,
// and returns how many; 0 when nothing is queued.
func (m *streamMessages) next(b []byte) int {
	if len(m.cur) == 0 {
		if len(m.units) == 0 {
			return 0
		}
		m.cur = m.units[0]
		m.units[0] = nil
		m.units = m.units[1:]
	}
	n := copy(b, m.cur)
	m.cur = m.cur[n:]
	return n
}

// queued reports whether bytes wait for sipgo.
func (m *streamMessages) queued() bool { return len(m.cur) > 0 || len(m.units) > 0 }
