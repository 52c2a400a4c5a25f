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

// TestFramer feeds two 288-byte frames in awkward pieces: only the second
// is emitted, whole.
func TestFramer(t *testing.T) {
	f1 := append([]byte{0xFF, 0xE3, 0x48, 0xC4}, bytes.Repeat([]byte{1}, 284)...)
	f2 := append([]byte{0xFF, 0xE3, 0x48, 0xC4}, bytes.Repeat([]byte{2}, 284)...)
	stream := append(append([]byte{}, f1...), f2...)
	for _, cut := range [][]int{{1, 2, 3, 300}, {288}, {4, 290}, {576}, {0, 0, 100}} {
		var frames [][]byte
		f := &framer{emit: func(b []byte) error { frames = append(frames, bytes.Clone(b)); return nil }}
		rest := stream
		for _, n := range cut {
			n = min(n, len(rest))
			if err := f.write(rest[:n]); err != nil {
				t.Fatalf("cut %v: write: %v", cut, err)
			}
			rest = rest[n:]
		}
		if err := f.write(rest); err != nil {
			t.Fatalf("cut %v: write: %v", cut, err)
		}
		if len(frames) != 1 || !bytes.Equal(frames[0], f2) || len(f.partial()) != 0 {
			t.Errorf("cut %v: %d frames emitted (%d bytes held), want the second frame", cut, len(frames), len(f.partial()))
		}
	}
	f := &framer{emit: func([]byte) error { return nil }}
	if err := f.write([]byte("ID3\x03")); err == nil {
		t.Errorf("write of a non-frame: no error")
	}
}
