package siprec

import (
	"bytes"
	"errors"
	"fmt"
)

// A SIP stream (TCP or TLS) carries messages back to back: a start line
// and header lines up to an empty line, then as many body bytes as the
// Content-Length header says (RFC 3261 sections 7.5 and 18.3). Between
// messages a peer may send CRLF keep-alives (RFC 5626 section 3.5.1: a
// double CRLF ping, a single CRLF pong).
//
// The framer follows those boundaries from the bytes alone, so that the
// stream connection can bound each phase in time. It is a pure state
// machine: no clock and no I/O, and it keeps no copy of the header, only
// a few counters, so it neither grows with the message nor allocates per
// byte.

// framePhase is where a stream is between or within messages.
type framePhase uint8

const (
	frameIdle   framePhase = iota // between messages (CRLF keep-alives included)
	frameHeader                   // a message's start line and headers, up to the empty line
	frameBody                     // its Content-Length bytes of body
)

func (p framePhase) String() string {
	switch p {
	case frameIdle:
		return "idle"
	case frameHeader:
		return "header"
	case frameBody:
		return "body"
	}
	return fmt.Sprintf("framePhase(%d)", uint8(p))
}

const (
	// defaultMaxHeaderBytes bounds a header section when StreamLimits does
	// not say.
	defaultMaxHeaderBytes = 64 << 10
	// maxBodyBytes is the largest Content-Length a stream may announce.
	maxBodyBytes = 16 << 20
)

// The errors that stop the framing of a stream, besides an oversized
// header section.
var (
	errLengthUnreadable = errors.New("Content-Length unreadable")
	errLengthNegative   = errors.New("negative Content-Length")
	errLengthTooLarge   = fmt.Errorf("Content-Length over %d bytes", maxBodyBytes)
)

// headerLine is where the framer is within a line of the header section.
type headerLine uint8

const (
	lineStart   headerLine = iota // at a line's first byte: a header, a folded continuation or the empty line
	lineStartCR                   // after a CR opening a line: the empty line if LF follows
	lineName                      // in a header name
	lineColon                     // in white space between a name and its colon
	lineLength                    // in a Content-Length value
	lineSkip                      // in a line the framer does not read (the start line, other headers)
)

// contentLength is the long name of the header whose value frames the
// body; its compact form is "l".
const contentLength = "content-length"

// framer tracks message boundaries in a SIP byte stream. The zero value
// is not ready: use newFramer.
type framer struct {
	maxHeader int

	phase  framePhase
	starts uint64 // messages whose first byte has been seen
	err    error  // why the stream cannot be framed; sticky

	// Within the header section.
	line     headerLine
	size     int  // header bytes so far, the message's first byte included
	name     int  // bytes of the current header name
	nameLong bool // the name so far is a prefix of "content-length"
	nameL    bool // the name so far is "l"
	inLength bool // reading a Content-Length value (which a folded line may continue)
	digits   int  // digits of that value so far
	value    int
	spaced   bool // white space followed the digits
	haveLen  bool // a Content-Length header has been read
	length   int  // its value

	// Within the body.
	left int // body bytes still to come
}

// newFramer returns a framer for a stream whose header sections may hold
// up to maxHeader bytes (defaultMaxHeaderBytes when maxHeader <= 0).
func newFramer(maxHeader int) framer {
	if maxHeader <= 0 {
		maxHeader = defaultMaxHeaderBytes
	}
	return framer{maxHeader: maxHeader}
}

// feed consumes bytes from p up to the end of the first message that ends
// in it, or all of p. It returns how many bytes it consumed and whether a
// message ended with the last of them. Once the stream cannot be framed
// (f.err is set) feed consumes the offending byte and no more. Otherwise
// it consumes at least one byte of a non-empty p, so calling it until p
// is used up or f.err is set always ends.
func (f *framer) feed(p []byte) (n int, done bool) {
	if f.err != nil {
		return 0, false
	}
	for n < len(p) {
		switch f.phase {
		case frameIdle:
			if c := p[n]; c == '\r' || c == '\n' {
				n++ // a keep-alive, or the CRLF RFC 3261 lets precede a start line
				continue
			}
			f.begin()
		case frameHeader:
			if f.line == lineSkip && f.size < f.maxHeader {
				// Most header bytes are in lines the framer does not
				// read: go to the line's end in one step.
				rest := p[n:min(len(p), n+f.maxHeader-f.size)]
				k := len(rest)
				if i := bytes.IndexByte(rest, '\n'); i >= 0 {
					k = i + 1
					f.line = lineStart
				}
				n += k
				f.size += k
				continue
			}
			c := p[n]
			n++
			if f.size++; f.size > f.maxHeader {
				f.err = fmt.Errorf("header section over %d bytes", f.maxHeader)
				return n, false
			}
			end := f.headerByte(c)
			if f.err != nil {
				return n, false
			}
			if end {
				if f.length == 0 {
					f.phase = frameIdle
					return n, true
				}
				f.phase, f.left = frameBody, f.length
			}
		case frameBody:
			k := min(f.left, len(p)-n)
			n += k
			if f.left -= k; f.left == 0 {
				f.phase = frameIdle
				return n, true
			}
		}
	}
	return n, false
}

// begin starts a message at its first byte, which is part of its start
// line.
func (f *framer) begin() {
	f.phase = frameHeader
	f.starts++
	f.line = lineSkip
	f.size = 0
	f.inLength = false
	f.haveLen = false
	f.length = 0
}

// headerByte takes one byte of the header section and reports whether it
// ended the section. It sets f.err when a Content-Length is unreadable.
func (f *framer) headerByte(c byte) (end bool) {
	switch f.line {
	case lineStart:
		switch c {
		case '\n': // a bare LF empty line
			f.endField()
			return true
		case '\r':
			f.line = lineStartCR
			return false
		case ' ', '\t': // folded: the previous header goes on
			if f.inLength {
				f.line = lineLength
			} else {
				f.line = lineSkip
			}
			return false
		}
		if f.endField(); f.err != nil {
			return false
		}
		f.line, f.name, f.nameLong, f.nameL = lineName, 0, true, true
		f.nameByte(c)
	case lineStartCR:
		if c == '\n' {
			f.endField()
			return true
		}
		// A CR that does not end the section opens a line no parser
		// reads; it is not part of a folded value either.
		if f.endField(); f.err != nil {
			return false
		}
		f.line = lineSkip
		f.skipByte(c)
	case lineName:
		switch c {
		case ':':
			f.colon()
		case ' ', '\t':
			f.line = lineColon
		case '\n':
			f.line = lineStart
		case '\r':
			f.line = lineSkip
		default:
			f.nameByte(c)
		}
	case lineColon:
		switch c {
		case ':':
			f.colon()
		case ' ', '\t':
		case '\n':
			f.line = lineStart
		default:
			f.line = lineSkip
		}
	case lineLength:
		f.lengthByte(c)
	case lineSkip:
		f.skipByte(c)
	}
	return false
}

func (f *framer) skipByte(c byte) {
	if c == '\n' {
		f.line = lineStart
	}
}

// nameByte matches one byte of a header name against "content-length"
// and "l", case-insensitively.
func (f *framer) nameByte(c byte) {
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	f.nameLong = f.nameLong && f.name < len(contentLength) && c == contentLength[f.name]
	f.nameL = f.nameL && f.name == 0 && c == 'l'
	f.name++
}

// colon ends a header name.
func (f *framer) colon() {
	if (f.nameLong && f.name == len(contentLength)) || (f.nameL && f.name == 1) {
		f.line, f.inLength = lineLength, true
		f.digits, f.value, f.spaced = 0, 0, false
		return
	}
	f.line = lineSkip
}

// lengthByte takes one byte of a Content-Length value: white space, then
// decimal digits, then white space.
func (f *framer) lengthByte(c byte) {
	switch {
	case c == '\n':
		f.line = lineStart // the value may go on in a folded line
	case c == ' ' || c == '\t' || c == '\r':
		f.spaced = f.digits > 0
	case '0' <= c && c <= '9' && !f.spaced:
		f.digits++
		f.value = f.value*10 + int(c-'0')
		if f.value > maxBodyBytes {
			f.err = errLengthTooLarge
		}
	case c == '-' && f.digits == 0:
		f.err = errLengthNegative
	default:
		f.err = errLengthUnreadable
	}
}

// endField closes the header before a new line (or the end of the
// section): a Content-Length value is complete there.
func (f *framer) endField() {
	if !f.inLength {
		return
	}
	f.inLength = false
	switch {
	case f.digits == 0:
		f.err = errLengthUnreadable
	case f.haveLen && f.length != f.value:
		f.err = fmt.Errorf("conflicting Content-Length headers (%d and %d)", f.length, f.value)
	default:
		f.haveLen, f.length = true, f.value
	}
}
