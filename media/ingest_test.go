package media

import (
	"testing"
	"time"
)

// TestIngestSRTP: a leg keyed with SDES decrypts its packets in place
// before anything else looks at them; forged or plain packets fail
// authentication and are counted, replays are duplicates, and the audio
// is the plain stream's.
func TestIngestSRTP(t *testing.T) {
	p := testSRTPParams(t, "AES_CM_128_HMAC_SHA1_80", nil)
	h := newHarness(t, Config{})
	l := h.legAt("a", LegOptions{Source: testSrc, SRTP: &p})
	snd := newSRTPSender(t, p)
	at := func(i int) time.Time { return h.t0.Add(time.Duration(20*i) * time.Millisecond) }
	var last []byte
	for i := range 60 {
		pkt := snd.seal(rtpPacket(7, uint16(65500+i), uint32(160*i), 0, 0xFE, 160))
		last = append(last[:0], pkt...) // ingest decrypts in place
		h.r.ingest(l, pkt, testSrc, at(i))
		switch i {
		case 10: // a forged packet: the tag does not verify
			forged := snd.seal(rtpPacket(7, uint16(65500+i+1), uint32(160*(i+1)), 0, 0x80, 160))
			forged[len(forged)-1] ^= 1
			h.r.ingest(l, forged, testSrc, at(i))
		case 20: // plain RTP on an SRTP leg
			h.r.ingest(l, rtpPacket(7, uint16(65500+i+1), uint32(160*(i+1)), 0, 0x80, 160), testSrc, at(i))
		}
	}
	h.r.ingest(l, last, testSrc, at(60)) // a replay of the last packet
	res := h.stop()
	for i, v := range h.blocks() {
		if v != 8 {
			t.Fatalf("block %d = %d, want 8", i, v)
		}
	}
	if len(h.pcm) != 60*160 {
		t.Errorf("%d samples, want %d", len(h.pcm), 60*160)
	}
	if st := res.Legs[0]; st.AuthFailed != 2 || st.Duplicates != 1 || st.Late+st.Ignored+st.Concealed != 0 {
		t.Errorf("stats %+v: want 2 failing authentication, 1 duplicate", st)
	}
	if _, err := h.r.addLeg("b", nil, LegOptions{Codecs: testCodecs, SRTP: &SRTPParams{Suite: "NULL_CIPHER"}}); err == nil {
		t.Errorf("a leg with an unsupported SRTP suite was added")
	}
}
