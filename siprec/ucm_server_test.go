package siprec

import (
	"fmt"
	"strings"
	"testing"
)

// ucmFrom is a UCM recording call's From header value: the far end's
// call leg 25139261 is older than the near end's, 25139262 (the far end
// called), unless farAddr is on a newer leg (after a transfer).
func ucmFrom(role, farAddr, tag string) string {
	farRefCI := "25139261"
	if farAddr != "1000" {
		farRefCI = "25139270"
	}
	return fmt.Sprintf("<sip:2000@ucm1;x-%send;x-refci=25139262;x-nearenddevice=SEP00AABBCCDDEE;x-farendrefci=%s;x-farenddevice=SEP001122334455;x-farendaddr=%s>;tag=%s",
		role, farRefCI, farAddr, tag)
}

// ucmSDP is what UCM offers for the phone's built-in bridge: one sendonly
// audio stream, no label.
const ucmSDP = "v=0\r\no=CiscoSystemsCCM-SIP 73601 1 IN IP4 10.48.32.90\r\ns=SIP Call\r\nc=IN IP4 10.48.32.33\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 0 101\r\na=ptime:20\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"

// ucmRequest is a request of a UCM recording call, no siprec anywhere.
func (c *sipClient) ucmRequest(method, callID, from, toTag string, cseq int, body string) []byte {
	v := c.vars(callID, toTag)
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:8675309@%s SIP/2.0\r\n", method, c.server)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;rport;branch=%s\r\n", c.transport, c.conn.LocalAddr(), v["BRANCH"])
	fmt.Fprintf(&b, "From: %s\r\n", from)
	to := fmt.Sprintf("<sip:8675309@%s>", c.server)
	if toTag != "" {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n", to, callID, cseq, method)
	fmt.Fprintf(&b, "Supported: timer,resource-priority,replaces\r\nUser-Agent: Cisco-CUCM15.0\r\nContact: <%s>\r\n", c.contact)
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// TestServerUCMCall: a UCM recording call is admitted without SIPREC, its
// stream labelled by its role and its metadata made from the From header;
// an UPDATE naming a new far end updates it, a re-INVITE without SDP gets
// our last answer as offer, a BYE ends it.
func TestServerUCMCall(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "TCP", ts.tcpAddr)
	callID := "ucm-far@10.48.32.90"

	c.send(c.ucmRequest("INVITE", callID, ucmFrom("far", "1000", "ft1"), "", 101, ucmSDP))
	res := c.expect(200, "UCM INVITE")
	tag := toTag(t, res)
	if sdp := string(res.Body()); !strings.Contains(sdp, "m=audio 30000 RTP/AVP 0 101\r\n") || !strings.Contains(sdp, "a=recvonly\r\n") {
		t.Errorf("answer to the UCM INVITE:\n%s", sdp)
	}
	c.send(c.ucmRequest("ACK", callID, ucmFrom("far", "1000", "ft1"), tag, 101, ""))
	s := recv(t, ts.rec.admits, "Admit")
	if s.UCM == nil || s.UCM.Role != UCMFar || s.UCM.FarNumber != "1000" {
		t.Fatalf("admitted session's UCM = %+v, want the far half with far end 1000", s.UCM)
	}
	if len(s.Media) != 1 || s.Media[0].Label != UCMFar || s.Media[0].Direction != "sendonly" {
		t.Errorf("admitted media = %+v, want one sendonly stream labelled far", s.Media)
	}
	if s.Metadata == nil || len(s.Metadata.Participants) != 2 || s.Metadata.Recorded != "sip:2000@ucm1" {
		t.Errorf("admitted metadata = %+v, want the near end 2000 recorded and the far end", s.Metadata)
	}

	// A transfer: UCM names the new far end in an UPDATE without a body.
	c.send(c.ucmRequest("UPDATE", callID, ucmFrom("far", "3000", "ft1"), tag, 102, ""))
	c.expect(200, "UPDATE")
	u := recv(t, ts.rec.updates, "Update")
	if u.UCM == nil || u.UCM.FarNumber != "3000" || u.Metadata.Participants[0].AOR != "sip:3000@ucm1" {
		t.Errorf("updated session = %+v, %+v: want the far end 3000", u.UCM, u.Metadata)
	}
	// Its call leg is newer than the near end's; the far end still placed the call.
	if u.UCM.Caller != UCMFar || u.Metadata.Caller != "sip:3000@ucm1" {
		t.Errorf("after the transfer the caller is %q (%q), want the far end still", u.UCM.Caller, u.Metadata.Caller)
	}

	// A re-INVITE without SDP and nothing new asks for an offer.
	c.send(c.ucmRequest("INVITE", callID, ucmFrom("far", "3000", "ft1"), tag, 103, ""))
	res = c.expect(200, "re-INVITE without SDP")
	if !strings.Contains(string(res.Body()), "m=audio 30000 ") {
		t.Errorf("200 to a re-INVITE without SDP offers:\n%s", res.Body())
	}
	c.send(c.ucmRequest("ACK", callID, ucmFrom("far", "3000", "ft1"), tag, 103, ""))
	noMore(t, ts.rec.updates, "Update for a re-INVITE that changed nothing")

	c.send(c.ucmRequest("BYE", callID, ucmFrom("far", "3000", "ft1"), tag, 104, ""))
	c.expect(200, "BYE")
	if e := recv(t, ts.rec.ends, "End"); e.reason != "bye" || e.s.CallID != callID {
		t.Errorf("End(%q, %q), want (%q, bye)", e.s.CallID, e.reason, callID)
	}
}

// TestServerNotUCM: without SIPREC, only a From that says x-nearend or
// x-farend makes a recording call; anything else still gets 488.
func TestServerNotUCM(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	for i, from := range []string{
		"<sip:2000@ucm1;x-refci=1;x-farendaddr=1000>;tag=n1",
		"\"Alice\" <sip:2000@pbx>;tag=n2",
	} {
		c.send(c.ucmRequest("INVITE", fmt.Sprintf("not-ucm-%d@pbx", i), from, "", 101, ucmSDP))
		if res := c.expect(488, "INVITE from "+from); !strings.Contains(header(res, "Warning"), "not a SIPREC offer") {
			t.Errorf("Warning %q, want not a SIPREC offer", header(res, "Warning"))
		}
	}
	noMore(t, ts.rec.admits, "Admit")
}

// TestServerUCMDelayedOffer: a UCM trunk without early offer sends the
// INVITE without SDP. The recorder is asked to admit our own offer (every
// codec we record, labelled by the role), the 200 offers it recvonly, and
// the answer in the ACK updates the stream: codec and source.
func TestServerUCMDelayedOffer(t *testing.T) {
	ts := startServer(t)
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "ucm-delayed@10.48.32.90"

	c.send(c.ucmRequest("INVITE", callID, ucmFrom("near", "1000", "dn1"), "", 101, ""))
	res := c.expect(200, "UCM INVITE without SDP")
	tag := toTag(t, res)
	offer := string(res.Body())
	for _, want := range []string{"m=audio 30000 RTP/AVP 0 8 18 101\r\n", "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n", "a=recvonly\r\n"} {
		if !strings.Contains(offer, want) {
			t.Errorf("our offer lacks %q:\n%s", want, offer)
		}
	}
	s := recv(t, ts.rec.admits, "Admit")
	if len(s.Media) != 1 || !s.Media[0].OurOffer || s.Media[0].Label != UCMNear || s.Media[0].Addr.IsValid() {
		t.Errorf("admitted media = %+v, want our offer labelled near, its source unknown", s.Media)
	}
	noMore(t, ts.rec.updates, "Update before the answer")

	answer := strings.Replace(ucmSDP, "RTP/AVP 0 101", "RTP/AVP 8 101", 1)
	answer = strings.Replace(answer, "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", 1)
	ack := c.ucmRequest("ACK", callID, ucmFrom("near", "1000", "dn1"), tag, 101, answer)
	c.send(ack)
	u := recv(t, ts.rec.updates, "Update with the ACK's answer")
	if len(u.Media) != 1 || u.Media[0].OurOffer || u.Media[0].Label != UCMNear || u.Media[0].Addr.String() != "10.48.32.33" ||
		u.Media[0].Port != 4000 || u.Media[0].Formats[0].Name != "PCMA" {
		t.Errorf("answered media = %+v, want PCMA from 10.48.32.33:4000 labelled near", u.Media)
	}
	c.send(ack) // a retransmission changes nothing
	c.send(c.ucmRequest("BYE", callID, ucmFrom("near", "1000", "dn1"), tag, 102, ""))
	c.expect(200, "BYE")
	recv(t, ts.rec.ends, "End")
	noMore(t, ts.rec.updates, "Update for a retransmitted ACK")
}
