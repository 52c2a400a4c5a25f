package mp3

import (
	"math"
	"testing"
	"time"

	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/sim/tone"
)

// encode makes an MP3 the way the recorder does (its LAME settings, an
// ID3v2 tag in front).
func encode(t *testing.T, channels int, pcm []int16) []byte {
	t.Helper()
	enc, err := media.NewEncoder(channels, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	tag, err := media.Tags{RecordID: "2026000000001", Duration: 3 * time.Second}.ID3()
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte{}, tag...)
	b, err := enc.Encode(pcm)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, b...)
	b, err = enc.Flush()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, b...)
}

func TestDecodeMonoRecording(t *testing.T) {
	pcm := tone.Sine(600, 3*tone.Rate, tone.Amplitude)
	a, err := Decode(encode(t, 1, pcm))
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 8000 || len(a.Channels) != 1 {
		t.Fatalf("decoded %d Hz, %d channels; want 8000 Hz mono", a.Rate, len(a.Channels))
	}
	if math.Abs(a.Seconds()-3) > 0.3 {
		t.Errorf("decoded %.3f s, want about 3 (no Info frame: the encoder delay stays)", a.Seconds())
	}
	if p := tone.Presence(a.Channels[0], 600); p < 0.9 {
		t.Errorf("600 Hz in %.0f%% of the windows", 100*p)
	}
}

func TestDecodeStereoKeepsChannelsApart(t *testing.T) {
	l, r := tone.Sine(500, 2*tone.Rate, tone.Amplitude), tone.Sine(1300, 2*tone.Rate, tone.Amplitude)
	pcm := make([]int16, 0, 2*len(l))
	for i := range l {
		pcm = append(pcm, l[i], r[i])
	}
	a, err := Decode(encode(t, 2, pcm))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Channels) != 2 {
		t.Fatalf("%d channels, want 2", len(a.Channels))
	}
	if tone.Presence(a.Channels[0], 500) < 0.9 || tone.Presence(a.Channels[1], 1300) < 0.9 || tone.Presence(a.Channels[0], 1300) > 0.1 {
		t.Error("the channels' tones did not come back on their own sides")
	}
}

func TestDecodeRejectsWhatIsNotMP3(t *testing.T) {
	if _, err := Decode([]byte("not an mp3 file at all, just text")); err == nil {
		t.Error("text decoded")
	}
	if _, err := Decode([]byte("ID3\x03\x00\x00\x00\x00\x7f\x7f")); err == nil {
		t.Error("a tag without audio decoded")
	}
}
