package invite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/netip"
	"strconv"
	"strings"
)

// Stream is one m-line of the recorder's answer: where to send a leg.
type Stream struct {
	Label string
	Addr  netip.Addr // the m-line's c=, else the session's
	Port  int        // 0: the recorder refused the stream
	Proto string     // RTP/AVP or RTP/SAVP
	PT    int        // the first payload type, -1 when none
}

// AnswerSDP returns the SDP of a response body: the body itself when it
// is application/sdp, its application/sdp part when it is multipart.
func AnswerSDP(contentType string, body []byte) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("answer: content type %q: %w", contentType, err)
	}
	if mt == "application/sdp" {
		return body, nil
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return nil, fmt.Errorf("answer: content type %q carries no SDP", mt)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("answer: no application/sdp part")
		}
		if err != nil {
			return nil, fmt.Errorf("answer: %w", err)
		}
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "application/sdp" {
			return io.ReadAll(p)
		}
	}
}

// ParseAnswer reads the m-lines of an SDP answer, in order.
func ParseAnswer(sdp []byte) ([]Stream, error) {
	var (
		out      []Stream
		sessAddr netip.Addr
		cur      *Stream
		haveAddr bool
	)
	finish := func() {
		if cur != nil {
			if !haveAddr {
				cur.Addr = sessAddr
			}
			out = append(out, *cur)
		}
	}
	for line := range strings.SplitSeq(string(sdp), "\n") {
		line = strings.TrimRight(line, "\r \t")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			finish()
			s, err := parseMLine(val)
			if err != nil {
				return nil, err
			}
			cur, haveAddr = &s, false
		case 'c':
			a, err := parseConnection(val)
			if err != nil {
				return nil, err
			}
			if cur == nil {
				sessAddr = a
			} else {
				cur.Addr, haveAddr = a, true
			}
		case 'a':
			if l, ok := strings.CutPrefix(val, "label:"); ok && cur != nil {
				cur.Label = l
			}
		}
	}
	finish()
	if len(out) == 0 {
		return nil, errors.New("answer: no m-line")
	}
	return out, nil
}

func parseMLine(val string) (Stream, error) {
	f := strings.Fields(val)
	if len(f) < 3 {
		return Stream{}, fmt.Errorf("answer: m-line %q", val)
	}
	port, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
	if err != nil || port < 0 || port > 65535 {
		return Stream{}, fmt.Errorf("answer: m-line %q: bad port", val)
	}
	s := Stream{Port: port, Proto: f[2], PT: -1}
	if len(f) > 3 {
		if pt, err := strconv.Atoi(f[3]); err == nil {
			s.PT = pt
		}
	}
	return s, nil
}

func parseConnection(val string) (netip.Addr, error) {
	f := strings.Fields(val)
	if len(f) != 3 {
		return netip.Addr{}, fmt.Errorf("answer: c-line %q", val)
	}
	a, err := netip.ParseAddr(strings.SplitN(f[2], "/", 2)[0])
	if err != nil {
		return netip.Addr{}, fmt.Errorf("answer: c-line %q: %w", val, err)
	}
	return a, nil
}

// Legs matches the answer to the offer's two legs, by label where the
// answer repeats them, else by order, and returns where each goes. It
// fails when a leg was refused (port 0) or the answer lacks it, or when
// an SRTP offer got a plain answer.
func Legs(answer []Stream, srtp bool) ([2]Stream, error) {
	var legs [2]Stream
	for i := range legs {
		label := strconv.Itoa(i + 1)
		found := false
		for _, s := range answer {
			if s.Label == label {
				legs[i], found = s, true
				break
			}
		}
		if !found && i < len(answer) {
			legs[i], found = answer[i], true
		}
		switch {
		case !found:
			return legs, fmt.Errorf("answer: no stream for leg %d", i+1)
		case legs[i].Port == 0:
			return legs, fmt.Errorf("answer: leg %d refused (port 0)", i+1)
		case !legs[i].Addr.IsValid():
			return legs, fmt.Errorf("answer: leg %d has no address", i+1)
		case srtp && !strings.Contains(legs[i].Proto, "SAVP"):
			return legs, fmt.Errorf("answer: leg %d answered %s to an SRTP offer", i+1, legs[i].Proto)
		}
	}
	return legs, nil
}
