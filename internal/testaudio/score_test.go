package testaudio

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

const scoreSamples = 6 * 8000

func TestCompareIdentical(t *testing.T) {
	ref := Speech(scoreSamples, 1)
	s, err := Compare(ref, slices.Clone(ref))
	if err != nil {
		t.Fatal(err)
	}
	if s.Lag != 0 || s.SegSNR != MaxSegSNR {
		t.Errorf("identical signals: %v, want lag 0 and %v dB", s, MaxSegSNR)
	}
	if s.Segments == 0 || s.Silent == 0 || s.Segments+s.Silent != scoreSamples/SegmentSamples {
		t.Errorf("segments %d scored + %d silent, want both > 0 and %d in all", s.Segments, s.Silent, scoreSamples/SegmentSamples)
	}
}

// TestCompareFindsShift: a recording that starts early or late (within
// 500 ms) is aligned to the sample and scores as identical.
func TestCompareFindsShift(t *testing.T) {
	ref := Speech(scoreSamples, 2)
	for _, shift := range []int{-MaxLag, -1234, -1, 1, 77, 1105, MaxLag} {
		var got []int16
		if shift >= 0 {
			got = append(make([]int16, shift), ref...)
		} else {
			got = slices.Clone(ref[-shift:])
		}
		s, err := Compare(ref, got)
		if err != nil {
			t.Fatal(err)
		}
		// The part shifted out of a late start is missing: at most 500 ms
		// of the reference, some of it silence.
		if s.Lag != shift || (shift >= 0 && s.SegSNR != MaxSegSNR) || s.SegSNR < 25 {
			t.Errorf("shift %d: %v, want the lag found exactly and a perfect score where the audio is there", shift, s)
		}
	}
}

func TestCompareNoiseScoresLow(t *testing.T) {
	ref := Speech(scoreSamples, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	noise := make([]int16, len(ref))
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	s, err := Compare(ref, noise)
	if err != nil {
		t.Fatal(err)
	}
	if s.SegSNR > 0 {
		t.Errorf("noise against speech: %v, want below 0 dB", s)
	}
}

// TestSegSNRKnownValues: a gain error of 10 % is 20 dB everywhere; an
// inverted signal 4 times as loud is clamped to MinSegSNR; one segment lost out of
// N scores 0 dB and pulls the mean to (35·(N-1)+0)/N.
func TestSegSNRKnownValues(t *testing.T) {
	ref := Speech(scoreSamples, 4)
	scaled := func(g float64) []int16 {
		out := make([]int16, len(ref))
		for i, x := range ref {
			out[i] = int16(math.Round(float64(x) * g))
		}
		return out
	}
	if s, _ := SegSNR(ref, scaled(1.1), 0); math.Abs(s.SegSNR-20) > 0.2 {
		t.Errorf("10 %% louder: %v, want 20 dB", s)
	}
	if s, _ := SegSNR(scaled(0.25), scaled(-1), 0); s.SegSNR != MinSegSNR {
		t.Errorf("inverted and 4 times as loud: %v, want %v dB", s, MinSegSNR)
	}
	full, _ := SegSNR(ref, ref, 0)
	lost := slices.Clone(ref)
	k := loudestSegment(ref)
	clear(lost[k*SegmentSamples : (k+1)*SegmentSamples])
	s, err := SegSNR(ref, lost, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := float64(full.Segments)
	if want := MaxSegSNR * (n - 1) / n; math.Abs(s.SegSNR-want) > 1e-9 {
		t.Errorf("one segment lost: %v, want %.4f dB", s, want)
	}
}

// TestSegSNRSkipsSilence: noise where the reference is silent is not
// scored; noise where it speaks is.
func TestSegSNRSkipsSilence(t *testing.T) {
	ref := Speech(scoreSamples, 5)
	inPauses, inSpeech := slices.Clone(ref), slices.Clone(ref)
	for k := range len(ref) / SegmentSamples {
		seg := ref[k*SegmentSamples : (k+1)*SegmentSamples]
		target := inSpeech
		if !nonZero(seg) {
			target = inPauses
		}
		for i := k * SegmentSamples; i < (k+1)*SegmentSamples; i += 2 {
			target[i] += 500
		}
	}
	if s, _ := SegSNR(ref, inPauses, 0); s.SegSNR != MaxSegSNR {
		t.Errorf("noise in the pauses only: %v, want %v dB", s, MaxSegSNR)
	}
	if s, _ := SegSNR(ref, inSpeech, 0); s.SegSNR >= MaxSegSNR {
		t.Errorf("noise during speech: %v, want below %v dB", s, MaxSegSNR)
	}
}

func TestCompareRefusesSilence(t *testing.T) {
	ref := Speech(scoreSamples, 6)
	for _, c := range []struct {
		name     string
		ref, got []int16
	}{
		{"silent reference", make([]int16, 8000), ref},
		{"empty reference", nil, ref},
		{"silent recording", ref, make([]int16, len(ref))},
		{"empty recording", ref, nil},
		{"reference shorter than a segment", ref[:100], ref},
	} {
		if s, err := Compare(c.ref, c.got); err == nil {
			t.Errorf("%s: %v, want an error", c.name, s)
		}
	}
}

func loudestSegment(s []int16) int {
	best, k := 0.0, 0
	for i := range len(s) / SegmentSamples {
		p := 0.0
		for _, x := range s[i*SegmentSamples : (i+1)*SegmentSamples] {
			p += float64(x) * float64(x)
		}
		if p > best {
			best, k = p, i
		}
	}
	return k
}

// TestCompareFollowsDrift: a recording that moves the audio 5 samples
// later at 3 s scores as identical when the move falls between two blocks,
// nearly so inside one; the strict score at one lag would call most of it
// damaged. A move beyond MaxDrift is not followed.
func TestCompareFollowsDrift(t *testing.T) {
	ref := Speech(scoreSamples, 9)
	moved := func(at, by int) []int16 {
		return slices.Concat(ref[:at], make([]int16, by), ref[at:])
	}
	s, err := Compare(ref, moved(12*BlockSamples, 5))
	if err != nil {
		t.Fatal(err)
	}
	if s.SegSNR != MaxSegSNR || s.Drift != 5 || s.Lag != 0 && s.Lag != 5 {
		t.Errorf("moved by 5 between blocks: %v, want %v dB and a drift of 5", s, MaxSegSNR)
	}
	s, _ = Compare(ref, moved(12*BlockSamples+700, 5))
	strict, _ := SegSNR(ref, moved(12*BlockSamples+700, 5), s.Lag)
	if s.SegSNR < 30 || s.Drift != 5 || strict.SegSNR > 25 {
		t.Errorf("moved by 5 inside a block: %v, strict %v; want above 30 dB with drift 5, strict below 25", s, strict)
	}
	s, _ = Compare(ref, moved(12*BlockSamples, MaxDrift+100))
	if s.SegSNR > 25 {
		t.Errorf("moved by %d: %v, want the part beyond MaxDrift scored as damaged", MaxDrift+100, s)
	}
}

// TestCompareSecondsFindTheDamage: a recording that goes wrong in its
// fourth second scores 35 dB in the others, less there; a silent second is
// NaN.
func TestCompareSecondsFindTheDamage(t *testing.T) {
	ref := append(Speech(5*8000, 8), make([]int16, 8000)...)
	got := append(make([]int16, 100), ref...)
	for i := 100 + 3*8000; i < 100+4*8000; i += 3 {
		got[i] = -got[i]
	}
	s, err := Compare(ref, got)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Seconds) != 6 {
		t.Fatalf("%d seconds scored, want 6: %v", len(s.Seconds), s.Seconds)
	}
	for i, v := range s.Seconds {
		switch {
		case i == 3 && v >= 20, i == 5 && !math.IsNaN(v), i != 3 && i != 5 && v != MaxSegSNR:
			t.Errorf("second %d scores %.1f dB: %v", i, v, s.Seconds)
		}
	}
}

// TestEnergyAtEveryOffset: the squared difference with got at any offset,
// got wholly before, overlapping or after ref, with samples outside got
// taken as zero.
func TestEnergyAtEveryOffset(t *testing.T) {
	ref, got := Tone(300, 8000, 100, 9000), Tone(500, 8000, 60, 7000)
	for from := -len(ref) - 5; from <= len(got)+5; from++ {
		want := 0.0
		for i, r := range ref {
			g := 0.0
			if j := from + i; j >= 0 && j < len(got) {
				g = float64(got[j])
			}
			want += (float64(r) - g) * (float64(r) - g)
		}
		if e := energy(ref, got, from, math.Inf(1)); e != want {
			t.Fatalf("energy at %d = %v, want %v", from, e, want)
		}
	}
	if e := energy(ref, nil, 7, math.Inf(1)); e != energy(ref, make([]int16, 0), 0, math.Inf(1)) || e == 0 {
		t.Errorf("energy of ref alone = %v", e)
	}
}
