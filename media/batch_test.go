package media

import (
	"slices"
	"testing"
)

// TestPCMBatch: whatever the pieces, encode gets the same samples in
// order, in whole batches but the last, and a stereo batch never splits
// a sample pair.
func TestPCMBatch(t *testing.T) {
	for _, ch := range []int{1, 2} {
		var got []int16
		var sizes []int
		b := newPCMBatch(ch, func(p []int16) error {
			got = append(got, p...)
			sizes = append(sizes, len(p))
			return nil
		})
		var want []int16
		next := int16(0)
		for _, n := range []int{160, 4608, 3, 2304, 160, 9000, 1, 777} {
			p := make([]int16, n*ch)
			for i := range p {
				p[i] = next
				next++
			}
			want = append(want, p...)
			if err := b.add(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.flush(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%d channels: the samples came out changed or reordered", ch)
		}
		for i, n := range sizes {
			if n%ch != 0 || (i < len(sizes)-1 && n < encodeBatch*ch) {
				t.Errorf("%d channels: encode %d got %d samples (batches %v)", ch, i, n, sizes)
			}
		}
	}
}
