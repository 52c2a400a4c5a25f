package siprec

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// A UCM SIP trunk sends its recording calls with a delayed offer unless
// its SIP profile asks for early offer: the INVITE has no SDP, the
// recorder offers in its 200 and UCM answers in the ACK. The same holds
// for a re-INVITE without SDP. callvault then offers one recvonly audio
// stream with every codec it records, and takes the ACK's answer as the
// stream's codec and source.

// ucmOfferFormats are the formats we offer, in our order of preference.
var ucmOfferFormats = []Format{
	{PT: 0, Name: "PCMU", Rate: 8000, Channels: 1},
	{PT: 8, Name: "PCMA", Rate: 8000, Channels: 1},
	{PT: 18, Name: "G729", Rate: 8000, Channels: 1, Fmtp: "annexb=no"},
	{PT: 101, Name: "telephone-event", Rate: 8000, Channels: 1, Fmtp: "0-15"},
}

// ucmOfferStream is the stream a UCM recording call without SDP is
// admitted with: our own offer, labelled by the call's role, its source
// unknown until the answer comes.
func ucmOfferStream(role string) MediaStream {
	return MediaStream{Index: 0, Kind: "audio", Label: role, Port: 9, Proto: "RTP/AVP", Direction: "sendonly",
		Formats: append([]Format(nil), ucmOfferFormats...), Ptime: 20, OurOffer: true}
}

// buildOffer writes our SDP offer for a delayed-offer INVITE: each stream
// on the port its answer gives, with every format it lists, recvonly.
// addr goes into o= and c=.
func buildOffer(media []MediaStream, answers []MediaAnswer, addr netip.Addr, sessID, version uint64) []byte {
	ipv, host := sdpAddr(addr)
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=callvault %d %d IN %s %s\r\ns=callvault\r\nc=IN %s %s\r\nt=0 0\r\n", sessID, version, ipv, host, ipv, host)
	for i, m := range media {
		port := 0
		if i < len(answers) && answers[i].Port > 0 && answers[i].Port <= 65535 {
			port = answers[i].Port
		}
		fmt.Fprintf(&b, "m=%s %d %s", m.Kind, port, m.Proto)
		for _, f := range m.Formats {
			fmt.Fprintf(&b, " %d", f.PT)
		}
		b.WriteString("\r\n")
		for _, f := range m.Formats {
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", f.PT, f.Name, f.Rate)
			if f.Fmtp != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", f.PT, f.Fmtp)
			}
		}
		if m.Ptime > 0 {
			fmt.Fprintf(&b, "a=ptime:%d\r\n", m.Ptime)
		}
		b.WriteString("a=recvonly\r\n")
	}
	return []byte(b.String())
}

// takeAnswer reads the SDP answer an ACK carries for the offer in our 2xx
// (d.mu held) and tells the recorder: the streams' codecs and where their
// RTP comes from. An ACK without it leaves the streams as offered: their
// RTP is taken from wherever it comes.
func (s *Server) takeAnswer(d *dialog, req *sip.Request) {
	d.offered = 0
	body, err := SplitBody(contentType(req), req.Body())
	if err == nil && body.SDP == nil {
		err = fmt.Errorf("no SDP")
	}
	var media []MediaStream
	if err == nil {
		media, err = parseSDP(body.SDP, d.log)
	}
	if err != nil {
		d.log.Warn("no SDP answer in the ACK to our offer: the streams take RTP from where it comes", "error", err)
		return
	}
	next := d.sess
	next.Media = labelUCM(media, next.UCM.Role)
	snap := next
	if _, err := s.rec.Update(s.baseCtx, &snap); err != nil {
		d.log.Warn("SDP answer in the ACK not taken", "error", err)
		return
	}
	d.sess = next
	d.log.Info("recording session updated", "method", "ACK", "new_sdp", true)
}
