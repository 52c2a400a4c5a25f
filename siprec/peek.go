package siprec

import (
	"bytes"
	"strings"
)

// requestInfo is what the UDP edge reads of a request before sipgo sees
// it.
type requestInfo struct {
	method string // "" for a response or a keep-alive
	branch string // the top Via's branch
	toTag  bool   // To has a tag: a request within a dialog
}

// peekRequest reads a datagram's request line, top Via branch and To tag
// without parsing the message. It is lenient (LF line ends, compact
// names): the datagram already passed checkDatagram.
func peekRequest(data []byte) requestInfo {
	var info requestInfo
	if bytes.HasPrefix(data, []byte("SIP/")) {
		return info
	}
	head := data[:headerLen(data)]
	first := true
	viaSeen := false
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimRight(line, "\r")
		if first {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			first = false
			if f := bytes.Fields(line); len(f) == 3 {
				info.method = strings.ToUpper(string(f[0]))
			}
			continue
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		switch {
		case !viaSeen && isHeader(name, "via", "v"):
			viaSeen = true
			info.branch = headerParam(topValue(val), "branch")
		case isHeader(name, "to", "t"):
			info.toTag = headerParam(val, "tag") != ""
		}
	}
	return info
}

// topValue is the first value of a header line that may hold several,
// comma-separated.
func topValue(val []byte) []byte {
	if i := bytes.IndexByte(val, ','); i >= 0 {
		return val[:i]
	}
	return val
}

// headerParam returns the value of the parameter name in a header value's
// ;-separated parameters ("" when absent or empty).
func headerParam(val []byte, name string) string {
	params := bytes.Split(val, []byte(";"))
	for _, p := range params[1:] {
		k, v, _ := bytes.Cut(p, []byte("="))
		if bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// forceRport marks the top Via of the request in b[:n] with an empty
// rport parameter (RFC 3581) and drops any rport value it had, so that
// sipgo sends responses to the address and port the request came from.
// It returns the new length; b is left as it was when the request has no
// Via or the result would not fit in b.
func forceRport(b []byte, n int) int {
	data := b[:n]
	end := headerLen(data)
	off := 0
	for off < end {
		nl := bytes.IndexByte(data[off:end], '\n')
		if nl < 0 {
			return n
		}
		line := data[off : off+nl]
		if off > 0 {
			if name, _, ok := bytes.Cut(line, []byte(":")); ok && isHeader(bytes.TrimSpace(name), "via", "v") {
				return rewriteVia(b, n, off+len(name)+1, off+len(bytes.TrimRight(line, "\r")))
			}
		}
		off += nl + 1
	}
	return n
}

// rewriteVia rewrites the first value of the Via line whose value spans
// b[from:to].
func rewriteVia(b []byte, n, from, to int) int {
	val := b[from:to]
	first := topValue(val)
	params := bytes.Split(first, []byte(";"))
	var out []byte
	out = append(out, params[0]...)
	for _, p := range params[1:] {
		k, _, _ := bytes.Cut(p, []byte("="))
		if bytes.EqualFold(bytes.TrimSpace(k), []byte("rport")) {
			continue
		}
		out = append(out, ';')
		out = append(out, p...)
	}
	out = append(out, ";rport"...)
	if bytes.Equal(out, first) {
		return n
	}
	grow := len(out) - len(first)
	if n+grow > len(b) {
		return n
	}
	tail := append([]byte(nil), b[from+len(first):n]...)
	copy(b[from:], out)
	copy(b[from+len(out):], tail)
	return n + grow
}
