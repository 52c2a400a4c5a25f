package media

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/callvault/callvault/internal/testaudio"
)

// probe is what ffprobe reports about the audio stream of an MP3 file.
type probe struct {
	Codec      string
	SampleRate int
	Channels   int
	BitRate    int
	Duration   float64 // container duration
	StartTime  float64 // the encoder delay, when the LAME tag is read
}

func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json",
		"-show_streams", "-show_format", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var v struct {
		Streams []struct {
			CodecName  string `json:"codec_name"`
			SampleRate string `json:"sample_rate"`
			Channels   int    `json:"channels"`
			BitRate    string `json:"bit_rate"`
			StartTime  string `json:"start_time"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v.Streams) != 1 {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	s := v.Streams[0]
	p := probe{Codec: s.CodecName, Channels: s.Channels}
	p.SampleRate, _ = strconv.Atoi(s.SampleRate)
	p.BitRate, _ = strconv.Atoi(s.BitRate)
	p.Duration, _ = strconv.ParseFloat(v.Format.Duration, 64)
	p.StartTime, _ = strconv.ParseFloat(s.StartTime, 64)
	return p
}

// ffmpegDecode decodes an MP3 file to interleaved 16-bit PCM.
func ffmpegDecode(t *testing.T, path string) []int16 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v", path, err)
	}
	pcm := make([]int16, len(out)/2)
	if err := binary.Read(bytes.NewReader(out), binary.LittleEndian, pcm); err != nil {
		t.Fatalf("read pcm: %v", err)
	}
	return pcm
}

// writeMP3 writes ID3 tag + LAME tag + frames to a temporary file.
func writeMP3(t *testing.T, parts ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "call.mp3")
	if err := os.WriteFile(path, bytes.Join(parts, nil), 0o600); err != nil {
		t.Fatalf("write mp3: %v", err)
	}
	return path
}

// encodeAll encodes pcm in packet-sized pieces and returns the frames after
// the withheld placeholder, and the LAME tag.
func encodeAll(t *testing.T, channels int, pcm []int16) (frames, tag []byte, held int) {
	t.Helper()
	e, err := NewEncoder(channels, 5)
	if err != nil {
		t.Fatalf("NewEncoder: %v", err)
	}
	defer e.Close()
	var buf bytes.Buffer
	w := &framer{emit: func(f []byte) error { buf.Write(f); return nil }}
	step := 160 * channels
	for i := 0; i < len(pcm); i += step {
		b, err := e.Encode(pcm[i:min(i+step, len(pcm))])
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if err := w.write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	b, err := e.Flush()
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := w.write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
	if _, err := e.Encode(pcm[:2]); err == nil {
		t.Errorf("Encode after Flush: no error")
	}
	return buf.Bytes(), e.LAMETag(), w.held
}

func TestEncoderFlushAndTag(t *testing.T) {
	frames, tag, held := encodeAll(t, 1, testaudio.Tone(400, sampleRate, 8000, 8000))
	if held != 288 {
		t.Errorf("withheld first frame = %d bytes, want 288", held)
	}
	if len(tag) != 288 {
		t.Fatalf("LAMETag = %d bytes, want 288", len(tag))
	}
	if !bytes.Contains(tag, []byte("Info")) || !bytes.Contains(tag, []byte("LAME")) {
		t.Errorf("LAMETag has no Info/LAME marker: % x", tag[:64])
	}
	if len(frames) == 0 || len(frames)%288 != 0 {
		t.Fatalf("frames = %d bytes, want a positive multiple of 288", len(frames))
	}
	for off := 0; off < len(frames); off += 288 {
		size, err := frameSize([4]byte(frames[off : off+4]))
		if err != nil || size != 288 {
			t.Fatalf("frame at %d: size %d, %v", off, size, err)
		}
	}
	// 1 s at 8 kHz is 13.9 frames of 576; plus the encoder delay and padding.
	if n := len(frames) / 288; n < 14 || n > 18 {
		t.Errorf("%d audio frames for 1 s", n)
	}
}

func TestEncoderArguments(t *testing.T) {
	for _, c := range []struct{ ch, q int }{{0, 5}, {3, 5}, {1, -1}, {2, 10}} {
		if e, err := NewEncoder(c.ch, c.q); err == nil {
			e.Close()
			t.Errorf("NewEncoder(%d, %d): no error", c.ch, c.q)
		}
	}
	e, err := NewEncoder(2, 5)
	if err != nil {
		t.Fatalf("NewEncoder: %v", err)
	}
	if _, err := e.Encode(make([]int16, 3)); err == nil {
		t.Errorf("Encode of 3 samples in stereo: no error")
	}
	e.Close()
	e.Close()
	if _, err := e.Encode(make([]int16, 2)); err == nil {
		t.Errorf("Encode after Close: no error")
	}
}

// TestEncoderFFprobe checks the file layout the vault produces: ID3 tag,
// LAME tag, frames. ffprobe must see 8 kHz 32 kbps MP3 of exactly the
// encoded length, and the tone must survive.
func TestEncoderFFprobe(t *testing.T) {
	testaudio.Require(t, "ffmpeg", "ffprobe")
	for _, channels := range []int{1, 2} {
		t.Run(strconv.Itoa(channels)+"ch", func(t *testing.T) {
			const n = 8000*7 + 123 // 7.015 s
			a, b := testaudio.Tone(400, sampleRate, n, 8000), testaudio.Tone(1000, sampleRate, n, 8000)
			pcm := a
			if channels == 2 {
				pcm = make([]int16, 2*n)
				for i := range n {
					pcm[2*i], pcm[2*i+1] = a[i], b[i]
				}
			}
			frames, tag, _ := encodeAll(t, channels, pcm)
			id3, err := Tags{RecordID: "2026000000001", Direction: "IN"}.ID3()
			if err != nil {
				t.Fatalf("ID3: %v", err)
			}
			path := writeMP3(t, id3, tag, frames)
			p := ffprobe(t, path)
			if p.Codec != "mp3" || p.SampleRate != 8000 || p.BitRate != 32000 || p.Channels != channels {
				t.Errorf("ffprobe = %+v, want mp3 8000 Hz 32000 b/s %d channels", p, channels)
			}
			// The decoded length is the encoded PCM, to the sample: the LAME
			// tag tells the decoder to drop the encoder delay and padding.
			dec := ffmpegDecode(t, path)
			want := float64(n) / sampleRate
			if got := float64(len(dec)/channels) / sampleRate; math.Abs(got-want) > 0.05 {
				t.Errorf("decoded duration = %.4f s, want %.4f", got, want)
			}
			// ffprobe (5.1) reads the frame count and the delay from the tag;
			// its container duration is frames x 576 samples, without
			// subtracting the delay (start_time) and the padding.
			if p.StartTime != 1105.0/sampleRate {
				t.Errorf("ffprobe start_time = %v, want the encoder delay %v", p.StartTime, 1105.0/sampleRate)
			}
			if tagged := float64(len(frames)/288*576) / sampleRate; math.Abs(p.Duration-tagged) > 0.001 {
				t.Errorf("ffprobe duration = %.4f s, want frames x 576 = %.4f", p.Duration, tagged)
			}
			if p.Duration-p.StartTime < want || p.Duration-p.StartTime > want+576.0/sampleRate {
				t.Errorf("ffprobe duration - start = %.4f s, want %.4f plus less than one frame", p.Duration-p.StartTime, want)
			}
			// Without the tag the decoder keeps delay and padding.
			raw := ffmpegDecode(t, writeMP3(t, id3, frames))
			if len(raw)/channels <= n+1000 {
				t.Errorf("without the LAME tag: %d samples, want more than %d", len(raw)/channels, n+1000)
			}
			// Each tone's power after the round trip, as a fraction of its
			// power as sent.
			chans := testaudio.Deinterleave(dec, channels)
			left, right := chans[0], chans[channels-1]
			left, right = left[800:len(left)-800], right[800:len(right)-800]
			sent400, sent1000 := testaudio.Power(a, 400, sampleRate), testaudio.Power(b, 1000, sampleRate)
			if g := testaudio.Power(left, 400, sampleRate) / sent400; g < 0.3 {
				t.Errorf("400 Hz power on the left = %.3f of the sent tone's, want > 0.3", g)
			}
			if channels == 2 {
				if g := testaudio.Power(right, 1000, sampleRate) / sent1000; g < 0.3 {
					t.Errorf("1000 Hz power on the right = %.3f of the sent tone's, want > 0.3", g)
				}
				if g := testaudio.Power(right, 400, sampleRate) / sent400; g > 0.05 {
					t.Errorf("400 Hz power on the right = %.3f of the sent tone's, want < 0.05", g)
				}
			}
		})
	}
}
