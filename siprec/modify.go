package siprec

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// onUpdate handles UPDATE (RFC 3311) in a confirmed dialog.
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	s.onModify(req, tx)
}

// onModify handles a re-INVITE or an UPDATE: new SDP, new metadata, or
// both, or neither (a session refresh). The dialog keeps its state when
// the request is refused.
func (s *Server) onModify(req *sip.Request, tx sip.ServerTransaction) {
	d := s.inDialog(req, tx)
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	log := d.log
	log.Debug("in-dialog request", "method", string(req.Method), "body", bodyValue(req.Body()))
	if d.ended {
		s.refuse(log, req, tx, RefuseSessionEnded)
		return
	}
	c := cseqOf(req)
	if c <= d.remoteCSeq {
		s.refuse(log, req, tx, RefuseCSeq)
		return
	}
	d.remoteCSeq = c
	body, ok := s.readBody(log, req, tx)
	if !ok {
		return
	}
	next := d.sess
	if body.SDP != nil {
		media, err := parseSDP(body.SDP, log)
		if err != nil {
			s.rejectErr(log, req, tx, err)
			return
		}
		if next.UCM != nil {
			media = labelUCM(media, next.UCM.Role)
		}
		next.Media = media
	}
	ucmChanged := false
	if next.UCM != nil {
		// A transfer or conference names the new far end in the From
		// header; what UCM sends is its own, not SIPREC metadata.
		body.Metadata = nil
		if h := ucmHalfOf(req); h != nil && h.Role == next.UCM.Role {
			h.Caller = next.UCM.Caller // who placed the call does not change
			if *h != *next.UCM {
				next.UCM, next.Metadata, ucmChanged = h, h.Metadata(), true
			}
		}
	}
	if body.Metadata != nil {
		md, err := ParseMetadata(body.Metadata)
		if err != nil {
			s.rejectErr(log, req, tx, err)
			return
		}
		next.Metadata = Merge(d.sess.Metadata, md)
	}
	if se := sessionExpires(req); se > 0 && d.expires > 0 {
		if se < minSE {
			s.refuse(log, req, tx, RefuseInterval, sip.NewHeader("Min-SE", itoa(minSE)))
			return
		}
		d.expires = time.Duration(se) * time.Second
	}

	var answer []byte
	switch {
	case body.SDP != nil || body.Metadata != nil || ucmChanged:
		snap := next
		answers, err := s.rec.Update(s.baseCtx, &snap)
		if err != nil {
			s.rejectErr(log, req, tx, err)
			return
		}
		d.sess = next
		if body.SDP != nil {
			d.version++
			d.lastSDP = BuildAnswer(next.Media, answers, d.addr, d.sessID, d.version)
			answer = d.lastSDP
		}
		log.Info("recording session updated", "method", string(req.Method),
			"new_sdp", body.SDP != nil, "new_metadata", body.Metadata != nil || ucmChanged)
	case req.IsInvite():
		// A re-INVITE without a body asks for an offer: offer what we
		// answered last (unchanged version). Its ACK carries the answer.
		answer = d.lastSDP
	}
	if next.UCM != nil && req.IsInvite() && body.SDP == nil {
		// UCM's re-INVITE without SDP (a new far end, a delayed offer):
		// we offer what we answered last, and its ACK carries the answer.
		answer, d.offered = d.lastSDP, c
	}
	s.armExpiry(d)

	res := s.newResponse(req, 200, answer, s.dialogHeaders(d)...)
	if !req.IsInvite() {
		if err := tx.Respond(res); err != nil {
			log.Warn("send 200 failed", "method", string(req.Method), "error", err)
		}
		return
	}
	ack := d.expectAck(cseqOf(req))
	if err := tx.Respond(res); err != nil {
		log.Warn("send 200 to re-INVITE failed", "error", err)
		return
	}
	go s.awaitAck(d, tx, res, ack, false)
}

// dialogOf returns the live dialog an in-dialog request belongs to, or nil.
func (s *Server) dialogOf(req *sip.Request) *dialog {
	key, ok := requestDialogKey(req)
	if !ok {
		return nil
	}
	return s.lookup(key)
}

// inDialog finds the dialog of an in-dialog request, answering 481 when
// there is none.
func (s *Server) inDialog(req *sip.Request, tx sip.ServerTransaction) *dialog {
	d := s.dialogOf(req)
	if d == nil {
		callID := ""
		if h := req.CallID(); h != nil {
			callID = h.Value()
		}
		s.refuse(s.log.With("call_id", callID), req, tx, RefuseNoDialog)
	}
	return d
}
