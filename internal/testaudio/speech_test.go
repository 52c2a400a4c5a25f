package testaudio

import (
	"math"
	"slices"
	"testing"
)

func TestSpeechDeterministic(t *testing.T) {
	a, b, c := Speech(8000, 1), Speech(8000, 1), Speech(8000, 2)
	if !slices.Equal(a, b) {
		t.Errorf("two signals of seed 1 differ")
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 give the same signal")
	}
	if len(a) != 8000 || Speech(0, 1) != nil || Speech(-5, 1) != nil {
		t.Errorf("lengths: %d for 8000, %v for 0, %v for -5", len(a), Speech(0, 1), Speech(-5, 1))
	}
}

// TestSpeechLevelsAndPauses: the peak is 14000; words alternate with pauses
// of digital silence, at 3-5 syllables a second.
func TestSpeechLevelsAndPauses(t *testing.T) {
	const seconds = 20
	s := Speech(seconds*8000, 7)
	peak := 0
	for _, x := range s {
		peak = max(peak, int(x), -int(x))
	}
	if peak != speechPeak {
		t.Errorf("peak %d, want %d", peak, speechPeak)
	}
	silent, sounding := 0, 0
	onsets := 0 // syllable starts: the 5 ms envelope rises from near zero
	prev := 0.0
	for k := range len(s) / 40 {
		e := rms(s[k*40 : (k+1)*40])
		if e == 0 {
			silent++
		} else {
			sounding++
		}
		if prev < 100 && e >= 100 {
			onsets++
		}
		prev = e
	}
	if share := float64(silent) / float64(silent+sounding); share < 0.1 || share > 0.4 {
		t.Errorf("%.0f %% of the signal is silence, want pauses but mostly speech", 100*share)
	}
	if rate := float64(onsets) / seconds; rate < 2.5 || rate > 5 {
		t.Errorf("%.1f syllables a second, want 3-5 (less the pauses)", rate)
	}
}

// TestSpeechPitch: the loud parts are periodic with a fundamental of
// 100-250 Hz: their normalised autocorrelation peaks above 0.5 at a lag in
// that range (32-80 samples), higher than at any shorter lag (a higher
// fundamental).
func TestSpeechPitch(t *testing.T) {
	s := Speech(10*8000, 3)
	const frame = 320 // 40 ms
	loud, voiced := 0, 0
	for k := 0; k+frame+80 <= len(s); k += frame {
		if rms(s[k:k+frame]) < 2000 {
			continue
		}
		loud++
		inRange, shorter := 0.0, 0.0
		for lag := 4; lag <= int(8000/minF0); lag++ {
			c := normCorr(s[k:k+frame], s[k+lag:k+lag+frame])
			if lag < int(8000/maxF0) {
				shorter = max(shorter, c)
			} else {
				inRange = max(inRange, c)
			}
		}
		if inRange > 0.5 && inRange > shorter {
			voiced++
		}
	}
	if loud < 20 || float64(voiced) < 0.9*float64(loud) {
		t.Errorf("%d of %d loud frames periodic at 100-250 Hz, want 90 %% of at least 20", voiced, loud)
	}
}

func rms(s []int16) float64 {
	p := 0.0
	for _, x := range s {
		p += float64(x) * float64(x)
	}
	return math.Sqrt(p / float64(len(s)))
}

func normCorr(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
