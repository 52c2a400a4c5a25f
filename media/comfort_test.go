package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/callvault/callvault/internal/testaudio"
)

// TestComfortNoiseFillsTime: a leg that talks for a second and then sends
// comfort noise (PT 13, or the offered CN payload type) every 20 ms until
// the end is recorded for its whole length, the CN part as silence; a
// lone CN packet at the end counts as one packet of silence.
func TestComfortNoiseFillsTime(t *testing.T) {
	for _, c := range []struct {
		name   string
		pt     uint8
		codecs map[uint8]string
		cn     int // CN packets sent after the speech
	}{
		{"PT 13 unlisted", 13, map[uint8]string{0: "PCMU"}, 50},
		{"offered PT 19", 19, map[uint8]string{0: "PCMU", 19: "CN"}, 50},
		{"one CN packet", 13, map[uint8]string{0: "PCMU", 13: "CN"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			l := h.legAt("a", LegOptions{Codecs: c.codecs})
			const speech = 50
			for i := range speech {
				h.send(l, 1, uint16(i), uint32(160*i), 0xFE, 20*i)
			}
			for i := speech; i < speech+c.cn; i++ {
				h.r.ingest(l, rtpPacket(1, uint16(i), uint32(160*i), c.pt, 0x40, 1), testSrc, h.t0.Add(time.Duration(20*i)*time.Millisecond))
			}
			res := h.stop()
			if want := int64(160 * (speech + c.cn)); res.Samples != want {
				t.Errorf("%d samples, want %d", res.Samples, want)
			}
			for i, v := range h.blocks() {
				if want := int16(8 * min(1, max(0, speech-i))); v != want {
					t.Fatalf("block %d = %d, want %d", i, v, want)
				}
			}
			if st := res.Legs[0]; st.CN != uint64(c.cn) || st.Ignored+st.Concealed != 0 {
				t.Errorf("stats %+v, want %d CN", st, c.cn)
			}
		})
	}
}

// rtpWith marshals an RTP packet with payload.
func rtpWith(ssrc uint32, seq uint16, ts uint32, pt uint8, payload []byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// TestTelephoneEventIsNotAudio: RFC 4733 events in the stream (sharing
// its sequence numbers) are counted, never decoded or kept, and their
// sequence numbers are no loss: a G.729 leg that pauses its audio while a
// digit plays has silence there, not concealment.
func TestTelephoneEventIsNotAudio(t *testing.T) {
	h := newHarness(t, Config{})
	l := h.legAt("a", LegOptions{Codecs: map[uint8]string{18: "G729", 101: "telephone-event"}})
	frames := testaudio.EncodeG729(testaudio.Tone(500, sampleRate, 100*160, 8000))
	seq := uint16(0)
	for i := range 100 {
		seq++
		at := h.t0.Add(time.Duration(20*i) * time.Millisecond)
		if i >= 40 && i < 50 { // audio paused: the digit 5 plays for 200 ms
			ev := []byte{5, 0x0A, byte(160 * (i - 39) >> 8), byte(160 * (i - 39))}
			h.r.ingest(l, rtpWith(1, seq, uint32(160*40), 101, ev), testSrc, at)
			continue
		}
		h.r.ingest(l, rtpWith(1, seq, uint32(160*i), 18, frames[20*i:20*(i+1)]), testSrc, at)
	}
	res := h.stop()
	if len(h.pcm) != 100*160 {
		t.Fatalf("%d samples, want %d", len(h.pcm), 100*160)
	}
	for i, v := range h.pcm[40*160 : 50*160] {
		if v != 0 {
			t.Fatalf("sample %d of the digit's time = %d, want silence", 40*160+i, v)
		}
	}
	if p := testaudio.Power(h.pcm[60*160:], 500, sampleRate); p < 0.01 {
		t.Errorf("500 Hz power after the digit %.4f: the audio is gone", p)
	}
	if st := res.Legs[0]; st.Ignored != 10 || st.Concealed != 0 || st.Late != 0 {
		t.Errorf("stats %+v: want 10 events ignored, nothing concealed", st)
	}
}
