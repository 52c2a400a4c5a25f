package g711

import "testing"

func TestUlawKnownValues(t *testing.T) {
	for _, c := range []struct {
		in   int16
		want byte
	}{{0, 0xFF}, {-1, 0x7F}, {32767, 0x80}, {-32768, 0x00}, {1000, 0xCE}} {
		if got := EncodeUlaw([]int16{c.in})[0]; got != c.want {
			t.Errorf("ulaw(%d) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

func TestAlawKnownValues(t *testing.T) {
	for _, c := range []struct {
		in   int16
		want byte
	}{{0, 0xD5}, {-8, 0x55}, {32767, 0xAA}, {-32768, 0x2A}} {
		if got := EncodeAlaw([]int16{c.in})[0]; got != c.want {
			t.Errorf("alaw(%d) = %#x, want %#x", c.in, got, c.want)
		}
	}
}
