package testaudio

import "math"

// Tone returns n samples of a sine at freq Hz, sampled at rate Hz, with
// the given peak amplitude (0-32767), starting at phase 0.
func Tone(freq float64, rate, n int, amplitude float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amplitude * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// Power returns the Goertzel power of freq in samples, normalised by the
// number of samples squared so that a full-scale sine gives about 0.25.
func Power(samples []int16, freq float64, rate int) float64 {
	if len(samples) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range samples {
		s := float64(x)/32768 + k*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	n := float64(len(samples))
	return p / (n * n)
}

// Deinterleave splits interleaved samples into channels.
func Deinterleave(samples []int16, channels int) [][]int16 {
	out := make([][]int16, channels)
	for c := range out {
		out[c] = make([]int16, 0, len(samples)/channels)
	}
	for i, s := range samples {
		out[i%channels] = append(out[i%channels], s)
	}
	return out
}
