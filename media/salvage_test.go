package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/callvault/callvault/internal/testaudio"
)

// lameStream encodes seconds of a 400 Hz tone and returns LAME's frames
// (without the placeholder) and its tag.
func lameStream(t *testing.T, channels int, seconds float64) (frames, tag []byte) {
	t.Helper()
	n := int(seconds * sampleRate)
	frames, tag, _ = encodeAll(t, channels, testaudio.Tone(400, sampleRate, n*channels, 8000))
	return frames, tag
}

// salvage runs SalvageMP3 on in and returns what it wrote.
func salvage(t *testing.T, in []byte) (Salvaged, []byte) {
	t.Helper()
	var out bytes.Buffer
	s, err := SalvageMP3(bytes.NewReader(in), &out)
	if err != nil {
		t.Fatalf("SalvageMP3: %v", err)
	}
	if s.Bytes != int64(out.Len()) || s.Bytes+s.Dropped > int64(len(in)) {
		t.Fatalf("SalvageMP3 = %+v, wrote %d bytes of %d", s, out.Len(), len(in))
	}
	return s, out.Bytes()
}

// TestSalvageMP3Cut cuts LAME's stream at every byte offset of its first
// and of its last frame: exactly the complete frames are kept.
func TestSalvageMP3Cut(t *testing.T) {
	for _, channels := range []int{1, 2} {
		frames, tag := lameStream(t, channels, 2)
		const size = 288
		total := int64(len(frames) / size)
		var cuts []int
		for c := range size {
			cuts = append(cuts, c, len(frames)-size+c)
		}
		cuts = append(cuts, len(frames))
		for _, cut := range cuts {
			s, out := salvage(t, frames[:cut])
			kept := int64(cut / size)
			want := Salvaged{Frames: kept, Bytes: kept * size, Dropped: int64(cut) - kept*size,
				MusicCRC: lameCRC(0, frames[:kept*size])}
			if kept > 0 {
				want.Header = [4]byte(frames)
			}
			if s != want || !bytes.Equal(out, frames[:kept*size]) {
				t.Fatalf("%d channels, cut at %d: %+v, want %+v", channels, cut, s, want)
			}
		}
		s, _ := salvage(t, frames)
		x := tagOffset(t, tag)
		if s.Frames != total || [2]byte{byte(s.MusicCRC >> 8), byte(s.MusicCRC)} != [2]byte(tag[x+lameMusicCRC:]) {
			t.Errorf("%d channels: %+v; want %d frames and LAME's music crc % x", channels, s, total, tag[x+lameMusicCRC:x+lameTagCRC])
		}
	}
}

// TestSalvageMP3Garbage puts bytes that are not frames of the stream
// before, between and after the frames: they are skipped and counted, and
// every frame is kept.
func TestSalvageMP3Garbage(t *testing.T) {
	frames, _ := lameStream(t, 1, 1)
	garbage := [][]byte{
		[]byte("ID3"),
		{0xFF, 0xFF, 0xFF},
		{0xFF, 0xFB, 0x90, 0x00, 1, 2, 3},                      // an MPEG-1 header: another stream
		{0xFF, 0xE3, 0x58, 0xC4, 0xFF},                         // another bit rate
		{0xFF, 0xE3, 0x48, 0x04, 0},                            // another channel mode
		append([]byte{0xFF, 0xE3, 0x48}, make([]byte, 300)...), // a header cut short
	}
	for i, g := range garbage {
		var in bytes.Buffer
		in.Write(g) // before the first frame
		for off := 0; off < len(frames); off += 288 {
			in.Write(frames[off : off+288])
			if off/288%3 == 1 {
				in.Write(g)
			}
		}
		in.Write(g[:min(3, len(g))])
		s, out := salvage(t, in.Bytes())
		if !bytes.Equal(out, frames) || s.Bytes+s.Dropped != int64(in.Len()) || s.Header != [4]byte(frames) {
			t.Errorf("garbage %d (% x): %+v, kept %d of %d frame bytes", i, g[:min(8, len(g))], s, len(out), len(frames))
		}
	}
}

// TestSalvageMP3FirstFrame checks that the first frame fixes the format
// only when the next header confirms it.
func TestSalvageMP3FirstFrame(t *testing.T) {
	frames, _ := lameStream(t, 1, 1)
	f := frames[:288]
	for _, c := range []struct {
		name   string
		in     []byte
		frames int64
	}{
		{"empty", nil, 0},
		{"one frame", f, 1},
		{"one frame, part of the next header", append(bytes.Clone(f), 0xFF, 0xE3), 1},
		{"one frame, then a byte that is no header", append(bytes.Clone(f), 0x00), 0},
		{"a header of another stream inside garbage", append([]byte{0xFF, 0xE3, 0x58, 0xC4, 9, 9}, frames...), int64(len(frames) / 288)},
		{"sync bytes only", bytes.Repeat([]byte{0xFF}, 1000), 0},
	} {
		s, out := salvage(t, c.in)
		if s.Frames != c.frames || len(out) != int(c.frames)*288 || s.Bytes+s.Dropped != int64(len(c.in)) {
			t.Errorf("%s: %+v, wrote %d bytes; want %d frames", c.name, s, len(out), c.frames)
		}
		if s.Frames == 0 && s.Header != [4]byte{} {
			t.Errorf("%s: header % x without frames", c.name, s.Header)
		}
	}
}

// TestSalvageMP3Reads feeds a stream longer than the read buffer in odd
// pieces and checks that frames go out in runs, not one Write per frame.
func TestSalvageMP3Reads(t *testing.T) {
	frames, _ := lameStream(t, 2, 30) // 120 KiB: two buffers
	in := frames[:len(frames)-100]
	want := frames[:len(in)/288*288]
	for name, r := range map[string]io.Reader{
		"one byte":  iotest.OneByteReader(bytes.NewReader(in)),
		"half":      iotest.HalfReader(bytes.NewReader(in)),
		"data, eof": iotest.DataErrReader(bytes.NewReader(in)),
	} {
		var w countingWriter
		s, err := SalvageMP3(r, &w)
		if err != nil || !bytes.Equal(w.buf.Bytes(), want) || s.Dropped != 188 {
			t.Errorf("%s: %+v, %v; wrote %d bytes, want %d", name, s, err, w.buf.Len(), len(want))
		}
		if max := len(in)/(salvageBufSize-288) + 1; w.writes > max {
			t.Errorf("%s: %d writes, want at most %d", name, w.writes, max)
		}
	}
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.buf.Write(p)
}

func TestSalvageMP3Errors(t *testing.T) {
	frames, _ := lameStream(t, 1, 1)
	errBroken := errors.New("broken")
	if _, err := SalvageMP3(iotest.ErrReader(errBroken), io.Discard); !errors.Is(err, errBroken) {
		t.Errorf("read error: %v, want %v", err, errBroken)
	}
	garbageFirst := append([]byte{0, 0}, frames...)
	for _, in := range [][]byte{frames, garbageFirst} {
		w := &failingWriter{}
		if _, err := SalvageMP3(bytes.NewReader(in), w); err == nil || !strings.Contains(err.Error(), "disk full") || w.calls != 1 {
			t.Errorf("write error: %v after %d writes, want the writer's error after 1", err, w.calls)
		}
	}
}

// TestSalvageMP3Allocs checks that memory does not grow with the stream.
func TestSalvageMP3Allocs(t *testing.T) {
	frames, _ := lameStream(t, 1, 10)
	long := bytes.Repeat(frames, 20)
	var r bytes.Reader
	allocs := func(in []byte) float64 {
		return testing.AllocsPerRun(5, func() {
			r.Reset(in)
			if _, err := SalvageMP3(&r, io.Discard); err != nil {
				t.Fatal(err)
			}
		})
	}
	if a, b := allocs(frames), allocs(long); a != b || a > 2 {
		t.Errorf("allocations: %v for %d bytes, %v for %d; want the same few", a, len(frames), b, len(long))
	}
}

func TestSalvagedSamples(t *testing.T) {
	mono := [4]byte{0xFF, 0xE3, 0x48, 0xC4}
	mpeg1 := [4]byte{0xFF, 0xFB, 0x90, 0x00} // 1152 samples at 44.1 kHz
	for _, c := range []struct {
		s       Salvaged
		samples int64
		d       time.Duration
	}{
		{Salvaged{Frames: 100, Header: mono}, 100*576 - EncoderDelay - DecoderDelay, 7061875 * time.Microsecond},
		{Salvaged{Frames: 1, Header: mono}, 0, 0},
		{Salvaged{}, 0, 0},
		{Salvaged{Frames: 3, Header: [4]byte{1, 2, 3, 4}}, 0, 0},
		{Salvaged{Frames: 10, Header: mpeg1}, 10*1152 - EncoderDelay - DecoderDelay, 10415 * time.Second / 44100},
	} {
		if n, d := c.s.Samples(EncoderDelay, DecoderDelay), c.s.Duration(EncoderDelay, DecoderDelay); n != c.samples || d != c.d {
			t.Errorf("%+v: Samples = %d, Duration = %v; want %d, %v", c.s, n, d, c.samples, c.d)
		}
	}
}

// TestSalvagedFileDecodes rebuilds the file of a call cut mid-frame (ID3
// tag, InfoFrame, salvaged frames) and decodes it with ffmpeg: it must give
// exactly Samples(EncoderDelay, DecoderDelay) samples per channel, the
// same samples as LAME's complete file up to there, and ffprobe must read
// the tag (its CRC) and report the start time it reports for LAME's file.
func TestSalvagedFileDecodes(t *testing.T) {
	testaudio.Require(t, "ffmpeg", "ffprobe")
	for _, channels := range []int{1, 2} {
		t.Run(fmt.Sprintf("%dch", channels), func(t *testing.T) {
			frames, tag := lameStream(t, channels, 7.015)
			id3, err := Tags{RecordID: "2026000000001", Direction: "IN"}.ID3()
			if err != nil {
				t.Fatalf("ID3: %v", err)
			}
			full := writeMP3(t, id3, tag, frames)
			s, kept := salvage(t, frames[:len(frames)-1000])
			ref := ffmpegDecode(t, full)
			// DecoderDelay as padding keeps every sample the frames decode
			// to; a larger padding drops more.
			for _, padding := range []int{DecoderDelay, DecoderDelay + 300} {
				info, err := InfoFrame(s, EncoderDelay, padding)
				if err != nil {
					t.Fatalf("InfoFrame: %v", err)
				}
				rebuilt := writeMP3(t, id3, info, kept)
				got, want := ffprobe(t, rebuilt), ffprobe(t, full)
				if got.StartTime != want.StartTime || got.SampleRate != 8000 || got.Channels != channels {
					t.Errorf("ffprobe of the rebuilt file = %+v, of LAME's = %+v", got, want)
				}
				if enc := ffprobeEncoder(t, rebuilt); enc != lameEncoder {
					t.Errorf("ffprobe encoder tag = %q, want %q (a tag CRC ffmpeg accepts)", enc, lameEncoder)
				}
				pcm := ffmpegDecode(t, rebuilt)
				n := s.Samples(EncoderDelay, padding)
				if int64(len(pcm)) != n*int64(channels) {
					t.Fatalf("padding %d: decoded %d samples per channel, want %d frames x 576 - %d - %d = %d",
						padding, len(pcm)/channels, s.Frames, EncoderDelay, padding, n)
				}
				if !slices.Equal(pcm, ref[:len(pcm)]) {
					t.Errorf("padding %d: the rebuilt file's samples differ from LAME's file's", padding)
				}
			}
		})
	}
}

// ffprobeEncoder returns the encoder ffprobe reads from the LAME tag; it
// reads it only when the tag's CRC is right.
func ffprobeEncoder(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0",
		"-show_entries", "stream_tags=encoder", "-of", "default=nw=1:nk=1", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// FuzzSalvageMP3 feeds arbitrary bytes: SalvageMP3 never fails on a good
// reader and writer, accounts for every byte, and writes only frames of
// the stream whose header it reports.
func FuzzSalvageMP3(f *testing.F) {
	frame := append([]byte{0xFF, 0xE3, 0x48, 0xC4}, make([]byte, 284)...)
	f.Add(bytes.Repeat(frame, 3))
	f.Add(append(append([]byte{0xFF, 0xE3, 0x48}, frame...), frame[:100]...))
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		s, err := SalvageMP3(bytes.NewReader(in), &out)
		if err != nil {
			t.Fatal(err)
		}
		if s.Bytes != int64(out.Len()) || s.Bytes+s.Dropped != int64(len(in)) {
			t.Fatalf("%+v: wrote %d of %d bytes", s, out.Len(), len(in))
		}
		b := out.Bytes()
		for i := int64(0); i < s.Frames; i++ {
			size, err := frameSize([4]byte(b))
			if err != nil || !sameStream(s.Header, b[:4]) || size > len(b) {
				t.Fatalf("frame %d: % x, size %d, %v", i, b[:4], size, err)
			}
			b = b[size:]
		}
		if len(b) != 0 || s.MusicCRC != lameCRC(0, out.Bytes()) {
			t.Fatalf("%d bytes after %d frames, crc %04x", len(b), s.Frames, s.MusicCRC)
		}
	})
}

// BenchmarkSalvageMP3 measures SalvageMP3 on an hour of mono call (14 MB).
func BenchmarkSalvageMP3(b *testing.B) {
	e, err := NewEncoder(1, defaultQuality)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	one, err := e.Encode(testaudio.Tone(400, sampleRate, 60*sampleRate, 8000))
	if err != nil {
		b.Fatal(err)
	}
	in := bytes.Repeat(one[:len(one)/288*288], 60) // whole frames
	var r bytes.Reader
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(in)
		if s, err := SalvageMP3(&r, io.Discard); err != nil || s.Dropped != 0 {
			b.Fatalf("%+v, %v", s, err)
		}
	}
}
