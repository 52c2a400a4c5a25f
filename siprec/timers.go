package siprec

import "time"

// The RFC 3261 values of T1 and T2 (section 17.1.1.1): an estimate of the
// round-trip time and the longest interval between retransmissions.
const (
	rfcT1 = 500 * time.Millisecond
	rfcT2 = 4 * time.Second
)

// Timers are the intervals of the timers a Server runs in its dialogs
// itself: the retransmission of a 2xx to an INVITE over UDP, the wait for
// that 2xx's ACK, and the session timer (RFC 4028). A Server reads them
// from its Config each time it arms one of these timers. The zero value,
// and every zero field, stands for the RFC's value; tests set them short
// so that a 32 s ACK wait or a 30 min session pass in milliseconds.
//
// The timers of the transactions themselves (the retransmission of our
// BYE over UDP and its Timer F, the non-2xx answers to INVITE) are
// sipgo's, which keeps the RFC values.
type Timers struct {
	// T1 is the first interval between retransmissions of a 2xx to an
	// INVITE over UDP, doubled after each one (RFC 3261 13.3.1.4);
	// 0 means 500 ms.
	T1 time.Duration
	// T2 caps that interval; 0 means 4 s.
	T2 time.Duration
	// AckWait is how long a 2xx to an INVITE waits for its ACK before the
	// session, for an initial INVITE, is ended with a BYE (Reason 408,
	// Recorder.End reason "ack_timeout"); it is also how long a BYE of ours
	// waits for the ACK of an unconfirmed dialog. 0 means 64*T1.
	AckWait time.Duration
	// SessionWait is how long a session whose negotiated interval is the
	// argument lasts without a refresh before it is ended with a BYE
	// (Reason 408, Recorder.End reason "session_expired"). nil means the
	// interval plus min(32 s, interval/3); see sessionWait.
	SessionWait func(interval time.Duration) time.Duration
}

// resolved returns t with every zero field replaced by its RFC value.
func (t Timers) resolved() Timers {
	if t.T1 <= 0 {
		t.T1 = rfcT1
	}
	if t.T2 <= 0 {
		t.T2 = max(rfcT2, t.T1)
	}
	if t.AckWait <= 0 {
		t.AckWait = 64 * t.T1
	}
	if t.SessionWait == nil {
		t.SessionWait = sessionWait
	}
	return t
}

// nextRetransmit is the interval before the retransmission of a 2xx that
// follows one sent prev after the last: twice prev, at most t2 (RFC 3261
// 13.3.1.4).
func nextRetransmit(prev, t2 time.Duration) time.Duration {
	return min(2*prev, t2)
}

// sessionWait is how long a session with the negotiated interval lasts
// without a refresh: the interval plus min(32 s, interval/3). RFC 4028
// section 10 has the side that does not refresh send its BYE that much
// before the interval ends; a recorder gives a late refresher that much
// grace instead, so as not to cut a call that is still going.
func sessionWait(interval time.Duration) time.Duration {
	return interval + min(32*time.Second, interval/3)
}

// timers returns the dialog timers in force for s: its Config's, with the
// RFC's in place of zero fields.
func (s *Server) timers() Timers { return s.cfg.Timers.resolved() }
