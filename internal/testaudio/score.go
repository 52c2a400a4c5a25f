package testaudio

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"slices"
)

// How Compare scores audio: the method is in its doc comment.
const (
	// MaxLag is how far, in samples, Align looks either way: 500 ms at
	// 8 kHz.
	MaxLag = 4000
	// SegmentSamples is the length of one segmental-SNR segment: 20 ms.
	SegmentSamples = 160
	// BlockSamples is the stretch of the reference that Compare aligns on
	// its own, within MaxDrift of the whole signal's lag: 300 ms, 15
	// segments.
	BlockSamples = 2400
	// MaxDrift is how far, in samples, a block's lag may stray from the
	// whole signal's: 20 ms, one packet.
	MaxDrift = 160
	// MaxSegSNR and MinSegSNR clamp each segment's SNR (dB): a segment the
	// recording reproduces exactly scores MaxSegSNR, not infinity, and a
	// lost one MinSegSNR at worst, so a few segments cannot dominate the
	// mean.
	MaxSegSNR = 35.0
	MinSegSNR = -10.0
	// driftSNR: a segment that scores this well matches the reference at
	// its lag, and counts for Score.Drift.
	driftSNR = 20.0
	// SilenceDB: a reference segment whose power is more than this many dB
	// below the reference's loudest segment is silence and is not scored.
	SilenceDB = 40.0
)

// Score is how closely recorded audio matches a reference.
type Score struct {
	// Lag is the alignment of the whole signal: recorded sample Lag+i is
	// reference sample i.
	Lag int
	// Drift is the largest distance, in samples, from Lag of the lag at
	// which a segment matched (scored 20 dB or better): how far the
	// recording moved the audio during the call.
	Drift int
	// SegSNR is the segmental SNR in dB: the mean over the scored segments
	// of each one's SNR, clamped to [MinSegSNR, MaxSegSNR].
	SegSNR float64
	// Segments were scored; Silent were not (reference silence).
	Segments, Silent int
	// Seconds is the mean SNR of the scored segments of each whole or
	// partial second of the reference, NaN for a second of silence: where a
	// recording went wrong.
	Seconds []float64
}

// String reads a score for a test log: the SNR, the segments, the lag and
// the drift.
func (s Score) String() string {
	return fmt.Sprintf("segmental SNR %.1f dB over %d segments (lag %d, drift %d samples)", s.SegSNR, s.Segments, s.Lag, s.Drift)
}

// Compare scores got against ref, both 8 kHz mono.
//
// Alignment: Align finds the lag of the whole signal (±500 ms). A recorder
// may move a leg by a few samples during a call (refining its estimate of
// the network delay), which would make every segment on one side of the
// move look damaged. So each 300 ms block of ref is aligned on its own, at
// the lag within MaxDrift (20 ms) of the whole signal's that leaves the
// least error (a silent block keeps the previous block's lag), and each
// segment is scored at the lag of its block or of a neighbouring block,
// whichever fits it best. Lost, garbled or foreign audio matches at no lag
// and still scores low; Score.Drift tells how far the audio strayed.
//
// Score: the segmental SNR of got against ref over ref's 20 ms segments.
// Each segment's SNR is 10·log10(Σref² / Σ(ref-got)²), clamped to
// [MinSegSNR, MaxSegSNR] dB; reference segments more than SilenceDB below
// the loudest one are silence and are left out, so pauses neither help nor
// hurt. Samples of got outside its length count as zero: audio missing from
// the recording is an error like any other. It fails when either signal is
// silent or ref is shorter than one segment.
func Compare(ref, got []int16) (Score, error) {
	lag, err := Align(ref, got)
	if err != nil {
		return Score{}, err
	}
	p, err := segmentPowers(ref)
	if err != nil {
		return Score{}, err
	}
	const segsPerBlock = BlockSamples / SegmentSamples
	blocks := make([]int, (len(p.power)+segsPerBlock-1)/segsPerBlock)
	prev := lag
	for b := range blocks {
		first, last := b*segsPerBlock, min((b+1)*segsPerBlock, len(p.power))
		if slices.ContainsFunc(p.power[first:last], p.speaks) {
			prev = bestLag(ref[first*SegmentSamples:last*SegmentSamples], got, first*SegmentSamples, lag)
		}
		blocks[b] = prev
	}
	// A segment takes the lag of its block or of a neighbouring one,
	// whichever fits it best: a move inside a block then costs at most the
	// segment it falls in.
	lags := make([]int, len(p.power))
	for k := range lags {
		b, at := k/segsPerBlock, k*SegmentSamples
		seg := ref[at : at+SegmentSamples]
		lags[k] = blocks[b]
		least := energy(seg, got, at+lags[k], math.Inf(1))
		for _, n := range [2]int{b - 1, b + 1} {
			if n < 0 || n == len(blocks) {
				continue
			}
			if e := energy(seg, got, at+blocks[n], least); e < least {
				lags[k], least = blocks[n], e
			}
		}
	}
	return p.score(ref, got, lag, func(k int) int { return lags[k] }), nil
}

// SegSNR computes the segmental SNR of got against ref when got's sample
// lag+i is ref's sample i throughout: Compare's score with the alignment
// given and no drift.
func SegSNR(ref, got []int16, lag int) (Score, error) {
	p, err := segmentPowers(ref)
	if err != nil {
		return Score{}, err
	}
	return p.score(ref, got, lag, func(int) int { return lag }), nil
}

// powers holds the power of each 20 ms segment of a reference and the
// floor at or below which a segment is silence.
type powers struct {
	power []float64
	floor float64
}

func segmentPowers(ref []int16) (powers, error) {
	p := powers{power: make([]float64, len(ref)/SegmentSamples)}
	loudest := 0.0
	for k := range p.power {
		p.power[k] = energy(ref[k*SegmentSamples:(k+1)*SegmentSamples], nil, 0, math.Inf(1))
		loudest = max(loudest, p.power[k])
	}
	if loudest == 0 {
		return powers{}, errors.New("segmental SNR: the reference is silent (or shorter than one 20 ms segment)")
	}
	p.floor = loudest * math.Pow(10, -SilenceDB/10)
	return p, nil
}

// speaks reports whether a segment of that power is scored.
func (p powers) speaks(power float64) bool { return power > p.floor }

// score scores each segment k that is not silence against got at lagOf(k);
// lag is the whole signal's, from which Drift is measured over the segments
// that match (driftSNR or better).
func (p powers) score(ref, got []int16, lag int, lagOf func(k int) int) Score {
	const segsPerSecond = 8000 / SegmentSamples
	s := Score{Lag: lag}
	var total, second float64
	inSecond := 0
	for k, power := range p.power {
		if p.speaks(power) {
			snr := MaxSegSNR
			if noise := energy(ref[k*SegmentSamples:(k+1)*SegmentSamples], got, k*SegmentSamples+lagOf(k), math.Inf(1)); noise > 0 {
				snr = min(MaxSegSNR, max(MinSegSNR, 10*math.Log10(power/noise)))
			}
			if l := lagOf(k); snr >= driftSNR {
				s.Drift = max(s.Drift, l-lag, lag-l)
			}
			total += snr
			second += snr
			inSecond++
			s.Segments++
		} else {
			s.Silent++
		}
		if (k+1)%segsPerSecond == 0 || k == len(p.power)-1 {
			s.Seconds = append(s.Seconds, second/float64(inSecond)) // 0/0: NaN, silence
			second, inSecond = 0, 0
		}
	}
	s.SegSNR = total / float64(s.Segments)
	return s
}

// bestLag returns the lag within MaxDrift of lag at which got, from its
// sample at+lag on, differs least from block; lag itself wins ties.
func bestLag(block, got []int16, at, lag int) int {
	best, least := lag, energy(block, got, at+lag, math.Inf(1))
	for l := lag - MaxDrift; l <= lag+MaxDrift && least > 0; l++ {
		if e := energy(block, got, at+l, least); e < least {
			best, least = l, e
		}
	}
	return best
}

// energy returns Σ(ref[i] - got[from+i])², samples outside got taken as
// zero (with got nil, the energy of ref), or, as soon as the sum passes
// limit, a partial sum above limit.
func energy(ref, got []int16, from int, limit float64) float64 {
	lo := min(max(0, -from), len(ref))          // ref[:lo] falls before got
	hi := max(lo, min(len(ref), len(got)-from)) // ref[hi:] falls after it
	e := 0.0
	for _, r := range ref[:lo] {
		e += float64(r) * float64(r)
	}
	if hi > lo {
		in := got[from+lo : from+hi]
		for i, r := range ref[lo:hi] {
			d := float64(r) - float64(in[i])
			if e += d * d; e > limit && i%SegmentSamples == 0 {
				return e
			}
		}
	}
	for _, r := range ref[hi:] {
		e += float64(r) * float64(r)
	}
	return e
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

// nonZero reports whether s has a sample that is not zero.
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
