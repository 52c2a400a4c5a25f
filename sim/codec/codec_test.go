package codec

import (
	"github.com/callvault/callvault/internal/g711"

	"bytes"
	"testing"

	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/sim/tone"
)

func TestG711RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		enc    func([]int16) []byte
		dec    func([]byte) []int16
		maxErr int
	}{
		{"ulaw", g711.EncodeUlaw, g711.DecodeUlaw, 1024},
		{"alaw", g711.EncodeAlaw, g711.DecodeAlaw, 1024},
	} {
		in := []int16{0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32767, -32768}
		out := tc.dec(tc.enc(in))
		for i, s := range in {
			d := int(out[i]) - int(s)
			if d < -tc.maxErr || d > tc.maxErr || (s > 200 && out[i] <= 0) || (s < -200 && out[i] >= 0) {
				t.Errorf("%s: %d came back as %d", tc.name, s, out[i])
			}
		}
	}
}

// TestG711MatchesTheRecorder: the recorder's own decoder reads our
// payloads as the samples we encoded (within G.711's step).
func TestG711MatchesTheRecorder(t *testing.T) {
	pcm := tone.Sine(700, tone.PacketSamples, tone.Amplitude)
	for _, c := range []Codec{PCMU, PCMA} {
		d, err := media.NewDecoder(c.Name, 8000)
		if err != nil {
			t.Fatal(err)
		}
		got := d.Decode(nil, c.Cycle(pcm, 1, 0)[0])
		for i := range pcm {
			if diff := int(got[i]) - int(pcm[i]); diff < -600 || diff > 600 {
				t.Fatalf("%s: sample %d: sent %d, the recorder decodes %d", c.Name, i, pcm[i], got[i])
			}
		}
	}
}

func TestCycleOfEachCodecKeepsItsTone(t *testing.T) {
	pcm := tone.Sine(650, tone.PacketSamples, tone.Amplitude)
	for _, c := range []Codec{PCMU, PCMA, G729} {
		cycle := c.Cycle(pcm, 50, 25)
		if len(cycle) != 50 {
			t.Fatalf("%s: %d payloads, want 50", c.Name, len(cycle))
		}
		d, err := media.NewDecoder(c.Name, 8000)
		if err != nil {
			t.Fatal(err)
		}
		var audio []int16
		for range 2 { // the loop's seam included
			for _, p := range cycle {
				audio = d.Decode(audio, p)
			}
		}
		if c.Name == "G729" && len(cycle[0]) != G729Bytes {
			t.Errorf("G729 payload of %d bytes, want %d", len(cycle[0]), G729Bytes)
		}
		if p := tone.Presence(audio, 650); p < 0.95 {
			t.Errorf("%s: 650 Hz present in %.0f%% of the windows, want nearly all", c.Name, 100*p)
		}
	}
}

func TestG711CycleIsOnePacketRepeated(t *testing.T) {
	pcm := tone.Sine(400, tone.PacketSamples, tone.Amplitude)
	c := PCMU.Cycle(pcm, 3, 0)
	if !bytes.Equal(c[0], c[2]) || len(c[0]) != tone.PacketSamples {
		t.Error("G.711 payloads of a periodic tone differ or are not 160 bytes")
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{"pcmu": "PCMU", "PCMA": "PCMA", "g729": "G729"} {
		c, err := Parse(in)
		if err != nil || c.Name != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", in, c.Name, err, want)
		}
	}
	if _, err := Parse("opus"); err == nil {
		t.Error("Parse(opus) succeeded")
	}
}
