package testaudio

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
)

// How Compare scores audio: the method is in its doc comment.
const (
	// MaxLag is how far, in samples, Align looks either way: 500 ms at
	// 8 kHz.
	MaxLag = 4000
	// SegmentSamples is the length of one segmental-SNR segment: 20 ms.
	SegmentSamples = 160
	// MaxSegSNR and MinSegSNR clamp each segment's SNR (dB): a segment the
	// recording reproduces exactly scores MaxSegSNR, not infinity, and a
	// lost one MinSegSNR at worst, so a few segments cannot dominate the
	// mean.
	MaxSegSNR = 35.0
	MinSegSNR = -10.0
	// SilenceDB: a reference segment whose power is more than this many dB
	// below the reference's loudest segment is silence and is not scored.
	SilenceDB = 40.0
)

// Score is how closely recorded audio matches a reference.
type Score struct {
	// Lag is the alignment: recorded sample Lag+i is reference sample i.
	Lag int
	// SegSNR is the segmental SNR in dB: the mean over the scored segments
	// of each one's SNR, clamped to [MinSegSNR, MaxSegSNR].
	SegSNR float64
	// Segments were scored; Silent were not (reference silence).
	Segments, Silent int
}

// String reads a score for a test log: the SNR, the segments and the lag.
func (s Score) String() string {
	return fmt.Sprintf("segmental SNR %.1f dB over %d segments (lag %d samples)", s.SegSNR, s.Segments, s.Lag)
}

// Compare scores got against ref, both 8 kHz mono: it aligns them with
// Align, then computes the segmental SNR of got against ref over ref's
// 20 ms segments. Each segment's SNR is 10·log10(Σref² / Σ(ref-got)²),
// clamped to [MinSegSNR, MaxSegSNR] dB; reference segments more than
// SilenceDB below the loudest one are silence and are left out, so pauses
// neither help nor hurt. Samples of got outside its length count as zero:
// audio missing from the recording is an error like any other. It fails
// when ref has no segment that is not silence.
func Compare(ref, got []int16) (Score, error) {
	lag, err := Align(ref, got)
	if err != nil {
		return Score{}, err
	}
	s, err := SegSNR(ref, got, lag)
	s.Lag = lag
	return s, err
}

// SegSNR computes the segmental SNR of got against ref when got's sample
// lag+i is ref's sample i (see Compare for the method). Score.Lag is left
// zero.
func SegSNR(ref, got []int16, lag int) (Score, error) {
	segs := len(ref) / SegmentSamples
	power := make([]float64, segs)
	loudest := 0.0
	for k := range power {
		for _, r := range ref[k*SegmentSamples : (k+1)*SegmentSamples] {
			power[k] += float64(r) * float64(r)
		}
		loudest = max(loudest, power[k])
	}
	if loudest == 0 {
		return Score{}, errors.New("segmental SNR: the reference is silent (or shorter than one 20 ms segment)")
	}
	floor := loudest * math.Pow(10, -SilenceDB/10)
	var s Score
	sum := 0.0
	for k, p := range power {
		if p <= floor {
			s.Silent++
			continue
		}
		noise := 0.0
		for i := k * SegmentSamples; i < (k+1)*SegmentSamples; i++ {
			d := float64(ref[i]) - float64(sampleAt(got, i+lag))
			noise += d * d
		}
		snr := MaxSegSNR
		if noise > 0 {
			snr = min(MaxSegSNR, max(MinSegSNR, 10*math.Log10(p/noise)))
		}
		sum += snr
		s.Segments++
	}
	s.SegSNR = sum / float64(s.Segments)
	return s, nil
}

// Align returns the lag in [-MaxLag, MaxLag] that maximises the
// cross-correlation Σ ref[i]·got[i+lag], computed for every lag at once
// through the FFT. It fails when either signal is empty or all zero.
func Align(ref, got []int16) (int, error) {
	if !nonZero(ref) || !nonZero(got) {
		return 0, errors.New("align: a signal is empty or silent, there is nothing to align")
	}
	n := 1
	for n < len(ref)+len(got) {
		n <<= 1 // no circular wrap-around between the lags searched
	}
	a, b := make([]complex128, n), make([]complex128, n)
	for i, x := range ref {
		a[i] = complex(float64(x), 0)
	}
	for i, x := range got {
		b[i] = complex(float64(x), 0)
	}
	tw := twiddles(n)
	fft(a, tw)
	fft(b, tw)
	for i := range a {
		a[i] = cmplx.Conj(a[i]) * b[i]
	}
	// The inverse transform through the forward one: conj(FFT(conj(x))).
	for i := range a {
		a[i] = cmplx.Conj(a[i])
	}
	fft(a, tw)
	best, bestLag := math.Inf(-1), 0
	for lag := -MaxLag; lag <= MaxLag; lag++ {
		// Index lag mod n holds Σ ref[i]·got[i+lag] (times n, conjugated:
		// both irrelevant to the argmax of a real sum).
		if c := real(a[(lag%n+n)%n]); c > best {
			best, bestLag = c, lag
		}
	}
	return bestLag, nil
}

// sampleAt is s[i], or 0 outside s.
func sampleAt(s []int16, i int) int16 {
	if i < 0 || i >= len(s) {
		return 0
	}
	return s[i]
}

func nonZero(s []int16) bool {
	for _, x := range s {
		if x != 0 {
			return true
		}
	}
	return false
}

// twiddles returns exp(-2πik/n) for k < n/2, computed directly rather than
// by repeated multiplication so that rounding does not accumulate.
func twiddles(n int) []complex128 {
	tw := make([]complex128, n/2)
	for k := range tw {
		tw[k] = cmplx.Rect(1, -2*math.Pi*float64(k)/float64(n))
	}
	return tw
}

// fft transforms a in place (radix 2, decimation in time); len(a) is a
// power of two and tw = twiddles(len(a)).
func fft(a []complex128, tw []complex128) {
	n := len(a)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			a[i], a[j] = a[j], a[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				u, v := a[start+k], a[start+k+half]*tw[k*step]
				a[start+k], a[start+k+half] = u+v, u-v
			}
		}
	}
}
