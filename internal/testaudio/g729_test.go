package testaudio

import "testing"

func TestEncodeG729FrameSizes(t *testing.T) {
	for _, c := range []struct{ samples, bytes int }{{0, 0}, {1, 10}, {80, 10}, {160, 20}, {161, 30}, {8000, 1000}} {
		if got := len(EncodeG729(Tone(400, 8000, c.samples, 8000))); got != c.bytes {
			t.Errorf("EncodeG729(%d samples) = %d bytes, want %d", c.samples, got, c.bytes)
		}
	}
}

func TestEncodeG729Deterministic(t *testing.T) {
	s := Tone(1000, 8000, 1600, 12000)
	a, b := EncodeG729(s), EncodeG729(s)
	if string(a) != string(b) {
		t.Errorf("two encodings of the same tone differ")
	}
	if string(a) == string(EncodeG729(make([]int16, 1600))) {
		t.Errorf("a tone encodes like silence")
	}
}

func TestMallocInUseSeesAllocations(t *testing.T) {
	before := MallocInUse()
	for range 1000 {
		EncodeG729(make([]int16, 80)) // allocates and frees an encoder context
	}
	if d := MallocInUse() - before; d > 64<<10 {
		t.Errorf("C heap grew by %d bytes over 1000 encodes", d)
	}
	if before <= 0 {
		t.Errorf("MallocInUse = %d", before)
	}
}
