// Package tone makes the simulator's known signals and finds them again:
// a sine of its own frequency on each leg of a call, and a Goertzel filter
// that tells, window by window, whether a decoded recording still carries
// it. Everything here is pure: no clock, no I/O.
package tone

import "math"

// Rate is the sample rate of every signal here (narrowband telephony).
const Rate = 8000

// PacketSamples is 20 ms of audio, one RTP packet.
const PacketSamples = Rate / 50

// Amplitude is the peak of the generated sines: about -6 dBFS, loud
// enough to survive the codecs and the MP3 and far from clipping when the
// recorder mixes two legs.
const Amplitude = 16000

// leg1Tones and leg2Tones are the tones calls take in turn. Each is a
// multiple of 50 Hz, so it fits a whole number of periods in a 20 ms
// packet and one packet of samples repeats for ever; none of leg 2's is a
// harmonic of its call's leg 1; and each keeps over 90 % of its power
// through G.729A (which turns 1100 Hz or 1700 Hz, say, into a smear).
var (
	leg1Tones = [8]float64{350, 450, 500, 550, 600, 650, 700, 750}
	leg2Tones = [8]float64{1000, 1150, 1300, 1350, 1450, 1550, 1600, 1750}
)

// ForCall returns the tones of call i's two legs; they repeat every 8
// calls.
func ForCall(i int) (leg1, leg2 float64) {
	return leg1Tones[i%8], leg2Tones[i%8]
}

// Sine returns n samples of a sine at freq Hz and Rate, with peak
// amplitude amp, from phase 0.
func Sine(freq float64, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/Rate)))
	}
	return out
}

// Power is the Goertzel power of freq in samples, normalised so that a
// sine of peak amplitude A (as a fraction of full scale) gives A²/4.
func Power(samples []int16, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/Rate)
	var s1, s2 float64
	for _, x := range samples {
		s := float64(x)/32768 + k*s1 - s2
		s2, s1 = s1, s
	}
	n := float64(len(samples))
	return (s1*s1 + s2*s2 - k*s1*s2) / (n * n)
}

// meanSquare is the mean power of samples (a full-scale sine gives 1/2).
func meanSquare(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		f := float64(x) / 32768
		sum += f * f
	}
	return sum / float64(len(samples))
}

// Share is the part of the power of samples that lies at freq, 0 to about
// 1: a pure sine gives 1, an equal mix of two sines 1/2 each, silence 0.
func Share(samples []int16, freq float64) float64 {
	ms := meanSquare(samples)
	if ms < silenceFloor {
		return 0
	}
	return 2 * Power(samples, freq) / ms
}

// silenceFloor is the mean power below which a window counts as silence
// (about -60 dBFS), where no tone is present whatever its share.
const silenceFloor = 1e-6
