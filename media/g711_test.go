package media

import "testing"

// Reference values from ITU-T G.711 tables 2a/2b (decoder output, scaled to
// 16 bits as in the G.191 reference implementation).
func TestG711Reference(t *testing.T) {
	ulaw := map[byte]int16{
		0xFF: 0, 0x7F: 0, // the two zeros
		0x00: -32124, 0x80: 32124, // extremes
		0xEF: 132, 0x6F: -132, // segment 1, mantissa 0
		0xFE: 8, 0x7E: -8,
		0xDF: 396, 0xCF: 924, 0xBF: 1980, // segment starts 132·2^s − 132
	}
	for code, want := range ulaw {
		if got := ulawTable[code]; got != want {
			t.Errorf("µ-law 0x%02X = %d, want %d", code, got, want)
		}
	}
	alaw := map[byte]int16{
		0xD5: 8, 0x55: -8,
		0xAA: 32256, 0x2A: -32256,
		0xD4: 24, 0xC5: 264, 0xF5: 528,
	}
	for code, want := range alaw {
		if got := alawTable[code]; got != want {
			t.Errorf("A-law 0x%02X = %d, want %d", code, got, want)
		}
	}
}

// TestG711Symmetry checks that flipping the sign bit negates the value and
// that magnitudes grow strictly with the code.
func TestG711Symmetry(t *testing.T) {
	for c := range 128 {
		if u, v := ulawTable[c], ulawTable[c|0x80]; u != -v {
			t.Errorf("µ-law 0x%02X = %d, 0x%02X = %d: not symmetric", c, u, c|0x80, v)
		}
		if a, b := alawTable[c], alawTable[c|0x80]; a != -b {
			t.Errorf("A-law 0x%02X = %d, 0x%02X = %d: not symmetric", c, a, c|0x80, b)
		}
	}
	// µ-law: 0xFF is the smallest positive magnitude, 0x80 the largest.
	for c := 0x81; c <= 0xFF; c++ {
		if ulawTable[c] >= ulawTable[c-1] {
			t.Fatalf("µ-law not decreasing at 0x%02X", c)
		}
	}
	// A-law: undo the even-bit inversion to get the magnitude order.
	prev := int16(-1)
	for m := range 128 {
		v := alawTable[byte(m|0x80)^0x55]
		if v <= prev {
			t.Fatalf("A-law not increasing at magnitude %d", m)
		}
		prev = v
	}
}
