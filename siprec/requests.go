package siprec

import (
	"github.com/emiago/sipgo/sip"
	"net/netip"
)

// onAck confirms a dialog. ACKs for unknown dialogs are dropped (an ACK is
// never answered).
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	d := s.dialogOf(req)
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acked(cseqOf(req))
	if d.offered != 0 && d.offered == cseqOf(req) && !d.ended {
		s.takeAnswer(d, req)
	}
}

// onBye ends a session. A metadata body (final end and disassociate
// times) is merged first; an unreadable one is logged, not refused: the
// call is over either way. A BYE for a session we are ending ourselves
// gets 200; one for a dialog already forgotten gets 481 (inDialog).
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	d := s.inDialog(req, tx)
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended {
		// We are ending the session (our BYE crossed this one, or the
		// recording is being sealed): it ends, as asked.
		d.log.Debug("BYE for a session already ending")
		s.reply(d.log, req, tx, 200)
		return
	}
	d.log.Debug("BYE received", "body", bodyValue(req.Body()))
	if body, err := SplitBody(contentType(req), req.Body()); err != nil {
		d.log.Warn("BYE body ignored", "error", err)
	} else if body.Metadata != nil {
		if md, err := ParseMetadata(body.Metadata); err != nil {
			d.log.Warn("BYE metadata ignored", "error", err)
		} else {
			d.sess.Metadata = Merge(d.sess.Metadata, md)
		}
	}
	s.reply(d.log, req, tx, 200)
	s.endLocked(d, "bye")
}

// onCancel answers a CANCEL that matched no pending INVITE (sipgo answers
// the matching ones itself, and the INVITE gets 487).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.reply(s.log, req, tx, 481)
}

// onInfo accepts INFO in a dialog (e.g. DTMF relays) and ignores it.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	if d := s.inDialog(req, tx); d != nil {
		s.reply(d.log, req, tx, 200)
	}
}

// selfProbe reports whether a request is the box's own health probe: an
// OPTIONS from a loopback address, answered whatever the allow-list says
// (the daemon's watchdog checks the SIP stack with it; OPTIONS changes
// nothing).
func selfProbe(method string, src netip.Addr) bool {
	return method == "OPTIONS" && src.Unmap().IsLoopback()
}

// onOptions answers capability queries and keepalives, in or out of a
// dialog.
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if src := parseSource(req).Addr(); !s.gate.allowed(src) && !selfProbe("OPTIONS", src) {
		s.refuse(s.log, req, tx, RefuseSource)
		return
	}
	s.reply(s.log, req, tx, 200,
		sip.NewHeader("Allow", allowHeader),
		sip.NewHeader("Accept", acceptHeader),
		sip.NewHeader("Supported", supportedHeader))
}

// onNoRoute answers methods we do not handle.
func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	s.reply(s.log, req, tx, 405, sip.NewHeader("Allow", allowHeader))
}
