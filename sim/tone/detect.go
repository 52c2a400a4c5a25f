package tone

// Window is the length of the windows Presence looks at: 100 ms, long
// enough to resolve 10 Hz, short enough to see a gap.
const Window = Rate / 10

// MinShare is the share of a window's power a tone must have to count as
// present there. A leg alone gives about 1, two legs mixed at the same
// level about 1/2 each; codec and MP3 noise take a little.
const MinShare = 0.15

// Presence returns the fraction of the whole Windows of samples in which
// freq holds at least MinShare of the power, 0 when there is no whole
// window.
func Presence(samples []int16, freq float64) float64 {
	windows := len(samples) / Window
	if windows == 0 {
		return 0
	}
	found := 0
	for w := range windows {
		if Share(samples[w*Window:(w+1)*Window], freq) >= MinShare {
			found++
		}
	}
	return float64(found) / float64(windows)
}
