package media

import (
	"bytes"
	"encoding/binary"
	"math"
	"os/exec"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/testaudio"
)

// testFrame is a 288-byte frame of this package's mono stream whose data
// bytes are all b.
func testFrame(b byte) []byte {
	return append([]byte{0xFF, 0xE3, 0x48, 0xC4}, bytes.Repeat([]byte{b}, frameBytes-4)...)
}

// TestFrameQueueDrops: a full queue drops whole frames until the writer has
// emptied it to half; the frames dropped are one span, noted before the
// next frame kept along with the last of them.
func TestFrameQueueDrops(t *testing.T) {
	if frameBytes != 288 || queueFrames(10*time.Second) != 139 || queueFrames(72*time.Millisecond) != 1 {
		t.Fatalf("frame %d bytes, 10 s = %d frames", frameBytes, queueFrames(10*time.Second))
	}
	q := newFrameQueue(4)
	for i := range 4 {
		if kept, _ := q.push(testFrame(byte(i))); !kept {
			t.Fatalf("frame %d dropped from a queue with room", i)
		}
	}
	if kept, newSpan := q.push(testFrame(4)); kept || !newSpan {
		t.Errorf("push to a full queue: kept %v, new span %v", kept, newSpan)
	}
	if kept, newSpan := q.push(testFrame(5)); kept || newSpan {
		t.Errorf("second drop: kept %v, new span %v", kept, newSpan)
	}
	if f := q.front(); f == nil || f.frame[4] != 0 || q.frontRun(10) != 4 {
		t.Fatalf("front %v, run %d", f, q.frontRun(10))
	}
	q.pop(1) // 3 wait: more than half, still dropping
	if kept, _ := q.push(testFrame(6)); kept {
		t.Errorf("frame kept before the queue emptied to half")
	}
	q.pop(1) // 2 wait: half
	if kept, _ := q.push(testFrame(7)); !kept {
		t.Fatalf("frame dropped from a queue emptied to half")
	}
	s := q.slot(2)
	if s.frame[4] != 7 || s.gap != 3 || !bytes.Equal(s.tail, testFrame(6)) {
		t.Errorf("slot after the gap: frame %d, gap %d, tail %d", s.frame[4], s.gap, s.tail[4])
	}
	if q.frontRun(10) != 2 {
		t.Errorf("run from the head = %d, want 2 (it stops at the gap)", q.frontRun(10))
	}
	q.pop(2)
	if q.frontRun(10) != 1 || q.front().gap != 3 {
		t.Errorf("the gap's slot at the head: run %d, gap %d", q.frontRun(10), q.front().gap)
	}
	if want := []frameSpan{{first: 4, n: 3}}; len(q.lost) != 1 || q.lost[0] != want[0] {
		t.Errorf("lost = %v, want %v", q.lost, want)
	}
	// A drop at the end of the stream, with no frame after it.
	q.pop(1)
	for i := range 5 {
		q.push(testFrame(byte(10 + i)))
	}
	n, tail := q.takeTrailingGap()
	if n != 1 || tail[4] != 14 || len(q.lost) != 2 || q.lost[1] != (frameSpan{first: 12, n: 1}) {
		t.Errorf("trailing gap %d (tail %d), lost %v", n, tail[4], q.lost)
	}
}

// TestLostSpans: frame i plays from i x 72 ms minus the encoder delay (one
// frame); spans are clipped to the recording.
func TestLostSpans(t *testing.T) {
	ms := time.Millisecond
	f := func(frames int64) time.Duration { return samplesTime(frames*frameSamples - EncoderDelay) }
	got := lostSpans([]frameSpan{{0, 2}, {4, 3}, {10, 5}}, 12*frameSamples)
	want := []Span{{0, f(2)}, {f(4), 216 * ms}, {f(10), samplesTime(12*frameSamples) - f(10)}}
	if len(got) != len(want) {
		t.Fatalf("lostSpans = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("span %d = %v, want %v", i, got[i], want[i])
		}
	}
	if r := (Result{Lost: got}); r.LostDuration() != want[0].Dur+want[1].Dur+want[2].Dur {
		t.Errorf("LostDuration = %v", r.LostDuration())
	}
	if got := lostSpans([]frameSpan{{20, 1}}, 12*frameSamples); got != nil {
		t.Errorf("span past the end = %v", got)
	}
}

// decodeStrict decodes an MP3 file with ffmpeg and fails on any complaint
// of the decoder.
func decodeStrict(t *testing.T, path string) []int16 {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "warning", "-i", path, "-f", "s16le", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg %s: %v: %s", path, err, stderr.Bytes())
	}
	pcm := make([]int16, len(out)/2)
	if err := binary.Read(bytes.NewReader(out), binary.LittleEndian, pcm); err != nil {
		t.Fatalf("read pcm: %v", err)
	}
	return pcm
}

// snr is the ratio of ref's power to that of got - ref, in dB.
func snr(ref, got []int16) float64 {
	var s, n float64
	for i := range ref {
		d := float64(got[i]) - float64(ref[i])
		s += float64(ref[i]) * float64(ref[i])
		n += d * d
	}
	return 10 * math.Log10(s/max(n, 1))
}

// TestSilentFrames: frames replaced by silentFrame decode, without a
// complaint of the decoder, as silence of their length; the frame after
// them, whose main data begins in the bit reservoir of the frame before it,
// decodes as it did, since the last silent frame carries that frame's data
// area; the file's length is unchanged.
func TestSilentFrames(t *testing.T) {
	testaudio.Require(t, "ffmpeg")
	for _, channels := range []int{1, 2} {
		pcm := testaudio.Tone(700, sampleRate, 2*sampleRate, 6000)
		if channels == 2 {
			pcm = interleave(pcm, testaudio.Tone(300, sampleRate, 2*sampleRate, 5000))
		}
		frames, tag, _ := encodeAll(t, channels, pcm)
		const first, n = 8, 6
		gapped := bytes.Clone(frames)
		for i := first; i < first+n; i++ {
			var tail []byte
			if i == first+n-1 {
				tail = frames[i*frameBytes : (i+1)*frameBytes]
			}
			if err := silentFrame(gapped[i*frameBytes:(i+1)*frameBytes], [4]byte(frames[i*frameBytes:]), tail); err != nil {
				t.Fatalf("silentFrame: %v", err)
			}
		}
		ref := decodeStrict(t, writeMP3(t, tag, frames))
		got := decodeStrict(t, writeMP3(t, tag, gapped))
		if len(got) != len(ref) {
			t.Fatalf("%d channels: %d samples decoded, want %d", channels, len(got), len(ref))
		}
		c := channels
		// Frame i carries the samples from i x 576 - EncoderDelay on; the
		// transform overlaps the frames next to it.
		at := func(i int) int { return (i*frameSamples - EncoderDelay) * c }
		peak := 0
		for _, v := range got[at(first+1):at(first+n-1)] {
			peak = max(peak, int(v), -int(v))
		}
		if peak > 0 {
			t.Errorf("%d channels: the gap peaks at %d, want silence", channels, peak)
		}
		if d := snr(ref[at(first+n+1):], got[at(first+n+1):]); d < 60 {
			t.Errorf("%d channels: after the gap %.1f dB from the original decoding, want the same audio", channels, d)
		}
		if d := snr(ref[:at(first-1)], got[:at(first-1)]); d < 60 {
			t.Errorf("%d channels: before the gap %.1f dB from the original decoding", channels, d)
		}
		// Without the reservoir in the last silent frame, the frame after
		// the gap decodes wrong.
		bare := bytes.Clone(gapped)
		last := (first + n - 1) * frameBytes
		if err := silentFrame(bare[last:last+frameBytes], [4]byte(frames[last:]), nil); err != nil {
			t.Fatalf("silentFrame: %v", err)
		}
		out := ffmpegDecode(t, writeMP3(t, tag, bare))
		t.Logf("%d channels: after a gap without the reservoir %.1f dB, with it %.1f dB", channels,
			snr(ref[at(first+n+1):at(first+n+3)], out[at(first+n+1):at(first+n+3)]),
			snr(ref[at(first+n+1):at(first+n+3)], got[at(first+n+1):at(first+n+3)]))
	}
	if err := silentFrame(make([]byte, 10), [4]byte{0xFF, 0xE3, 0x48, 0xC4}, nil); err == nil {
		t.Errorf("silentFrame of the wrong size: no error")
	}
}

// interleave makes stereo PCM of l and r.
func interleave(l, r []int16) []int16 {
	out := make([]int16, 2*len(l))
	for i := range l {
		out[2*i], out[2*i+1] = l[i], r[i]
	}
	return out
}
