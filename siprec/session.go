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
	// Metadata is nil until an RFC 7865 document has been received. For
	// a Cisco UCM recording call it is made from the From header's
	// parameters (UCMHalf.Metadata).
	Metadata *Metadata
	// UCM is set when the session is one of the two recording calls of
	// Cisco UCM (see ParseUCM), not SIPREC: its streams are labelled by
	// its role (UCMNear, UCMFar).
	UCM *UCMHalf
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
	// OurOffer marks a stream the client did not offer: callvault offers
	// it in its 2xx to an INVITE without SDP (a UCM trunk's delayed
	// offer). Its formats are those callvault takes; which one the client
	// sends, and from where, comes with its answer in the ACK, as an
	// Update.
	OurOffer bool `json:",omitempty"`
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
	// Caller is the calling party's AOR or number where the client's own
	// call data says who called (Oracle/Acme apkt:callingParty on a
	// participant, Ribbon callData fromhdr, BroadWorks callType's
	// callingPartyNumber, Metaswitch callType "originating" with its
	// recordedParty); "" when it does not say, and the first participant
	// is taken for the caller.
	Caller string
	// Recorded is the party the client records for, where it names one
	// (Metaswitch recordedParty, BroadWorks userID): the call's owner when
	// it is a user.
	Recorded string
	// OnlyRecorded: the call belongs to Recorded or to no one, whatever
	// the other participants are (Cisco UCM records one line: its near
	// end).
	OnlyRecorded bool `json:",omitempty"`
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

// User returns the participant's number, the key the daemon looks users up
// by: the user part of its AOR when that names a number, "2501" for
// "sip:2501@10.0.0.1;user=phone", "+15558201" for "tel:+15558201" or
// <sip:+15558201@gw>. An AOR written without a scheme is read the same way
// ("Extension-016190619@host"); a user part that is a phone number gives its
// "+" and digits ("+1-555-123-0001" gives "+15551230001"), one that mixes
// in letters its longest run of digits ("016190619"). A user
// part without a digit is a placeholder, not a number (an SBC's name as in
// "sip:ASBCE@10.0.0.1", a host-only URI): the number in the display name is
// taken instead ("Agent 2501" gives "2501"), and "" when there is none.
func (p Participant) User() string {
	if n := numberOf(p.AOR); n != "" {
		return n
	}
	return numberIn(strings.Trim(strings.TrimSpace(p.Name), `"`))
}

// numberOf returns the number an AOR names, "" when it names none. It reads
// name-addr forms too (`"Alice" <sip:2501@host>`).
func numberOf(aor string) string {
	a := strings.TrimSpace(aor)
	if i := strings.LastIndexByte(a, '<'); i >= 0 {
		a = a[i+1:]
		if j := strings.IndexByte(a, '>'); j >= 0 {
			a = a[:j]
		}
	}
	if i := strings.IndexByte(a, ':'); i >= 0 {
		switch strings.ToLower(a[:i]) {
		case "sip", "sips", "tel":
			a = a[i+1:]
		}
	}
	at := strings.IndexByte(a, '@')
	if i := strings.IndexAny(a, ";?"); i >= 0 && (at < 0 || i < at) {
		a, at = a[:i], -1 // tel:+1555;phone-context=... or a user without host
	}
	if at >= 0 {
		a = a[:at]
	} else if isHost(a) {
		return "" // sip:10.10.1.20 names a host, not a user
	}
	return numberIn(a)
}

// isHost reports whether s, a URI without a user part, is an IP address
// (with or without a port).
func isHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParseAddrPort(s)
	return err == nil
}

// numberIn returns the number s names. A phone number (an optional "+",
// digits and the visual separators of RFC 3966 "-.()" or spaces, at least
// one digit) gives its "+" and digits, separators dropped: "+1 (408)
// 555-0199" gives "+14085550199". Anything else gives its longest run of
// digits (the first of equal runs), "" when it has no digit.
func numberIn(s string) string {
	digits, phone := 0, s != ""
	bestAt, bestLen, runAt := 0, 0, -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			digits++
			if runAt < 0 {
				runAt = i
			}
			continue
		}
		if runAt >= 0 && i-runAt > bestLen {
			bestAt, bestLen = runAt, i-runAt
		}
		runAt = -1
		if i < len(s) && !(s[i] == '+' && i == 0) && !isVisualSeparator(s[i]) {
			phone = false
		}
	}
	switch {
	case digits == 0:
		return ""
	case !phone:
		return s[bestAt : bestAt+bestLen]
	case digits == len(s) || digits == len(s)-1 && s[0] == '+':
		return s
	}
	out := make([]byte, 0, digits+1)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' || c == '+' {
			out = append(out, c)
		}
	}
	return string(out)
}

func isVisualSeparator(c byte) bool {
	return c == '-' || c == '.' || c == '(' || c == ')' || c == ' '
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
