package testaudio

import (
	"math"
	"math/rand/v2"
)

// The speech-like signal: voiced syllables of a talker whose pitch moves
// and whose vowels change, grouped into words separated by pauses. Every
// number below is a property of ordinary speech at 8 kHz.
const (
	speechRate   = 8000
	speechPeak   = 14000        // peak amplitude, about -7 dBFS, clear of G.711 and G.729 clipping
	minF0, maxF0 = 100.0, 250.0 // Hz, the fundamental's range
	maxHarmonic  = 3600.0       // Hz: harmonics stop below the 4 kHz Nyquist limit
	minSyllable  = 0.2          // s: 3-5 syllables a second
	maxSyllable  = 0.33
	minPause     = 0.15 // s, between words
	maxPause     = 0.45
	onsetNoise   = 0.04 // s of fricative-like noise at the start of some syllables
)

// vowel is a set of three formants (Hz) with their bandwidths (Hz).
type vowel struct{ f, bw [3]float64 }

// vowels are textbook formants of /a/, /e/, /i/, /o/, /u/.
var vowels = []vowel{
	{[3]float64{730, 1090, 2440}, [3]float64{90, 110, 170}},
	{[3]float64{530, 1840, 2480}, [3]float64{80, 110, 160}},
	{[3]float64{270, 2290, 3010}, [3]float64{60, 100, 170}},
	{[3]float64{570, 840, 2410}, [3]float64{80, 100, 160}},
	{[3]float64{300, 870, 2240}, [3]float64{60, 90, 150}},
}

// Speech returns n samples at 8 kHz of a deterministic speech-like signal:
// words of 1-4 syllables separated by pauses of 150-450 ms of digital
// silence. A syllable lasts 200-330 ms (3-5 a second) under a raised-sine
// envelope; it is voiced, a sum of the harmonics below 3.6 kHz of a
// fundamental that glides within 100-250 Hz (all in phase, like glottal
// pulses), shaped by the three formants of a vowel that turns into the next
// one over the syllable and by a falling spectral tilt; a third of the
// syllables open with 40 ms of noise, like a fricative. The peak is 14000
// (about -7 dBFS). The same seed gives the same signal; another seed, another
// talker and other words. It needs no tools, so every test can make it.
func Speech(n int, seed uint64) []int16 {
	if n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eec4))
	between := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	out := make([]float64, n)
	pos := int(between(0.05, 0.2) * speechRate) // a breath before the first word
	phase := 0.0
	v := vowels[rng.IntN(len(vowels))]
	for pos < n {
		for range 1 + rng.IntN(4) {
			next := vowels[rng.IntN(len(vowels))]
			length := int(between(minSyllable, maxSyllable) * speechRate)
			f0a, f0b := between(minF0, maxF0), between(minF0, maxF0)
			noise := 0
			if rng.IntN(3) == 0 {
				noise = int(onsetNoise * speechRate)
			}
			phase = syllable(out, pos, length, noise, phase, f0a, f0b, v, next, rng)
			pos += length
			v = next
		}
		pos += int(between(minPause, maxPause) * speechRate)
	}
	return normalize(out, speechPeak)
}

// syllable adds one syllable of length samples at pos to out (clipped to
// out's end) and returns the fundamental's phase after it, so the next
// syllable's pitch carries on. Its first noise samples carry fricative-like
// noise as well.
func syllable(out []float64, pos, length, noise int, phase, f0a, f0b float64, from, to vowel, rng *rand.Rand) float64 {
	var amp [64]float64 // per harmonic, recomputed every 5 ms
	for i := range length {
		if pos+i >= len(out) {
			break
		}
		x := float64(i) / float64(length)
		f0 := f0a + (f0b-f0a)*x
		phase = math.Mod(phase+2*math.Pi*f0/speechRate, 2*math.Pi)
		k := min(int(maxHarmonic/f0), len(amp))
		if i%40 == 0 {
			harmonicGains(amp[:k], f0, lerpVowel(from, to, x))
		}
		s := 0.0
		for h := range k {
			s += amp[h] * math.Sin(float64(h+1)*phase)
		}
		if i < noise {
			s += 0.3 * (2*rng.Float64() - 1) * (1 - float64(i)/float64(noise))
		}
		env := math.Sin(math.Pi * x)
		out[pos+i] += s * env * env
	}
	return phase
}

// harmonicGains sets gains[h] for harmonic h+1 of f0: the sum of the
// vowel's formant resonances at its frequency, with a tilt of -6 dB per
// octave, as the glottal source has.
func harmonicGains(gains []float64, f0 float64, v vowel) {
	for h := range gains {
		f := float64(h+1) * f0
		g := 0.0
		for j := range v.f {
			d := (f - v.f[j]) / v.bw[j]
			g += 1 / (1 + d*d)
		}
		gains[h] = (0.05 + g) / float64(h+1)
	}
}

// lerpVowel moves from a to b by x (0-1).
func lerpVowel(a, b vowel, x float64) vowel {
	var v vowel
	for j := range v.f {
		v.f[j] = a.f[j] + (b.f[j]-a.f[j])*x
		v.bw[j] = a.bw[j] + (b.bw[j]-a.bw[j])*x
	}
	return v
}

// normalize scales x so that its largest magnitude is peak and rounds it to
// samples; all-zero input stays zero.
func normalize(x []float64, peak float64) []int16 {
	m := 0.0
	for _, s := range x {
		m = max(m, math.Abs(s))
	}
	out := make([]int16, len(x))
	if m == 0 {
		return out
	}
	for i, s := range x {
		out[i] = int16(math.Round(s * peak / m))
	}
	return out
}
