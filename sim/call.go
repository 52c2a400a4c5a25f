package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/callvault/callvault/sim/invite"
	"github.com/callvault/callvault/sim/pace"
	"github.com/callvault/callvault/sim/tone"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// answerTimeout bounds the wait for a final answer: SIP's Timer B.
const answerTimeout = 32 * time.Second

// byeTimeout bounds the wait for the BYE's 200.
const byeTimeout = 10 * time.Second

// callResult is what one call found.
type callResult struct {
	index    int
	callID   string
	answered bool
	// failure is "" for a call that went through, else the SIP status
	// that refused it or what went wrong (see report.Report.Failures).
	failure string
	setup   time.Duration // INVITE sent to 200 OK
	// audio is how long its RTP ran: from the ACK to the BYE.
	audio  time.Duration
	tones  [2]float64
	byeErr error
}

// call places call i: INVITE, ACK, RTP on both legs for the duration (or
// until ctx ends or the recorder hangs up), BYE.
func (s *simulator) call(ctx context.Context, i int) callResult {
	res := callResult{index: i, callID: fmt.Sprintf("%016x-%d@%s", s.run, i, s.cfg.LocalIP)}
	res.tones[0], res.tones[1] = tone.ForCall(i)
	socks, err := s.bindLegs()
	if err != nil {
		s.log.Warn("no RTP port", "call", i, "err", err)
		res.failure = "rtp-ports"
		return res
	}
	defer func() {
		for _, so := range socks {
			so.Close()
		}
	}()
	offer := s.offer(i, socks)
	req := s.inviteRequest(offer, res.callID)
	actx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	sent := time.Now()
	dialog, err := s.dc.WriteInvite(actx, req)
	if err != nil {
		res.failure = "transport"
		s.log.Warn("INVITE not sent", "call", i, "err", err)
		return res
	}
	defer dialog.Close()
	if err := dialog.WaitAnswer(actx, sipgo.AnswerOptions{}); err != nil {
		res.failure = failureOf(err)
		s.log.Warn("call not answered", "call", i, "err", err)
		return res
	}
	res.setup, res.answered = time.Since(sent), true
	res.failure, res.audio = s.media(ctx, dialog, offer, socks)
	bctx, cancelBye := context.WithTimeout(context.Background(), byeTimeout)
	defer cancelBye()
	if dialog.LoadState() != sip.DialogStateEnded {
		if res.byeErr = dialog.Bye(bctx); res.byeErr != nil {
			s.log.Warn("BYE failed", "call", i, "err", res.byeErr)
		}
	}
	return res
}

// media ACKs the answer and sends both legs until the call's end; it
// returns what went wrong ("" for nothing) and how long RTP ran.
func (s *simulator) media(ctx context.Context, dialog *sipgo.DialogClientSession, offer invite.Offer, socks [2]*pace.Socket) (string, time.Duration) {
	if err := dialog.Ack(ctx); err != nil {
		s.log.Warn("ACK failed", "call", offer.Index, "err", err)
		return "ack", 0
	}
	legs, err := s.answerLegs(dialog.InviteResponse, offer, socks)
	if err != nil {
		s.log.Warn("unusable answer", "call", offer.Index, "err", err)
		return "answer", 0
	}
	start := time.Now()
	for _, l := range legs {
		s.pacer.Add(l)
	}
	timer := time.NewTimer(s.cfg.Duration)
	defer timer.Stop()
	failure := ""
	select {
	case <-timer.C:
	case <-ctx.Done():
	case <-dialog.Context().Done():
		failure = "ended-by-recorder"
	}
	for _, l := range legs {
		s.pacer.Remove(l)
	}
	return failure, time.Since(start)
}

// answerLegs connects each leg's socket to the port the answer gives it
// and prepares its stream: the call's tone for that leg, encrypted with
// the offer's key when SRTP.
func (s *simulator) answerLegs(res *sip.Response, offer invite.Offer, socks [2]*pace.Socket) ([2]*pace.Leg, error) {
	var legs [2]*pace.Leg
	ct := ""
	if h := res.ContentType(); h != nil {
		ct = h.Value()
	}
	sdp, err := invite.AnswerSDP(ct, res.Body())
	if err != nil {
		return legs, err
	}
	streams, err := invite.ParseAnswer(sdp)
	if err != nil {
		return legs, err
	}
	dest, err := invite.Legs(streams, s.cfg.SRTP)
	if err != nil {
		return legs, err
	}
	var freq [2]float64
	freq[0], freq[1] = tone.ForCall(offer.Index)
	for k := range legs {
		if err := socks[k].Connect(netip.AddrPortFrom(dest[k].Addr, uint16(dest[k].Port))); err != nil {
			return legs, err
		}
		if legs[k], err = s.newLeg(socks[k], freq[k], offer.Keys[k]); err != nil {
			return legs, err
		}
	}
	return legs, nil
}

// bindLegs takes two RTP ports.
func (s *simulator) bindLegs() ([2]*pace.Socket, error) {
	var socks [2]*pace.Socket
	for k := range socks {
		so, err := s.ports.Bind()
		if err != nil {
			if k == 1 {
				socks[0].Close()
			}
			return socks, err
		}
		socks[k] = so
	}
	return socks, nil
}

// offer describes call i, with fresh SRTP keys when asked.
func (s *simulator) offer(i int, socks [2]*pace.Socket) invite.Offer {
	o := invite.Offer{
		Run: s.run, Index: i, Host: s.cfg.LocalIP.String(),
		Owner: s.cfg.owner(i), OwnerName: "Sim Agent " + s.cfg.owner(i), Remote: s.cfg.remote(i),
		Ports: [2]int{socks[0].Port(), socks[1].Port()}, Codec: s.cfg.Codec,
		Start: time.Now(), Extension: true,
	}
	if s.cfg.SRTP {
		for k := range o.Keys {
			o.Keys[k] = make([]byte, invite.KeyLen)
			rand.Read(o.Keys[k])
		}
	}
	return o
}

// inviteRequest is the INVITE of offer, as CUBE sends it to its recorder
// dial-peer (the request URI's user is the dial-peer's pattern).
func (s *simulator) inviteRequest(o invite.Offer, callID string) *sip.Request {
	host, portText, _ := net.SplitHostPort(s.cfg.Target)
	port, _ := strconv.Atoi(portText)
	recipient := sip.Uri{Scheme: "sip", User: "7777", Host: host, Port: port}
	req := sip.NewRequest(sip.INVITE, recipient)
	req.SetTransport(map[string]string{"udp": "UDP", "tcp": "TCP", "tls": "TLS"}[s.cfg.Transport])
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", Host: o.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "7777", Host: host}, Params: sip.NewParams()})
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 101, MethodName: sip.INVITE})
	// A Contact of its own (sipgo fills in the port from the connection):
	// without one, sipgo shares the dialog cache's across calls.
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: o.Host}})
	for _, h := range o.Headers(s.cfg.Duration) {
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", invite.ContentType))
	req.SetBody(o.Body())
	return req
}

// failureOf names why an INVITE got no 200: its SIP status, or timeout,
// cancelled, transport.
func failureOf(err error) string {
	var v sipgo.ErrDialogResponse
	var p *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &p) && p != nil && p.Res != nil:
		return strconv.Itoa(p.Res.StatusCode)
	case errors.As(err, &v) && v.Res != nil:
		return strconv.Itoa(v.Res.StatusCode)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, sip.ErrTransactionTimeout):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "transport"
}

// newLeg prepares leg k of a call for the pacer.
func (s *simulator) newLeg(so *pace.Socket, freq float64, key []byte) (*pace.Leg, error) {
	return pace.NewLeg(pace.LegConfig{
		Out: so, PT: s.cfg.Codec.PT, SSRC: mrand.Uint32(), Seq: uint16(mrand.Uint32()), TS: mrand.Uint32(),
		Cycle: s.cycles.get(s.cfg.Codec, freq), SRTPKey: key,
	})
}
