package siprec

import (
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// dialog is one recording session's SIP dialog, keyed by Call-ID, the
// client's From tag and our To tag.
type dialog struct {
	key      string
	callID   string // SIP Call-ID
	localTag string
	log      *slog.Logger
	contact  string     // our Contact header value
	addr     netip.Addr // address in our SDP answers
	sessID   uint64     // o= session id of our answers
	reliable bool       // TCP or TLS: no 2xx retransmission
	done     chan struct{}

	mu         sync.Mutex // serialises the dialog's requests and Recorder calls
	sess       Session    // last state; its slices and Metadata are never changed in place
	version    uint64     // o= version of our last answer
	lastSDP    []byte     // our last answer
	remoteCSeq uint32
	confirmed  bool
	ackCSeq    uint32
	ackCh      chan struct{} // closed by the ACK for ackCSeq
	offered    uint32        // CSeq of the INVITE whose 2xx carried our offer (UCM delayed offer), 0 for none
	expires    time.Duration // negotiated session interval, 0 for none
	expiry     *time.Timer   // the session timer, nil before it is armed
	expiryGen  uint64        // counts armings: a timer fired before a refresh is stale
	ended      bool
	peer       peer // for our requests in the dialog (BYE)

	holds int // under Server.mu: BYE and End keeping the ended dialog in Server.closing
}

// dialogKey identifies a dialog from the client's side of it.
func dialogKey(callID, remoteTag, localTag string) string {
	return callID + "\x00" + remoteTag + "\x00" + localTag
}

// requestDialogKey is the key of the dialog an in-dialog request belongs to.
func requestDialogKey(req *sip.Request) (string, bool) {
	cid, from, to := req.CallID(), req.From(), req.To()
	if cid == nil || from == nil || to == nil {
		return "", false
	}
	toTag, ok := to.Params.Get("tag")
	if !ok || toTag == "" {
		return "", false
	}
	fromTag, _ := from.Params.Get("tag")
	return dialogKey(cid.Value(), fromTag, toTag), true
}

// refreshTarget follows a target-refresh request (re-INVITE or UPDATE)
// that carries a Contact: it becomes the dialog's remote target (RFC 3261
// 12.2.2, RFC 3311 5.2). A request out of order is left alone; onModify
// refuses it.
func (s *Server) refreshTarget(req *sip.Request) {
	c := req.Contact()
	if c == nil {
		return
	}
	d := s.dialogOf(req)
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ended && cseqOf(req) > d.remoteCSeq {
		d.peer.target = targetOf(c, d.sess.Source, d.sess.Transport)
	}
}

// expectAck arms the wait for the ACK of the INVITE with CSeq cseq. Called
// with d.mu held; returns the channel the ACK closes.
func (d *dialog) expectAck(cseq uint32) chan struct{} {
	d.ackCSeq = cseq
	d.ackCh = make(chan struct{})
	return d.ackCh
}

// acked records an ACK. Called with d.mu held.
func (d *dialog) acked(cseq uint32) {
	d.confirmed = true
	if d.ackCh != nil && cseq == d.ackCSeq {
		close(d.ackCh)
		d.ackCh = nil
	}
}

// awaitAck retransmits a 2xx to an INVITE over UDP (RFC 3261 13.3.1.4:
// T1 doubling up to T2) until its ACK arrives, the dialog ends or the ACK
// wait (64*T1) passes; the intervals are the server's Timers. Without an
// ACK for the initial INVITE the session is ended with a BYE (see
// ackTimeout).
func (s *Server) awaitAck(d *dialog, tx sip.ServerTransaction, res *sip.Response, ack <-chan struct{}, initial bool) {
	t := s.timers()
	timeout := time.NewTimer(t.AckWait)
	defer timeout.Stop()
	interval := t.T1
	retr := time.NewTimer(interval)
	defer retr.Stop()
	if d.reliable {
		retr.Stop()
	}
	for {
		select {
		case <-ack:
			return
		case <-d.done:
			return
		case <-s.baseCtx.Done():
			return
		case <-retr.C:
			select {
			case <-ack:
				// The ACK came as the timer fired: select picks either.
				return
			default:
			}
			if err := tx.Respond(res); err != nil {
				d.log.Debug("retransmit 2xx failed", "error", err)
			}
			interval = nextRetransmit(interval, t.T2)
			retr.Reset(interval)
		case <-timeout.C:
			if !initial {
				d.log.Warn("no ACK for re-INVITE 2xx")
				return
			}
			s.ackTimeout(d)
			return
		}
	}
}

// Reasons of the BYEs the dialog timers send (RFC 3326).
const (
	ackTimeoutCode = 408
	ackTimeoutText = "ACK not received"
	expiredCode    = 408
	expiredText    = "session expired"
)

// ackTimeout ends a session whose initial 2xx got no ACK in the ACK wait
// (64*T1). RFC
// 3261 13.3.1.4: the dialog is then confirmed all the same and the session
// is terminated with a BYE, which goes at once (hangup waits for the ACK
// of an unconfirmed dialog). The client may have the session (only its
// ACKs are lost): the BYE frees its side too.
func (s *Server) ackTimeout(d *dialog) {
	d.mu.Lock()
	acked := d.confirmed // the ACK came as the timer fired
	d.confirmed = true
	d.mu.Unlock()
	if acked {
		return
	}
	d.log.Warn("no ACK for INVITE 2xx: hanging up")
	s.hangup(d, ackTimeoutCode, ackTimeoutText, "ack_timeout")
}

// minSE is our Min-SE: the shortest session interval we accept (RFC 4028).
const minSE = 90

// maxSE is the longest session interval we grant (seconds, a day): a
// longer one asked for is lowered to it in our 2xx, as RFC 4028 section 9
// lets the answerer do.
const maxSE = 86400

// sessionExpires reads Session-Expires (or its compact form x) in seconds,
// at most maxSE; 0 when absent or unreadable.
func sessionExpires(req *sip.Request) int {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x")
	}
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0
	}
	return int(min(n, maxSE)) // ParseUint gives the largest uint64 when out of range
}

// armExpiry (re)starts the session timer; with d.mu held. The client
// refreshes (refresher=uac); when no refresh comes in time (the server's
// Timers.SessionWait), the session is ended as expired with a BYE
// (Reason: SIP;cause=408; text="session expired"), as when the gateway
// hangs up.
func (s *Server) armExpiry(d *dialog) {
	if d.expires <= 0 || d.ended {
		return
	}
	if d.expiry != nil {
		d.expiry.Stop()
	}
	d.expiryGen++
	gen := d.expiryGen
	d.expiry = time.AfterFunc(s.timers().SessionWait(d.expires), func() { s.expire(d, gen) })
}

// expire hangs up d's session when the timer armed as gen is still the
// current one: a refresh that re-armed the timer while this one fired
// wins.
func (s *Server) expire(d *dialog, gen uint64) {
	d.mu.Lock()
	stale := d.ended || d.expiryGen != gen
	d.mu.Unlock()
	if stale {
		return
	}
	d.log.Warn("session not refreshed: hanging up")
	s.hangup(d, expiredCode, expiredText, "session_expired")
}
