package media

import (
	"bytes"
	"testing"
)

func TestFrameSize(t *testing.T) {
	for _, c := range []struct {
		name string
		h    [4]byte
		size int
	}{
		{"mpeg2.5 32k 8kHz", [4]byte{0xFF, 0xE3, 0x48, 0xC4}, 288},
		{"mpeg2.5 32k 8kHz padded", [4]byte{0xFF, 0xE3, 0x4A, 0xC4}, 289},
		{"mpeg2 64k 16kHz", [4]byte{0xFF, 0xF3, 0x88, 0x00}, 288},
		{"mpeg1 128k 44.1kHz", [4]byte{0xFF, 0xFB, 0x90, 0x00}, 417},
		{"no sync", [4]byte{0x49, 0x44, 0x33, 0x03}, 0},
		{"layer ii", [4]byte{0xFF, 0xE5, 0x48, 0x00}, 0},
		{"free bit rate", [4]byte{0xFF, 0xE3, 0x08, 0x00}, 0},
		{"bad sample rate", [4]byte{0xFF, 0xE3, 0x4C, 0x00}, 0},
		{"reserved version", [4]byte{0xFF, 0xEB, 0x48, 0x00}, 0},
	} {
		size, err := frameSize(c.h)
		if size != c.size || (err != nil) != (c.size == 0) {
			t.Errorf("%s: frameSize = %d, %v; want %d", c.name, size, err, c.size)
		}
	}
}

// TestWithholdFirst feeds two 288-byte frames in awkward pieces: only the
// second reaches the writer.
func TestWithholdFirst(t *testing.T) {
	f1 := append([]byte{0xFF, 0xE3, 0x48, 0xC4}, bytes.Repeat([]byte{1}, 284)...)
	f2 := append([]byte{0xFF, 0xE3, 0x48, 0xC4}, bytes.Repeat([]byte{2}, 284)...)
	stream := append(append([]byte{}, f1...), f2...)
	for _, cut := range [][]int{{1, 2, 3, 300}, {288}, {4, 290}, {576}, {0, 0, 100}} {
		var out bytes.Buffer
		w := &withholdFirst{w: &out}
		rest := stream
		for _, n := range cut {
			n = min(n, len(rest))
			if k, err := w.Write(rest[:n]); err != nil || k != n {
				t.Fatalf("cut %v: Write = %d, %v", cut, k, err)
			}
			rest = rest[n:]
		}
		if _, err := w.Write(rest); err != nil {
			t.Fatalf("cut %v: Write: %v", cut, err)
		}
		if !bytes.Equal(out.Bytes(), f2) || w.held != 288 {
			t.Errorf("cut %v: wrote %d bytes (held %d), want the second frame", cut, out.Len(), w.held)
		}
	}
	w := &withholdFirst{w: &bytes.Buffer{}}
	if _, err := w.Write([]byte("ID3\x03")); err == nil {
		t.Errorf("Write of a non-frame: no error")
	}
}
