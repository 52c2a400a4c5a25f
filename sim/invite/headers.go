package invite

import "time"

// Header is one SIP header field.
type Header struct{ Name, Value string }

// maxTimerCall is the longest call that is offered a session timer: a
// longer one would have to refresh it, which the simulator does not.
const maxTimerCall = 15 * time.Minute

// Headers returns the header fields CUBE adds to a SIPREC INVITE besides
// those every request has (Via, From, To, Call-ID, CSeq, Contact,
// Max-Forwards, Content-Type and -Length). A call of duration gets a
// session timer (Session-Expires: 1800) when it is short enough not to
// need a refresh.
func (o Offer) Headers(duration time.Duration) []Header {
	h := []Header{
		{"Supported", "100rel,timer,resource-priority,replaces,sdp-anat"},
		{"Require", "siprec"},
		{"Cisco-Guid", o.CiscoGUID()},
		{"User-Agent", "Cisco-SIPGateway/IOS-17.9.4a callvault-sim"},
		{"Allow", "INVITE, OPTIONS, BYE, CANCEL, ACK, PRACK, UPDATE, REFER, SUBSCRIBE, NOTIFY, INFO, REGISTER"},
		{"Allow-Events", "telephone-event"},
		{"Expires", "180"},
		{"Session-ID", o.SessionID()},
		{"Mime-Version", "1.0"},
	}
	if duration < maxTimerCall {
		h = append(h, Header{"Min-SE", "1800"}, Header{"Session-Expires", "1800"})
	}
	return h
}
