package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/testaudio"
)

// lameTagFields names the byte ranges of a LAME tag frame (x is the offset
// of "Info"), to say which field differs.
func lameTagFields(x int) []struct {
	name     string
	from, to int
} {
	return []struct {
		name     string
		from, to int
	}{
		{"header", 0, 4}, {"side info", 4, x}, {"Info mark", x, x + xingFlags},
		{"xing flags", x + xingFlags, x + xingFrames}, {"frames", x + xingFrames, x + xingBytes},
		{"bytes", x + xingBytes, x + xingTOC}, {"toc", x + xingTOC, x + lameQuality},
		{"quality", x + lameQuality, x + lameVersion}, {"version", x + lameVersion, x + lameRevMethod},
		{"revision/method", x + lameRevMethod, x + lameLowpass}, {"lowpass", x + lameLowpass, x + lameLowpass + 1},
		{"peak/replay gain", x + lameLowpass + 1, x + lameFlags}, {"flags", x + lameFlags, x + lameABR},
		{"abr bit rate", x + lameABR, x + lameDelays}, {"delay/padding", x + lameDelays, x + lameMisc},
		{"misc", x + lameMisc, x + lameMisc + 1}, {"mp3 gain", x + lameMisc + 1, x + lamePreset},
		{"preset", x + lamePreset, x + lameMusicLength}, {"music length", x + lameMusicLength, x + lameMusicCRC},
		{"music crc", x + lameMusicCRC, x + lameTagCRC}, {"tag crc", x + lameTagCRC, x + lameTagEnd},
		{"rest", x + lameTagEnd, 1 << 30},
	}
}

// diffTags describes the fields in which got differs from want.
func diffTags(got, want []byte, x int) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d bytes, want %d", len(got), len(want))
	}
	var d []string
	for _, f := range lameTagFields(x) {
		to := min(f.to, len(got))
		if !bytes.Equal(got[f.from:to], want[f.from:to]) {
			d = append(d, fmt.Sprintf("%s % x, want % x", f.name, got[f.from:to], want[f.from:to]))
		}
	}
	return strings.Join(d, "; ")
}

// tagOffset returns the offset of "Info" in the LAME tag frame tag.
func tagOffset(t *testing.T, tag []byte) int {
	t.Helper()
	if len(tag) < 4 {
		t.Fatalf("LAME tag of %d bytes", len(tag))
	}
	f, err := parseFrameHeader([4]byte(tag))
	if err != nil || len(tag) < 4+f.sideInfoLen()+lameTagEnd {
		t.Fatalf("LAME tag of %d bytes, header % x: %v", len(tag), tag[:4], err)
	}
	return 4 + f.sideInfoLen()
}

// TestInfoFrameMatchesLAME rebuilds the Info frame of real LAME streams
// from their frames alone and compares it with LAME's own tag, field by
// field. LAME copies the mode extension of its last frame into the tag's
// header, which InfoFrame clears: LAME's tag is compared with that
// normalised (and its tag CRC, checked first, recomputed).
func TestInfoFrameMatchesLAME(t *testing.T) {
	// Frame counts 2 to 1,720: below and across the 400 and 800 frames at
	// which LAME halves its TOC samples.
	for _, n := range []int{2, 8000, 8000*7 + 123, 227_000, 228_000, 458_000, 460_000, 8000 * 123} {
		for _, channels := range []int{1, 2} {
			t.Run(fmt.Sprintf("%dch/%d", channels, n), func(t *testing.T) {
				pcm := testaudio.Tone(400, sampleRate, n*channels, 8000)
				frames, tag, _ := encodeAll(t, channels, pcm)
				s, err := SalvageMP3(bytes.NewReader(frames), &bytes.Buffer{})
				if err != nil {
					t.Fatalf("SalvageMP3: %v", err)
				}
				x := tagOffset(t, tag)
				if crc := lameCRC(0, tag[:x+lameTagCRC]); crc != binary.BigEndian.Uint16(tag[x+lameTagCRC:]) {
					t.Fatalf("lameCRC of LAME's tag = %04x, LAME wrote % x", crc, tag[x+lameTagCRC:x+lameTagEnd])
				}
				delays := tag[x+lameDelays:]
				delay, padding := int(delays[0])<<4|int(delays[1]>>4), int(delays[1]&0xF)<<8|int(delays[2])
				if delay != EncoderDelay {
					t.Errorf("LAME's delay = %d, want EncoderDelay %d", delay, EncoderDelay)
				}
				want := bytes.Clone(tag)
				if want[3]&0x30 != 0 {
					want[3] &^= 0x30
					binary.BigEndian.PutUint16(want[x+lameTagCRC:], lameCRC(0, want[:x+lameTagCRC]))
				}
				got, err := InfoFrame(s, delay, padding)
				if err != nil {
					t.Fatalf("InfoFrame: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("InfoFrame(%+v, %d, %d) differs from LAME's tag: %s", s, delay, padding, diffTags(got, want, x))
				}
				if channels == 1 && !bytes.Equal(got, tag) {
					t.Errorf("mono: InfoFrame differs from LAME's tag as written")
				}
			})
		}
	}
}

// TestCBRTOC compares cbrTOC with LAME's algorithm run frame by frame
// (addVbr and Xing_seek_table in VbrTag.c), for every count to 5,000
// frames and a few long calls.
func TestCBRTOC(t *testing.T) {
	counts := []int64{1_000_000, 1<<20 + 3, 6_250_000}
	for n := int64(1); n <= 5000; n++ {
		counts = append(counts, n)
	}
	for _, kbps := range []int{32, 8, 160} {
		for _, n := range counts {
			var got, want [100]byte
			cbrTOC(&got, n, kbps)
			lameSeekTable(&want, n, kbps)
			if got != want {
				t.Fatalf("cbrTOC(%d frames, %d kbps) = %v, LAME %v", n, kbps, got, want)
			}
		}
	}
}

// lameSeekTable is LAME's seek table for n frames of kbps each, computed as
// LAME does, one frame at a time.
func lameSeekTable(toc *[100]byte, n int64, kbps int) {
	var bag [400]int64
	sum, seen, want, pos := int64(0), 0, 1, 0
	for range n {
		sum += int64(kbps)
		if seen++; seen < want {
			continue
		}
		bag[pos], pos, seen = sum, pos+1, 0
		if pos == len(bag) {
			for i := 1; i < len(bag); i += 2 {
				bag[i/2] = bag[i]
			}
			want, pos = want*2, pos/2
		}
	}
	for i := 1; i < 100; i++ {
		j := float32(i) / 100
		k := min(int(float32(j*float32(pos))), pos-1) // floor: non-negative
		toc[i] = byte(min(int(256*float64(float32(bag[k]))/float64(float32(sum))), 255))
	}
}

func TestInfoFrameErrors(t *testing.T) {
	mono := [4]byte{0xFF, 0xE3, 0x48, 0xC4}
	for _, c := range []struct {
		name    string
		s       Salvaged
		delay   int
		padding int
	}{
		{"no frames", Salvaged{Header: mono}, EncoderDelay, DecoderDelay},
		{"negative delay", Salvaged{Frames: 1, Bytes: 288, Header: mono}, -1, 0},
		{"delay over 12 bits", Salvaged{Frames: 1, Bytes: 288, Header: mono}, 4096, 0},
		{"padding over 12 bits", Salvaged{Frames: 1, Bytes: 288, Header: mono}, 0, 4096},
		{"bad header", Salvaged{Frames: 1, Bytes: 288}, 0, 0},
		{"frame too small", Salvaged{Frames: 1, Bytes: 72, Header: [4]byte{0xFF, 0xE3, 0x18, 0xC4}}, 0, 0}, // 8 kbps: 72 bytes
		{"too many bytes", Salvaged{Frames: 1 << 24, Bytes: 288 << 24, Header: mono}, 0, 0},
		{"too many frames", Salvaged{Frames: 1 << 32, Bytes: 1, Header: mono}, 0, 0},
	} {
		if b, err := InfoFrame(c.s, c.delay, c.padding); err == nil {
			t.Errorf("%s: InfoFrame = %d bytes, no error", c.name, len(b))
		}
	}
	if _, err := InfoFrame(Salvaged{}, 0, 0); !errors.Is(err, errNoFrames) {
		t.Errorf("InfoFrame of nothing: %v, want %v", err, errNoFrames)
	}
}

// TestInfoFrameHeader checks the header and layout for other formats: the
// stream's padding, CRC and mode-extension bits do not reach the Info
// frame, and the tag sits after the side information of its version and
// channel mode.
func TestInfoFrameHeader(t *testing.T) {
	for _, c := range []struct {
		name   string
		stream [4]byte
		info   [4]byte
		x      int // offset of "Info"
		size   int
	}{
		{"mpeg2.5 mono padded", [4]byte{0xFF, 0xE3, 0x4A, 0xC4}, [4]byte{0xFF, 0xE3, 0x48, 0xC4}, 4 + 9, 288},
		{"mpeg2.5 joint stereo ms crc", [4]byte{0xFF, 0xE2, 0x48, 0x64}, [4]byte{0xFF, 0xE3, 0x48, 0x44}, 4 + 17, 288},
		{"mpeg1 stereo 128k", [4]byte{0xFF, 0xFB, 0x92, 0x00}, [4]byte{0xFF, 0xFB, 0x90, 0x00}, 4 + 32, 417},
		{"mpeg1 mono 64k 48kHz", [4]byte{0xFF, 0xFB, 0x54, 0xC0}, [4]byte{0xFF, 0xFB, 0x54, 0xC0}, 4 + 17, 192},
	} {
		b, err := InfoFrame(Salvaged{Frames: 10, Bytes: 10 * 288, Header: c.stream}, EncoderDelay, DecoderDelay)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if [4]byte(b) != c.info || len(b) != c.size || string(b[c.x:c.x+4]) != "Info" {
			t.Errorf("%s: header % x, %d bytes, mark %q; want % x, %d bytes, Info at %d", c.name, b[:4], len(b), b[c.x:c.x+4], c.info, c.size, c.x)
		}
		if crc := lameCRC(0, b[:c.x+lameTagCRC]); crc != binary.BigEndian.Uint16(b[c.x+lameTagCRC:]) {
			t.Errorf("%s: tag crc % x, want %04x", c.name, b[c.x+lameTagCRC:c.x+lameTagEnd], crc)
		}
	}
}

// TestEncoderDelay checks EncoderDelay against LAME at every quality.
func TestEncoderDelay(t *testing.T) {
	for _, channels := range []int{1, 2} {
		for q := range 10 {
			e, err := NewEncoder(channels, q)
			if err != nil {
				t.Fatalf("NewEncoder: %v", err)
			}
			if d := e.Delay(); d != EncoderDelay {
				t.Errorf("%d channels, quality %d: Delay = %d, want %d", channels, q, d, EncoderDelay)
			}
			e.Close()
			if d := e.Delay(); d != 0 {
				t.Errorf("Delay after Close = %d", d)
			}
		}
	}
}

// TestLAMECRC checks the CRC against the CRC-16/ARC check value.
func TestLAMECRC(t *testing.T) {
	if crc := lameCRC(0, []byte("123456789")); crc != 0xBB3D {
		t.Errorf("lameCRC(123456789) = %04x, want bb3d", crc)
	}
	if crc := lameCRC(lameCRC(0, []byte("1234")), []byte("56789")); crc != 0xBB3D {
		t.Errorf("lameCRC in two steps = %04x, want bb3d", crc)
	}
}
