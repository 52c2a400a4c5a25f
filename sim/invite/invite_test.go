package invite

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/sim/codec"
	"github.com/callvault/callvault/siprec"
)

func testOffer() Offer {
	return Offer{
		Run: 0x1122334455667788, Index: 42, Host: "127.0.0.1",
		Owner: "2042", OwnerName: "Agent 42", Remote: "+15550000042",
		Ports: [2]int{40000, 40002}, Codec: codec.G729,
		Start: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), Extension: true,
	}
}

// TestBodyParsesWithTheRecordersParser: the recorder's own multipart, SDP
// and metadata parsers read the offer as CUBE's.
func TestBodyParsesWithTheRecordersParser(t *testing.T) {
	o := testOffer()
	o.Keys = [2][]byte{bytes.Repeat([]byte{1}, KeyLen), bytes.Repeat([]byte{2}, KeyLen)}
	body, err := siprec.SplitBody(ContentType, o.Body())
	if err != nil {
		t.Fatal(err)
	}
	media, err := siprec.ParseSDP(body.SDP)
	if err != nil {
		t.Fatal(err)
	}
	if len(media) != 2 {
		t.Fatalf("%d m-lines, want 2", len(media))
	}
	for i, m := range media {
		if m.Label != []string{"1", "2"}[i] || m.Port != o.Ports[i] || m.Direction != "sendonly" || !m.Secure() {
			t.Errorf("m-line %d: %+v", i, m)
		}
		if m.Addr != netip.MustParseAddr("127.0.0.1") || m.Formats[0].Name != "G729" || m.Formats[0].PT != 18 || m.Ptime != 20 {
			t.Errorf("m-line %d: %+v", i, m)
		}
		if len(m.Crypto) != 1 || m.Crypto[0].Suite != SRTPSuite || !bytes.Equal(m.Crypto[0].Key, o.Keys[i]) {
			t.Errorf("m-line %d: crypto %v", i, m.Crypto)
		}
	}
	md, err := siprec.ParseMetadata(body.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Participants) != 2 || len(md.Streams) != 2 {
		t.Fatalf("metadata: %d participants, %d streams", len(md.Participants), len(md.Streams))
	}
	p1, p2 := md.Participants[0], md.Participants[1]
	if p1.AOR != "sip:2042@127.0.0.1" || p1.Name != "Agent 42" || p2.AOR != "sip:+15550000042@127.0.0.1" {
		t.Errorf("participants: %+v", md.Participants)
	}
	if strings.Join(p1.Send, ",") != "1" || strings.Join(p1.Recv, ",") != "2" || strings.Join(p2.Send, ",") != "2" {
		t.Errorf("stream associations: %+v", md.Participants)
	}
	if !md.Start.Equal(o.Start) {
		t.Errorf("start %v, want %v", md.Start, o.Start)
	}
}

func TestPlainOfferIsRTPAVP(t *testing.T) {
	o := testOffer()
	o.Codec = codec.PCMU
	media, err := siprec.ParseSDP([]byte(o.SDP()))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range media {
		if m.Secure() || len(m.Crypto) != 0 || m.Formats[0].Name != "PCMU" {
			t.Errorf("plain offer: %+v", m)
		}
	}
}

func TestIDsDifferByCallAndRun(t *testing.T) {
	a, b := testOffer(), testOffer()
	b.Index++
	if a.SessionID() == b.SessionID() || a.id(idSession) == b.id(idSession) || a.CiscoGUID() == b.CiscoGUID() {
		t.Error("two calls of a run share an id")
	}
	b = testOffer()
	b.Run++
	if a.id(idStream1) == b.id(idStream1) {
		t.Error("two runs share a stream id")
	}
}

func TestHeadersAskForSIPREC(t *testing.T) {
	var require, timer bool
	for _, h := range testOffer().Headers(10 * time.Second) {
		require = require || h.Name == "Require" && h.Value == "siprec"
		timer = timer || h.Name == "Session-Expires"
	}
	if !require || !timer {
		t.Errorf("Require: siprec %v, session timer %v", require, timer)
	}
	for _, h := range testOffer().Headers(time.Hour) {
		if h.Name == "Session-Expires" {
			t.Error("an hour-long call is offered a session timer it would not refresh")
		}
	}
}

// TestAnswerFromTheRecorder reads an answer the recorder's own writer
// makes.
func TestAnswerFromTheRecorder(t *testing.T) {
	offer, err := siprec.ParseSDP([]byte(testOffer().SDP()))
	if err != nil {
		t.Fatal(err)
	}
	sdp := siprec.BuildAnswer(offer, []siprec.MediaAnswer{{Port: 16384, PT: 18}, {Port: 16386, PT: 18}},
		netip.MustParseAddr("192.0.2.10"), 1, 1)
	streams, err := ParseAnswer(sdp)
	if err != nil {
		t.Fatal(err)
	}
	legs, err := Legs(streams, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{16384, 16386} {
		if legs[i].Port != want || legs[i].Addr != netip.MustParseAddr("192.0.2.10") || legs[i].PT != 18 {
			t.Errorf("leg %d: %+v", i+1, legs[i])
		}
	}
	if _, err := Legs(streams, true); err == nil {
		t.Error("a plain answer to an SRTP offer was taken")
	}
}

func TestLegsByLabelAndRefusal(t *testing.T) {
	sdp := "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5002 RTP/AVP 0\r\na=label:2\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\na=label:1\r\n"
	streams, err := ParseAnswer([]byte(sdp))
	if err != nil {
		t.Fatal(err)
	}
	legs, err := Legs(streams, false)
	if err != nil {
		t.Fatal(err)
	}
	if legs[0].Port != 5000 || legs[0].Addr.String() != "10.0.0.2" || legs[1].Port != 5002 || legs[1].Addr.String() != "10.0.0.1" {
		t.Errorf("legs %+v", legs)
	}
	refused := strings.Replace(sdp, "5002", "0", 1)
	streams, _ = ParseAnswer([]byte(refused))
	if _, err := Legs(streams, false); err == nil {
		t.Error("a refused leg was taken")
	}
	if _, err := ParseAnswer([]byte("v=0\r\n")); err == nil {
		t.Error("an answer without m-lines parsed")
	}
}

func TestAnswerSDPFromMultipart(t *testing.T) {
	body := "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"
	sdp, err := AnswerSDP("multipart/mixed;boundary=b", []byte(body))
	if err != nil || string(sdp) != "v=0" {
		t.Errorf("AnswerSDP = %q, %v", sdp, err)
	}
	if sdp, err := AnswerSDP("application/sdp", []byte("v=0")); err != nil || string(sdp) != "v=0" {
		t.Errorf("AnswerSDP(application/sdp) = %q, %v", sdp, err)
	}
}
