package testaudio

import "testing"

// Two claims in one process never get the same range.
func TestRTPRangesDiffer(t *testing.T) {
	a, b := RTPRange(t), RTPRange(t)
	if a == b || a < 20000 || b > 59900 || a%100 != 0 || b%100 != 0 {
		t.Fatalf("ranges %d and %d", a, b)
	}
}
