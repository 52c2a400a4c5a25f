package siprec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// onInvite handles an initial INVITE (a new recording session) or, with a
// To tag, a re-INVITE.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.refreshTarget(req)
		s.onModify(req, tx)
		return
	}
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	log := s.log.With("call_id", callID)
	log.Debug("INVITE received", "source", req.Source(), "transport", req.Transport(), "body", bodyValue(req.Body()))

	if !s.admissible(log, req, tx) {
		return
	}
	defer s.inflight.Done()

	body, ok := s.readBody(log, req, tx)
	if !ok {
		return
	}
	var ucm *UCMHalf
	if !isSiprecOffer(req, body) {
		// Not SIPREC: a Cisco UCM recording call, or a stray INVITE.
		if ucm = ucmHalfOf(req); ucm == nil {
			s.refuse(log, req, tx, RefuseNotSiprec)
			return
		}
		log = log.With("ucm", ucm.Role)
	}
	var (
		media []MediaStream
		err   error
	)
	switch {
	case body.SDP != nil:
		if media, err = parseSDP(body.SDP, log); err != nil {
			s.rejectErr(log, req, tx, err)
			return
		}
	case ucm != nil:
		media = []MediaStream{ucmOfferStream(ucm.Role)} // a delayed offer: we offer
	default:
		s.refuse(log, req, tx, RefuseNoSDP)
		return
	}
	var md *Metadata
	switch {
	case ucm != nil:
		media, md = labelUCM(media, ucm.Role), ucm.Metadata()
	case body.Metadata != nil:
		if md, err = ParseMetadata(body.Metadata); err != nil {
			s.rejectErr(log, req, tx, err)
			return
		}
		md = Merge(nil, md)
	}
	se := sessionExpires(req)
	timer := se > 0 && hasTag(optionTags(req, "Supported", "k", "Require"), "timer")
	if timer && se < minSE {
		s.refuse(log, req, tx, RefuseInterval, sip.NewHeader("Min-SE", itoa(minSE)))
		return
	}

	src := parseSource(req)
	local := localAddr(tx)
	addr, err := s.mediaAddr(req, local, src)
	if err != nil {
		s.rejectErr(log, req, tx, err)
		return
	}
	sess := Session{
		CallID:    callID,
		Source:    src,
		Transport: req.Transport(),
		Started:   time.Now(),
		Media:     media,
		Metadata:  md,
		UCM:       ucm,
	}
	if h := req.From(); h != nil {
		sess.From = h.Address.String()
	}
	if h := req.To(); h != nil {
		sess.To = h.Address.String()
	}

	ctx, cancel := context.WithCancel(s.baseCtx)
	defer cancel()
	var canceled atomic.Bool
	tx.OnCancel(func(*sip.Request) {
		canceled.Store(true)
		cancel()
	})

	snap := sess
	answers, err := s.rec.Admit(ctx, &snap)
	if canceled.Load() {
		log.Info("INVITE cancelled while being admitted")
		if err == nil {
			s.rec.End(&snap, "cancel")
		}
		return
	}
	if err != nil {
		s.rejectErr(log, req, tx, err)
		return
	}

	fromTag := ""
	if h := req.From(); h != nil {
		fromTag, _ = h.Params.Get("tag")
	}
	d := &dialog{
		callID:   callID,
		localTag: newTag(),
		log:      log,
		addr:     addr,
		sessID:   s.idSeq.Add(1),
		reliable: sip.IsReliable(req.Transport()),
		done:     make(chan struct{}),
		sess:     sess,
		version:  1,
	}
	d.key = dialogKey(callID, fromTag, d.localTag)
	d.contact = contactFor(local, addr, req.Transport())
	d.peer = newPeer(req, d.localTag, d.contact, src)
	d.remoteCSeq = cseqOf(req)
	if timer {
		d.expires = time.Duration(se) * time.Second
	}
	if body.SDP != nil {
		d.lastSDP = BuildAnswer(media, answers, addr, d.sessID, d.version)
	} else {
		d.lastSDP = buildOffer(media, answers, addr, d.sessID, d.version)
		d.offered = cseqOf(req) // its ACK carries the answer
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if !s.register(d) {
		// Serve stopped while Admit ran.
		d.ended = true
		s.rec.End(&snap, "shutdown")
		s.refuse(log, req, tx, RefuseStopping, sip.NewHeader("Retry-After", retryAfter))
		return
	}
	res := s.newResponse(req, 200, d.lastSDP, s.dialogHeaders(d)...)
	res.To().Params.Add("tag", d.localTag)
	ack := d.expectAck(cseqOf(req))
	err = tx.Respond(res)
	// The CANCEL may reach the transaction after the canceled flag was
	// read and before the 2xx goes out: sipgo then refuses the 2xx.
	if canceled.Load() || errors.Is(err, sip.ErrTransactionCanceled) {
		// The CANCEL reached the transaction before our 2xx: the client got 487.
		log.Info("INVITE cancelled")
		s.endLocked(d, "cancel")
		return
	}
	if err != nil {
		log.Warn("send 200 to INVITE failed", "error", err)
		s.endLocked(d, "transport_error")
		return
	}
	log.Info("recording session admitted", "source", src.String(), "transport", sess.Transport,
		"streams", len(media), "media_addr", addr.String())
	log.Debug("SDP answer", "body", bodyValue(d.lastSDP))
	s.armExpiry(d)
	go s.awaitAck(d, tx, res, ack, true)
}

// admissible refuses an initial INVITE from a source outside the
// allow-list (403), while draining, above the cap on live sessions or
// above the source's session rate or the server's (503 with Retry-After);
// for one it admits, it counts an INVITE in flight (inflight.Done when
// done).
func (s *Server) admissible(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction) bool {
	src := parseSource(req)
	if !s.gate.allowed(src.Addr()) {
		s.refuse(log, req, tx, RefuseSource)
		return false
	}
	if !s.beginAdmit() {
		s.refuse(log, req, tx, RefuseDraining, sip.NewHeader("Retry-After", retryAfter))
		return false
	}
	if max := s.cfg.Admission.MaxSessions; max > 0 && s.Sessions() >= max {
		s.inflight.Done()
		s.refuse(log, req, tx, RefuseSessions.With(max), sip.NewHeader("Retry-After", "5"))
		return false
	}
	// Over UDP the guard took the token, before sipgo kept any state.
	if sip.IsReliable(req.Transport()) {
		if r, wait := s.gate.open(src.Addr(), "", time.Now()); r.Code != 0 {
			s.inflight.Done()
			s.refuse(log, req, tx, r, sip.NewHeader("Retry-After", retryAfterValue(wait)))
			return false
		}
	}
	return true
}

// dialogHeaders are the headers of a 2xx that establishes or refreshes d.
func (s *Server) dialogHeaders(d *dialog) []sip.Header {
	h := []sip.Header{
		sip.NewHeader("Contact", d.contact),
		sip.NewHeader("Allow", allowHeader),
		sip.NewHeader("Supported", supportedHeader),
	}
	if d.expires > 0 {
		h = append(h,
			sip.NewHeader("Require", "timer"),
			sip.NewHeader("Session-Expires", itoa(int(d.expires/time.Second))+";refresher=uac"))
	}
	return h
}

// newTag returns a random To tag.
func newTag() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func joinTags(tags []string) string { return strings.Join(tags, ", ") }
