package siprec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Hangup ends the live recording session whose SIP Call-ID is callID from
// the recorder's side. It sends BYE in the dialog to the recording client,
// with Reason: SIP;cause=<code>;text="<text>", and ends the session with
// Recorder.End(s, reason); reason is a short word for logs such as
// "disk_full". It returns once End has returned, without waiting for the
// BYE's answer: the BYE transaction finishes in the background, bounded by
// Timer F (64*T1), and a BYE from the client that crosses ours meanwhile
// gets 200. Hangup reports false when no session with that Call-ID is live.
func (s *Server) Hangup(callID string, code int, text, reason string) bool {
	d := s.liveByCallID(callID)
	if d == nil {
		return false
	}
	return s.hangup(d, code, text, reason)
}

// liveByCallID finds a live dialog by Call-ID. Hang-ups are rare, so a scan
// of the table beats keeping a second index current.
func (s *Server) liveByCallID(callID string) *dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dialogs {
		if d.callID == callID {
			return d
		}
	}
	return nil
}

// hangup ends d's session from our side; see Hangup. False when d had
// already ended.
func (s *Server) hangup(d *dialog, code int, text, reason string) bool {
	d.mu.Lock()
	snap, ok := s.finish(d, true)
	if !ok {
		d.mu.Unlock()
		return false
	}
	d.peer.cseq++
	bye := d.peer.bye(d.sess.CallID, d.sess.Transport, code, text, s.cfg.UserAgent)
	s.steer(bye, d.sess.Transport, d.sess.Source)
	var ack <-chan struct{}
	if !d.confirmed {
		ack = d.ackCh
	}
	s.mu.Lock()
	s.beginLocked(d, true) // done by sendBye
	s.mu.Unlock()
	d.mu.Unlock()

	go s.sendBye(d, bye, ack)
	s.endSession(d, snap, reason)
	return true
}

// sendBye sends bye and logs how the client answered. A dialog whose 2xx
// is not yet acknowledged gets its BYE after the ACK or after the ACK wait
// (Timers.AckWait, 64*T1: RFC 3261 section 15). The wait and the
// transaction end when the server stops.
func (s *Server) sendBye(d *dialog, bye *sip.Request, ack <-chan struct{}) {
	defer s.done(d)
	if ack != nil {
		t := time.NewTimer(s.timers().AckWait)
		select {
		case <-ack:
		case <-t.C:
		case <-s.baseCtx.Done():
		}
		t.Stop()
	}
	// sipgo's Timer F (64*T1 with the RFC's T1) ends the transaction; the
	// deadline also bounds a TCP connect.
	ctx, cancel := context.WithTimeout(s.baseCtx, byeDeadline)
	defer cancel()
	res, err := s.client.Do(ctx, bye, sendAsBuilt)
	switch {
	case err != nil && s.baseCtx.Err() != nil:
		d.log.Info("BYE abandoned: server stopped")
	case errors.Is(err, sip.ErrTransactionTimeout):
		d.log.Warn("BYE not answered", "error", err)
	case err != nil:
		d.log.Warn("send BYE failed", "error", err)
	case res.IsSuccess():
		d.log.Debug("BYE answered", "status", res.StatusCode)
	case res.StatusCode == 481 || res.StatusCode == 408:
		// The client had already forgotten the dialog: it is over either way.
		d.log.Info("BYE answered: no such dialog at the client", "status", res.StatusCode)
	default:
		d.log.Warn("BYE refused", "status", res.StatusCode, "reason", res.Reason)
	}
}

// byeDeadline bounds a BYE of ours: sipgo's Timer F for it, 64*T1 with the
// RFC's T1, as sipgo runs the transaction with its own timers.
const byeDeadline = 64 * rfcT1

// sendAsBuilt is a sipgo request option that leaves a request as we built
// it (without options, sipgo adds headers of its own to requests).
func sendAsBuilt(*sipgo.Client, *sip.Request) error { return nil }

// peer is what a request of ours in a dialog needs (RFC 3261 12.1.1),
// recorded from the INVITE that created it.
type peer struct {
	target sip.Uri        // remote target: the client's Contact, refreshed by target-refresh requests
	routes []sip.Uri      // route set: the INVITE's Record-Route, in order
	local  sip.FromHeader // our To with our tag: the From of our requests
	remote sip.ToHeader   // the client's From with its tag: the To of our requests
	host   string         // sent-by of our Via: where the client reaches us
	port   int            // 0: the local port of the connection used
	cseq   uint32         // CSeq of our last request, 0 before the first
}

// newPeer records the dialog state of an initial INVITE answered with our
// To tag localTag and our Contact contact (the client answers our requests
// where our Contact points).
func newPeer(req *sip.Request, localTag, contact string, src netip.AddrPort) peer {
	var p peer
	if to := req.To(); to != nil {
		p.local = to.AsFrom()
		p.local.Params.Add("tag", localTag)
	}
	if from := req.From(); from != nil {
		p.remote = from.AsTo()
	}
	p.target = targetOf(req.Contact(), src, req.Transport())
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			p.routes = append(p.routes, *rr.Address.Clone())
		}
	}
	var u sip.Uri
	if err := sip.ParseUri(strings.Trim(contact, "<>"), &u); err == nil {
		p.host, p.port = u.Host, u.Port
	}
	return p
}

// targetOf is the remote target named by a Contact. A client that gave no
// usable SIP Contact is reached where its request came from.
func targetOf(c *sip.ContactHeader, src netip.AddrPort, transport string) sip.Uri {
	if c != nil && !c.Address.Wildcard && c.Address.Host != "" &&
		(c.Address.Scheme == "sip" || c.Address.Scheme == "sips") {
		u := *c.Address.Clone()
		u.Headers = nil // not allowed in a Request-URI (RFC 3261 19.1.1)
		return u
	}
	u := sip.Uri{Scheme: "sip", Host: src.Addr().String(), Port: int(src.Port())}
	if t := strings.ToLower(transport); t != "" && t != "udp" {
		u.UriParams = sip.HeaderParams{{K: "transport", V: t}}
	}
	return u
}

// bye builds our BYE (RFC 3261 12.2.1.1, 15.1.1) with CSeq p.cseq and a
// Reason header (RFC 3326). Its destination is the first hop of the route
// set, or the remote target when there is none.
func (p *peer) bye(callID, transport string, code int, text, userAgent string) *sip.Request {
	ruri, routes, first := p.target, p.routes, p.target
	switch {
	case len(routes) == 0:
	case routes[0].UriParams.Has("lr"):
		first = routes[0]
	default:
		// Strict routing: the first route is the Request-URI and the remote
		// target the last Route.
		ruri = *routes[0].Clone()
		ruri.Headers = nil
		first = ruri
		routes = append(slices.Clone(routes[1:]), p.target)
	}
	req := sip.NewRequest(sip.BYE, ruri)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport,
		Host: p.host, Port: p.port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	maxFwd := sip.MaxForwardsHeader(70)
	from, to := p.local, p.remote
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(via)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: p.cseq, MethodName: sip.BYE})
	for _, r := range routes {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	req.AppendHeader(sip.NewHeader("Reason", reasonValue(code, text)))
	if userAgent != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", userAgent))
	}
	req.SetTransport(transport)
	req.SetBody(nil)
	req.SetDestination(hostPort(first, transport))
	return req
}

// reasonValue is the value of a Reason header (RFC 3326) for a SIP status.
func reasonValue(code int, text string) string {
	return fmt.Sprintf("SIP;cause=%d;text=\"%s\"", code, quotable(text))
}

// hostPort is where a URI sends a request: its host and port, or the
// transport's default port.
func hostPort(u sip.Uri, transport string) string {
	port := u.Port
	if port == 0 {
		port = sip.DefaultPort(transport)
	}
	return net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port))
}

// steer picks the socket a request of ours leaves by. Over UDP it is our
// listener, so the client sees the address it sent to. Over TCP or TLS,
// when the first hop is the host the client connected from and that
// connection is still open, the request goes over it: a CUBE gives Contact
// <sip:GW:5060;transport=tcp> but connects from an ephemeral port, keeps
// the connection open and takes requests back on it (connection reuse, as
// in RFC 5923). Otherwise sipgo connects to the first hop.
func (s *Server) steer(req *sip.Request, transport string, src netip.AddrPort) {
	if !sip.IsReliable(transport) {
		req.Laddr = s.udpAddr
		return
	}
	host, _, err := net.SplitHostPort(req.Destination())
	if err != nil || !src.IsValid() {
		return
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Unmap() != src.Addr() {
		return
	}
	pool := s.ua.TransportLayer().Pool(transport)
	if pool == nil {
		return
	}
	if c := pool.Get(src.String()); c != nil {
		c.TryClose() // Get took a reference
		req.SetDestination(src.String())
	}
}
