package codec

import (
	"testing"

	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/sim/tone"
)

// TestEveryCallToneSurvivesG729 goes through all the tones ForCall
// gives: each must come out of the recorder's G.729 decoder as itself.
func TestEveryCallToneSurvivesG729(t *testing.T) {
	for i := range 8 {
		f1, f2 := tone.ForCall(i)
		for _, f := range []float64{f1, f2} {
			cycle := G729.Cycle(tone.Sine(f, tone.PacketSamples, tone.Amplitude), 50, 25)
			d, err := media.NewDecoder("G729", 8000)
			if err != nil {
				t.Fatal(err)
			}
			var audio []int16
			for range 3 {
				for _, p := range cycle {
					audio = d.Decode(audio, p)
				}
			}
			t.Logf("%v Hz: share %.2f presence %.2f", f, tone.Share(audio[8000:], f), tone.Presence(audio, f))
			if p := tone.Presence(audio, f); p < 0.95 {
				t.Errorf("%v Hz through G.729: present in %.0f%% of the windows", f, 100*p)
			}
		}
	}
}
