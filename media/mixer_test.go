package media

import (
	"slices"
	"testing"
)

func TestMixMono(t *testing.T) {
	for _, c := range []struct {
		name string
		srcs [][]int16
		want []int16
	}{
		{"none", nil, []int16{0, 0, 0}},
		{"one", [][]int16{{1, -2, 3}}, []int16{1, -2, 3}},
		{"sum", [][]int16{{1, 2, 3}, {10, 20, 30}}, []int16{11, 22, 33}},
		{"short source is silent after its end", [][]int16{{5}, {1, 1, 1}}, []int16{6, 1, 1}},
		{"saturates up", [][]int16{{30000, 1}, {30000, 1}}, []int16{32767, 2, 0}},
		{"saturates down", [][]int16{{-30000}, {-30000}}, []int16{-32768, 0, 0}},
		{"longer source is cut", [][]int16{{1, 2, 3, 4}}, []int16{1, 2, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := []int16{9, 9, 9} // stale content must be cleared
			if got := mixMono(dst, c.srcs); !slices.Equal(got, c.want) {
				t.Errorf("mixMono = %v, want %v", got, c.want)
			}
		})
	}
}

func TestMixStereo(t *testing.T) {
	for _, c := range []struct {
		name   string
		left   []int16
		others [][]int16
		want   []int16
	}{
		{"left only", []int16{1, 2}, nil, []int16{1, 0, 2, 0}},
		{"right only", nil, [][]int16{{3, 4}}, []int16{0, 3, 0, 4}},
		{"others summed right", []int16{1, 2}, [][]int16{{10, 20}, {100}}, []int16{1, 110, 2, 20}},
		{"right saturates", nil, [][]int16{{32000, -32000}, {32000, -32000}}, []int16{0, 32767, 0, -32768}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := []int16{9, 9, 9, 9}
			if got := mixStereo(dst, c.left, c.others); !slices.Equal(got, c.want) {
				t.Errorf("mixStereo = %v, want %v", got, c.want)
			}
		})
	}
}

// TestStereoAssignment: the first leg is left by default; SetLeft moves
// the left channel to another leg for the audio emitted afterwards.
func TestStereoAssignment(t *testing.T) {
	h := newHarness(t, Config{Stereo: true, Reorder: reorder40})
	a, b, c := h.leg("a"), h.leg("b"), h.leg("c")
	send := func(i int) {
		h.send(a, 1, uint16(i), uint32(160*i), 0xFE, 20*i) // 8
		h.send(b, 2, uint16(i), uint32(160*i), 0xFD, 20*i) // 16
		h.send(c, 3, uint16(i), uint32(160*i), 0xFC, 20*i) // 24
	}
	const before, after = 55, 5 // packets
	for i := range before {
		send(i)
	}
	// emitted: 8800 - 320 frames with a on the left.
	split := before*160 - 320
	h.r.SetLeft("b")
	for i := before; i < before+after; i++ {
		send(i)
	}
	h.stop()
	frames := (before + after) * 160
	if len(h.pcm) != 2*frames {
		t.Fatalf("%d samples, want %d", len(h.pcm), 2*frames)
	}
	for i := range frames {
		l, r := h.pcm[2*i], h.pcm[2*i+1]
		wl, wr := int16(8), int16(16+24)
		if i >= split {
			wl, wr = 16, 8+24
		}
		if l != wl || r != wr {
			t.Fatalf("frame %d = (%d, %d), want (%d, %d)", i, l, r, wl, wr)
		}
	}
}

func TestMonoMixOfLegs(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a, b := h.leg("a"), h.leg("b")
	h.send(a, 1, 1, 0, 0x80, 0) // 32124
	h.send(b, 2, 1, 0, 0x80, 0) // 32124: saturates
	h.send(a, 1, 2, 160, 0xFE, 20)
	h.send(b, 2, 2, 160, 0x7E, 20) // 8 + -8
	h.stop()
	wantBlocks(t, h.blocks(), []int16{32767, 0})
}
