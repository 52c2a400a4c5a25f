package media

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/callvault/callvault/internal/testaudio"
)

// LAME's quality setting, measured: the speech-like test signal encoded at
// each quality as the recorder encodes (mono, 20 ms calls), decoded by
// ffmpeg and scored against the input by segmental SNR (testaudio.Compare).
// The figures and the choice are in BENCHMARKS.md, "Audio quality".

// lameQualities are the settings compared: 2 (LAME's -h), 5 (the default)
// and 7 (-f, no noise shaping), and 9 (no psychoacoustic model at all) as a
// control: a score that rates 9 as high as 7 cannot see what the
// psychoacoustic model does.
var lameQualities = []int{2, 5, 7, 9}

// qualityTalkers are the seeds of the speech signals scored.
var qualityTalkers = []uint64{1, 2, 3, 4}

// qualitySpeech is 7 s of the speech-like signal of a talker.
func qualitySpeech(talker uint64) []int16 { return testaudio.Speech(7*sampleRate, talker) }

// TestLAMEQualityScores: every quality keeps each talker's speech at 20 dB
// segmental SNR or better at 32 kbps; the scores and their mean per quality
// are logged.
func TestLAMEQualityScores(t *testing.T) {
	testaudio.Require(t, "ffmpeg")
	for _, q := range lameQualities {
		sum := 0.0
		for _, talker := range qualityTalkers {
			s := lameScore(t, qualitySpeech(talker), q)
			t.Logf("LAME quality %d, talker %d: %v", q, talker, s)
			if s.SegSNR < 20 {
				t.Errorf("LAME quality %d, talker %d: %v, want at least 20 dB", q, talker, s)
			}
			sum += s.SegSNR
		}
		t.Logf("LAME quality %d: mean segmental SNR %.2f dB", q, sum/float64(len(qualityTalkers)))
	}
}

// TestLAMEShiftedScores: the same speech encoded a few samples later
// differs from the first encoding everywhere (LAME frames cut it elsewhere),
// by 25-30 dB, and one whole 576-sample frame later it is sample-exact
// again. This bounds what an end-to-end comparison of two recordings can
// ask: 35 dB only when both place the audio at the same sample.
func TestLAMEShiftedScores(t *testing.T) {
	testaudio.Require(t, "ffmpeg")
	speech := qualitySpeech(1)
	first := ffmpegDecode(t, writeMP3(t, lameEncode(t, speech, defaultQuality)))
	for _, shift := range []int{1, 40, 160, 288, 576} {
		later := ffmpegDecode(t, writeMP3(t, lameEncode(t, append(make([]int16, shift), speech...), defaultQuality)))
		s, err := testaudio.Compare(first, later)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("encoded %d samples later: %v", shift, s)
		lo, hi := 25.0, 30.0
		if shift%576 == 0 {
			lo, hi = testaudio.MaxSegSNR, testaudio.MaxSegSNR
		}
		if s.Lag != shift || s.SegSNR < lo || s.SegSNR > hi {
			t.Errorf("encoded %d samples later: %v, want lag %d and %.0f-%.0f dB", shift, s, shift, lo, hi)
		}
	}
}

// BenchmarkEncodeQuality encodes the speech at each quality, in 20 ms
// calls, and reports times real time on one core (x_realtime).
func BenchmarkEncodeQuality(b *testing.B) {
	speech := qualitySpeech(1)
	for _, q := range lameQualities {
		b.Run(fmt.Sprintf("q%d", q), func(b *testing.B) {
			n := 0
			for b.Loop() {
				lameEncode(b, speech, q)
				n++
			}
			seconds := float64(len(speech)) / sampleRate
			b.ReportMetric(float64(n)*seconds/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}

// lameScore encodes pcm at quality q, decodes it with ffmpeg and scores it
// against pcm.
func lameScore(t *testing.T, pcm []int16, q int) testaudio.Score {
	t.Helper()
	s, err := testaudio.Compare(pcm, ffmpegDecode(t, writeMP3(t, lameEncode(t, pcm, q))))
	if err != nil {
		t.Fatalf("quality %d: %v", q, err)
	}
	return s
}

// lameEncode encodes mono pcm at quality q in 20 ms calls, as a recording
// does, and returns the MP3 data: the LAME tag, then the frames after
// LAME's placeholder for it.
func lameEncode(tb testing.TB, pcm []int16, q int) []byte {
	tb.Helper()
	e, err := NewEncoder(1, q)
	if err != nil {
		tb.Fatal(err)
	}
	defer e.Close()
	var buf bytes.Buffer
	for i := 0; i < len(pcm); i += 160 {
		b, err := e.Encode(pcm[i:min(i+160, len(pcm))])
		if err != nil {
			tb.Fatal(err)
		}
		buf.Write(b)
	}
	b, err := e.Flush()
	if err != nil {
		tb.Fatal(err)
	}
	buf.Write(b)
	stream := buf.Bytes()
	if len(stream) < 4 {
		tb.Fatalf("quality %d: %d bytes of MP3", q, len(stream))
	}
	first, err := frameSize([4]byte(stream[:4]))
	if err != nil || first != len(e.LAMETag()) {
		tb.Fatalf("quality %d: placeholder frame of %d bytes (%v), LAME tag of %d", q, first, err, len(e.LAMETag()))
	}
	return append(e.LAMETag(), stream[first:]...)
}
