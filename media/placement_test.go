package media

import (
	"math/rand/v2"
	"testing"
)

// alignedBlocks checks that every 20 ms block of the harness's mono mix is
// want, the sum of both legs: the legs are aligned to the sample.
func alignedBlocks(t *testing.T, h *pcmHarness, blocks int, want int16) {
	t.Helper()
	got := h.blocks()
	if len(got) != blocks {
		t.Fatalf("%d blocks, want %d", len(got), blocks)
	}
	for i, v := range got {
		if v != want {
			t.Fatalf("block %d = %d, want %d (blocks %v)", i, v, want, got)
		}
	}
}

// TestLateFirstPacketDoesNotShiftLeg: two legs of one gateway, sent in
// step; leg b's first packet is 15 ms late. The legs stay aligned to the
// sample (the old recorder put all of leg b 15 ms late).
func TestLateFirstPacketDoesNotShiftLeg(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := h.leg("a"), h.leg("b")
	const n = 100
	for i := range n {
		delay := 0.0
		if i == 0 {
			delay = 15
		}
		h.sendFrom(a, testSrc, 1, uint16(i), uint32(160*i), 0xFE, float64(20*i))                // 8
		h.sendFrom(b, testSrc, 2, uint16(9000+i), uint32(777+160*i), 0xFD, float64(20*i)+delay) // 16
	}
	h.stop()
	alignedBlocks(t, h, n, 24)
}

// TestJitterDoesNotShiftLegs: every packet of both legs is delayed by a
// random 0-40 ms (a few by nothing); the legs are placed by their least
// delayed packets and stay aligned to the sample.
func TestJitterDoesNotShiftLegs(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := h.leg("a"), h.leg("b")
	rng := rand.New(rand.NewPCG(6, 6))
	const n = 150
	for i := range n {
		da, db := 40*rng.Float64(), 40*rng.Float64()
		if i == 30 {
			da, db = 0, 0 // the path's own delay, seen once in the first second
		}
		h.sendFrom(a, testSrc, 1, uint16(i), uint32(160*i), 0xFE, float64(20*i)+da)
		h.sendFrom(b, testSrc, 2, uint16(i), uint32(160*i), 0xFD, float64(20*i)+db)
	}
	res := h.stop()
	alignedBlocks(t, h, n, 24)
	for _, st := range res.Legs {
		if st.Late+st.Concealed != 0 {
			t.Errorf("leg %s: %+v", st.Label, st)
		}
	}
}

// TestReaderStallDoesNotStretch: leg a's reader stalls for 1.5 s, one
// second into a 3 s call: its 75 packets of that time are taken in at
// once, after leg b's. The recording keeps its length and leg a its place
// (the old recorder placed the rest of leg a 1.5 s late: a longer call).
// With arrival times from the clock the stalled packets look bunched; with
// the kernel's they carry their real times. Alone, the leg loses nothing;
// beside a leg that went on, what the mixer could not wait for is late.
func TestReaderStallDoesNotStretch(t *testing.T) {
	const n, from, to = 150, 50, 125
	for _, c := range []struct {
		name         string
		kernel, solo bool
	}{{"clock", false, false}, {"kernel", true, false}, {"clock, alone", false, true}, {"kernel, alone", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			a, b := h.leg("a"), h.leg("b")
			sendA := func(i int, ms float64) { h.sendFrom(a, testSrc, 1, uint16(i), uint32(160*i), 0xFE, ms) }
			for i := range n {
				if i < from || i >= to {
					sendA(i, float64(20*i))
				}
				if i == to-1 { // the reader wakes up
					for k := from; k < to; k++ {
						at := float64(20 * (to - 1))
						if c.kernel {
							at = float64(20 * k)
						}
						sendA(k, at)
					}
				}
				if !c.solo {
					h.sendFrom(b, testSrc, 2, uint16(i), uint32(160*i), 0xFD, float64(20*i))
				}
			}
			res := h.stop()
			got := h.blocks()
			if len(got) != n {
				t.Fatalf("%d blocks, want %d: the call was stretched or cut", len(got), n)
			}
			both, aOnly := int16(24), int16(8)
			want := both
			if c.solo {
				want = aOnly
			}
			lost := 0
			for i, v := range got {
				switch {
				case v == want:
				case !c.solo && i >= from && i < to && v == 16:
					lost++ // leg a's packet came too late for the mix
				default:
					t.Fatalf("block %d = %d, want %d: leg a moved", i, v, want)
				}
			}
			if st := res.Legs[0]; st.Late != uint64(lost) || (c.solo && lost != 0) {
				t.Errorf("leg a: %d late, %d blocks without it", st.Late, lost)
			}
			t.Logf("%d of leg a's %d stalled packets lost", lost, to-from)
		})
	}
}

// TestTimestampsFrozenAcrossHold: a sender that keeps its timestamps
// across a 3 s pause is placed where it resumes, not 3 s early.
func TestTimestampsFrozenAcrossHold(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.leg("a")
	for i := range 60 {
		ms := 20 * i
		if i >= 30 {
			ms += 3000
		}
		h.send(a, 1, uint16(i), uint32(160*i), 0xFE, ms)
	}
	res := h.stop()
	if want := 60*160 + 3*sampleRate; res.Samples != int64(want) {
		t.Errorf("%d samples, want %d", res.Samples, want)
	}
	if h.pcm[30*160-1] != 8 || h.pcm[30*160] != 0 || h.pcm[30*160+3*sampleRate] != 8 {
		t.Errorf("the pause is not where the sender paused")
	}
}

// TestStreamMovedAtGap: a stream whose first second was all 30 ms late
// (a path that got faster) is moved to its new minimum transit at its
// next pause, without cutting any audio.
func TestStreamMovedAtGap(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := h.leg("a"), h.leg("b")
	for i := range 200 {
		ms := float64(20 * i)
		h.sendFrom(b, testSrc, 2, uint16(i), uint32(160*i), 0xFD, ms) // 16, every 20 ms
		switch {
		case i < 100:
			h.sendFrom(a, testSrc, 1, uint16(i), uint32(160*i), 0xFE, ms+30) // 8, 30 ms late
		case i >= 110: // after a 200 ms pause (silence suppression), on time
			h.sendFrom(a, testSrc, 1, uint16(i-10), uint32(160*i), 0xFE, ms)
		}
	}
	h.stop()
	// Before the pause leg a sits 30 ms (240 samples) late; after it, in
	// place.
	if h.pcm[239] != 16 || h.pcm[240] != 24 || h.pcm[100*160+239] != 24 || h.pcm[100*160+240] != 16 {
		t.Errorf("leg a not 30 ms late before its pause")
	}
	if h.pcm[110*160-1] != 16 || h.pcm[110*160] != 24 || h.pcm[len(h.pcm)-1] != 24 {
		t.Errorf("leg a not in place after its pause")
	}
	if len(h.pcm) != 200*160 {
		t.Errorf("%d samples, want %d", len(h.pcm), 200*160)
	}
}

// TestSecondSSRCMustFitWallClock: a new SSRC cannot begin where the
// stream's audio runs ahead of its arrival.
func TestSecondSSRCMustFitWallClock(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.leg("a")
	const n = 60 // 1.2 s: the stream has settled and been released
	for i := range n {
		h.send(a, 1, uint16(i), uint32(160*i), 0xFE, 20*i)
	}
	// The next packet claims to be 150 ms later than it came: the stream
	// now reaches 1.37 s, ahead of real time by less than the reorder
	// window, so it is not realigned at once.
	h.send(a, 1, n, 160*n+1200, 0xFE, 20*n)
	h.send(a, 2, 1, 0, 0xFD, 20*n+100) // silent for 100 ms, but not past its audio
	if st := h.r.Stats()[0]; st.ForeignSSRC != 1 || st.SSRC != 1 {
		t.Errorf("stats %+v: want the new SSRC refused", st)
	}
	h.send(a, 2, 2, 160, 0xFD, 20*n+200) // past the stream's audio: it begins
	if st := h.r.Stats()[0]; st.SSRC != 2 || st.ForeignSSRC != 1 {
		t.Errorf("stats %+v: want SSRC 2 taken", st)
	}
	h.stop()
}
