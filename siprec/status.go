package siprec

import (
	"fmt"
	"strings"
)

// Refusal is one reason a request is refused: the SIP status and the text
// of the Warning (code 399) and Reason headers that say why. A text with
// %s, %d or %g is a pattern the specifics fill in. Every refusal callvault
// sends is listed in Refusals and, the same, in the README's status table.
type Refusal struct {
	Code int
	Text string
}

// Err is the refusal as an error, with a pattern's specifics filled in:
// what a Recorder returns to refuse a session.
func (r Refusal) Err(args ...any) *StatusError {
	return &StatusError{Code: r.Code, Reason: fmt.Sprintf(r.Text, args...)}
}

// With fills a pattern's specifics.
func (r Refusal) With(args ...any) Refusal {
	return Refusal{Code: r.Code, Text: fmt.Sprintf(r.Text, args...)}
}

// Refusals of the SIP server itself. The recorder's (codec, storage,
// ports, policy) are its own, given as *StatusError.
var (
	RefuseMalformed      = Refusal{400, "malformed message: %s"}
	RefuseContentLength  = Refusal{400, "Content-Length %d exceeds the %d body bytes in the datagram"}
	RefuseBody           = Refusal{400, "malformed body: %s"}
	RefuseSDP            = Refusal{400, "malformed sdp: %s"}
	RefuseMetadata       = Refusal{400, "malformed recording metadata: %s"}
	RefuseCSeqMethod     = Refusal{400, "CSeq method %s does not match the request's %s"}
	RefuseSource         = Refusal{403, "source not allowed"}
	RefuseContentType    = Refusal{415, "unsupported content type: %s"}
	RefuseScheme         = Refusal{416, "unsupported URI scheme %s"}
	RefuseExtension      = Refusal{420, "unsupported extension"}
	RefuseInterval       = Refusal{422, "session interval too small"}
	RefuseSessionEnded   = Refusal{481, "session ended"}
	RefuseNoDialog       = Refusal{481, "no such dialog"}
	RefuseNotSiprec      = Refusal{488, "not a SIPREC offer"}
	RefuseNoSDP          = Refusal{488, "no SDP offer"}
	RefuseNoAudio        = Refusal{488, "no audio stream offered"}
	RefuseCSeq           = Refusal{500, "CSeq out of order"}
	RefuseInternal       = Refusal{500, "internal error"}
	RefuseDraining       = Refusal{503, "server draining"}
	RefuseStopping       = Refusal{503, "server stopping"}
	RefuseSessions       = Refusal{503, "too many live sessions (%d)"}
	RefuseRate           = Refusal{503, "source over its session rate"}
	RefuseCPS            = Refusal{503, "recorder over its call rate (%g calls/s)"}
	RefuseVersion        = Refusal{505, "SIP version %s not supported"}
	refusalsOfThisServer = []Refusal{
		RefuseMalformed, RefuseContentLength, RefuseBody, RefuseSDP, RefuseMetadata, RefuseCSeqMethod,
		RefuseSource, RefuseContentType, RefuseScheme, RefuseExtension, RefuseInterval,
		RefuseSessionEnded, RefuseNoDialog, RefuseNotSiprec, RefuseNoSDP, RefuseNoAudio,
		RefuseCSeq, RefuseInternal, RefuseDraining, RefuseStopping, RefuseSessions, RefuseRate,
		RefuseCPS, RefuseVersion,
	}
)

// Refusals returns the SIP server's refusals, in the order of the README's
// table.
func Refusals() []Refusal { return append([]Refusal(nil), refusalsOfThisServer...) }

// TableRow is the refusal as a row of the README's status table:
// "| 503 Service Unavailable | server draining |", with … for a pattern's
// specifics.
func (r Refusal) TableRow() string {
	text := r.Text
	for _, verb := range []string{"%s", "%d", "%g"} {
		text = strings.ReplaceAll(text, verb, "…")
	}
	return "| " + itoa(r.Code) + " " + Phrase(r.Code) + " | " + text + " |"
}

// phrases are the reason phrases of the SIP status codes (RFC 3261 21 and
// the extensions that define the others), never HTTP's.
var phrases = map[int]string{
	100: "Trying",
	180: "Ringing",
	183: "Session Progress",
	200: "OK",
	202: "Accepted",
	400: "Bad Request",
	401: "Unauthorized",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	406: "Not Acceptable",
	408: "Request Timeout",
	410: "Gone",
	413: "Request Entity Too Large",
	414: "Request-URI Too Long",
	415: "Unsupported Media Type",
	416: "Unsupported URI Scheme",
	420: "Bad Extension",
	421: "Extension Required",
	422: "Session Interval Too Small",
	423: "Interval Too Brief",
	480: "Temporarily Unavailable",
	481: "Call/Transaction Does Not Exist",
	482: "Loop Detected",
	483: "Too Many Hops",
	486: "Busy Here",
	487: "Request Terminated",
	488: "Not Acceptable Here",
	491: "Request Pending",
	500: "Server Internal Error",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Server Time-out",
	505: "Version Not Supported",
	513: "Message Too Large",
	580: "Precondition Failure",
	600: "Busy Everywhere",
	603: "Decline",
	604: "Does Not Exist Anywhere",
	606: "Not Acceptable",
}

// Phrase returns the SIP reason phrase of a status code; a code without
// its own phrase gets its class's.
func Phrase(code int) string {
	if p, ok := phrases[code]; ok {
		return p
	}
	switch {
	case code >= 600:
		return "Global Failure"
	case code >= 500:
		return "Server Error"
	case code >= 400:
		return "Request Failed"
	case code >= 300:
		return "Redirection"
	case code >= 200:
		return "OK"
	}
	return "Provisional"
}
