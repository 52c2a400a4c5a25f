package siprec

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Recorder is what the SIP side needs from the rest of callvault. The
// daemon implements it; siprec never sees media, files or the index.
//
// Admit is called once for a new recording session (an initial INVITE that
// parsed cleanly). It returns one MediaAnswer per offered m-line, in the
// order of Session.Media. A *StatusError maps to its SIP status and reason;
// any other error becomes 500.
//
// Update is called when a re-INVITE or UPDATE changes the session (new
// metadata, new SDP). It returns the answers for the new offer, like Admit.
// When the request carried no SDP, Session.Media is unchanged and the
// returned answers are ignored.
//
// End is called exactly once per admitted session: on BYE, on CANCEL of an
// unanswered INVITE, when the dialog times out, or when the server stops.
// The session passed is the last known state (a BYE may carry final
// metadata with end and disassociate times).
type Recorder interface {
	Admit(ctx context.Context, s *Session) ([]MediaAnswer, error)
	Update(ctx context.Context, s *Session) ([]MediaAnswer, error)
	End(s *Session, reason string)
}

// MediaAnswer is the recorder's answer for one offered m-line.
type MediaAnswer struct {
	// Port is the local RTP port; 0 rejects the stream (port 0 in the answer).
	Port int
	// PT is the payload type chosen from the offered formats.
	PT uint8
	// Crypto is our SDES key for an SRTP stream (MediaStream.Secure): its
	// tag and suite are those of the offered a=crypto line accepted, its
	// key is ours (BuildAnswer writes it in the answer's a=crypto line;
	// the client's key, to decrypt with, is that offered line's). An SRTP
	// stream answered without one, or with one naming no offered line, is
	// rejected: an SRTP offer never gets a plaintext answer. Ignored for a
	// stream that is not SRTP.
	Crypto *Crypto
}

// Session is the model of one recording session (RFC 7866 RS): the SIP
// dialog with the recording client plus the recorded communication session
// described by the SDP and the RFC 7865 metadata.
type Session struct {
	// CallID is the SIP Call-ID of the recording session.
	CallID string
	// Source is the address of the recording client (SRC) that sent the INVITE.
	Source netip.AddrPort
	// Transport is "UDP", "TCP" or "TLS".
	Transport string
	// From and To are the URIs of the From and To headers of the INVITE.
	From, To string
	// Started is when the initial INVITE was received.
	Started time.Time
	// Media lists the offered m-lines in SDP order.
	Media []MediaStream
	// Metadata is nil until an RFC 7865 document has been received.
	Metadata *Metadata
}

// MediaStream is one m-line of the SRC's offer.
type MediaStream struct {
	Index     int        // position of the m-line in the SDP, from 0
	Kind      string     // "audio", "video", ...
	Label     string     // a=label value, "" when absent
	Addr      netip.Addr // connection address (media-level c= or session-level)
	Port      int        // 0 when the SRC disabled the stream
	Proto     string     // "RTP/AVP", "RTP/SAVP", ...
	Direction string     // "sendonly", "sendrecv", "inactive", ... (default "sendrecv")
	Formats   []Format   // offered payload formats, in preference order
	Ptime     int        // a=ptime in milliseconds, 0 when absent
	// Crypto lists the offered a=crypto lines (SDES keys, RFC 4568) in
	// order. A line that does not parse, or asks for session parameters
	// callvault does not implement, is left out; suites are listed whether
	// or not callvault can decrypt them.
	Crypto []Crypto
}

// Secure reports whether the stream is SRTP: its transport protocol is a
// secure RTP profile (RTP/SAVP, RTP/SAVPF).
func (m MediaStream) Secure() bool {
	return strings.Contains(strings.ToUpper(m.Proto), "SAVP")
}

// Format is one offered RTP payload format.
type Format struct {
	PT       uint8
	Name     string // encoding name as offered, e.g. "PCMU", "telephone-event"
	Rate     int    // clock rate
	Channels int    // 1 unless given
	Fmtp     string // a=fmtp parameters, "" when absent
}

// Metadata is the recording metadata of RFC 7865, reduced to what a recorder
// uses. Participants and streams keep document order.
type Metadata struct {
	SessionID    string // the communication session's id (session_id / sipSessionID)
	Start        time.Time
	End          time.Time
	Participants []Participant
	Streams      []StreamInfo
	// Partial is true for a document with datamode "partial": it carries
	// only changes and is merged into the known state (see Merge).
	Partial bool
}

// Participant is one party of the recorded call.
type Participant struct {
	ID            string   // participant_id (or id= in the older draft schema)
	AOR           string   // nameID aor, e.g. "sip:2501@10.0.0.1" or "tel:+15558201"
	Name          string   // display name, "" when absent
	Send          []string // labels of the streams this participant sends
	Recv          []string // labels of the streams this participant receives
	Associated    time.Time
	Disassociated time.Time
}

// StreamInfo ties a metadata stream id to its SDP label.
type StreamInfo struct {
	ID    string
	Label string
}

// User returns the user part of the participant's AOR: "2501" for
// "sip:2501@10.0.0.1;user=phone", "+15558201" for "tel:+15558201".
func (p Participant) User() string {
	a := strings.TrimSpace(p.AOR)
	a = strings.TrimPrefix(strings.TrimSuffix(a, ">"), "<")
	if i := strings.IndexByte(a, ':'); i >= 0 {
		switch strings.ToLower(a[:i]) {
		case "sip", "sips", "tel":
			a = a[i+1:]
		}
	}
	if i := strings.IndexAny(a, "@;?"); i >= 0 {
		a = a[:i]
	}
	return a
}

// StatusError is an error with the SIP status the client should get.
type StatusError struct {
	Code   int
	Reason string // short phrase for the Reason/Warning header
}

func (e *StatusError) Error() string { return fmt.Sprintf("sip %d: %s", e.Code, e.Reason) }

// Errorf returns a *StatusError with a formatted reason.
func Errorf(code int, format string, args ...any) *StatusError {
	return &StatusError{Code: code, Reason: fmt.Sprintf(format, args...)}
}
