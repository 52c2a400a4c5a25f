package media

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/callvault/callvault/internal/testaudio"
)

// playG729 records one G.729 leg (payload type 18) from a schedule of
// packets, each ingested at its arrival, and returns the PCM and the leg's
// counters.
func playG729(t *testing.T, sched []testaudio.Scheduled) ([]int16, LegStats) {
	t.Helper()
	h := newHarness(t, Config{})
	l := h.legAt("a", LegOptions{Codecs: g729Codecs})
	for _, p := range sched {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 18, SequenceNumber: p.Seq,
			Timestamp: p.TS, SSRC: 0x729}, Payload: p.Payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		h.r.ingest(l, b, testSrc, h.t0.Add(p.At))
	}
	res := h.stop()
	return h.pcm, res.Legs[0]
}

// decodeInOrder is what an ideal recorder makes of the packets of clean
// that got decodes: each decoded in RTP order, each lost one (between the
// first and the last that got) concealed by the decoder.
func decodeInOrder(t *testing.T, clean []testaudio.Scheduled, got map[uint16]bool) []int16 {
	t.Helper()
	d := newG729(t)
	var pcm []int16
	first, last := -1, -1
	for i, p := range clean {
		if got[p.Seq] {
			first, last = cmp.Or(first+1, i+1)-1, i
		}
	}
	for _, p := range clean[first : last+1] {
		if got[p.Seq] {
			pcm = d.Decode(pcm, p.Payload)
		} else {
			pcm = d.Conceal(pcm, d.Samples(p.Payload))
		}
	}
	return pcm
}

// TestG729InOrderUnderNetworkTrouble: 20 s of speech-like G.729 through
// 1 % loss, 40 ms jitter, 5 % reordering within 60 ms and 1 %
// duplicates. The recording is, sample for sample, the in-order decode of
// the packets that arrived with the lost ones concealed; its segmental SNR
// against the clean decode is logged (the old recorder, decoding in
// arrival order with the duplicates, scored 5.4 dB).
func TestG729InOrderUnderNetworkTrouble(t *testing.T) {
	speech := testaudio.Speech(20*sampleRate, 6)
	clean := testaudio.Packets(testaudio.EncodeG729(speech), 20)
	for _, seed := range []uint64{1, 2, 3} {
		sched, err := testaudio.NetworkTrouble(seed).Apply(clean)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint16]bool{}
		reordered, dups := 0, 0
		for i, p := range sched {
			if got[p.Seq] {
				dups++
			}
			got[p.Seq] = true
			if i > 0 && p.Seq < sched[i-1].Seq {
				reordered++
			}
		}
		pcm, st := playG729(t, sched)
		want := decodeInOrder(t, clean, got)
		if !slices.Equal(pcm, want) {
			i := 0
			for i < min(len(pcm), len(want)) && pcm[i] == want[i] {
				i++
			}
			t.Errorf("seed %d: the recording (%d samples) is not the in-order decode (%d samples) from sample %d", seed, len(pcm), len(want), i)
		}
		lost := len(clean) - len(got)
		if st.Late != 0 || st.Duplicates != uint64(dups) || st.Concealed != uint64(len(want)-160*(len(got)))/80 {
			t.Errorf("seed %d: stats %+v; want no late, %d duplicates, two frames concealed per packet lost within the call", seed, st, dups)
		}
		if within := lostWithin(clean, got); st.Lost != within {
			t.Errorf("seed %d: %d packets lost by sequence, want %d (those missing between the first and the last received)", seed, st.Lost, within)
		}
		ideal := decodeInOrder(t, clean, func() map[uint16]bool {
			all := map[uint16]bool{}
			for _, p := range clean {
				all[p.Seq] = true
			}
			return all
		}())
		first := int(sched[0].Seq) // the recording starts at the first packet that got
		for _, p := range sched {
			first = min(first, int(p.Seq))
		}
		score, err := testaudio.SegSNR(ideal[(first-int(clean[0].Seq))*160:], pcm, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: %d lost, %d reordered, %d duplicated: %v against the clean decode", seed, lost, reordered, dups, score)
		if score.SegSNR < 20 {
			t.Errorf("seed %d: %v, want at least 20 dB", seed, score)
		}
	}
}

// TestJitterOrderAndGrowth: the reorder buffer gives packets back in
// sequence order whatever order they came in, grows (slots and payload
// room) up to its limit, and reports what does not fit.
func TestJitterOrderAndGrowth(t *testing.T) {
	j := newJitter(64)
	order := []int64{5, 3, 4, 9, 6, 7, 8, 2}
	for _, ext := range order {
		if !j.fits(ext) {
			t.Fatalf("%d does not fit", ext)
		}
		payload := make([]byte, 100*int(ext)) // 900 bytes for 9: the room grows
		payload[0] = byte(ext)
		j.put(ext, kindAudio, 0, ext*160, 160, payload)
	}
	if j.fits(2+64) || !j.fits(2+63) || len(j.slots) != 64 {
		t.Errorf("fits: %v %v with %d slots; want the span limited to 64", j.fits(2+64), j.fits(2+63), len(j.slots))
	}
	var seen []int64
	for {
		s, p := j.first()
		if s == nil {
			break
		}
		if len(p) != 100*int(s.ext) || p[0] != byte(s.ext) || s.rel != s.ext*160 {
			t.Fatalf("packet %d: %d bytes, first %d, rel %d", s.ext, len(p), p[0], s.rel)
		}
		seen = append(seen, s.ext)
		j.pop()
	}
	if !slices.Equal(seen, []int64{2, 3, 4, 5, 6, 7, 8, 9}) || !j.late(9) || j.late(10) {
		t.Errorf("released %v, late(9) %v, late(10) %v", seen, j.late(9), j.late(10))
	}
	j.put(20, kindEvent, 101, 0, 0, []byte{9, 9, 9, 9})
	if s, p := j.first(); s == nil || len(p) != 0 {
		t.Errorf("a telephone-event kept its payload")
	}
}

// TestJitterLimit: a leg may hold the packets of everything the mixer may
// wait for (the settling, the window twice) at 5 ms a packet, but never more
// than duplicate detection covers.
func TestJitterLimit(t *testing.T) {
	for _, c := range []struct {
		reorder time.Duration
		want    int
	}{{40 * time.Millisecond, 256}, {defaultReorder, 512}, {maxReorder, seqWindow}} {
		if got := jitterLimit(int64(c.reorder / time.Millisecond * 8)); got != c.want {
			t.Errorf("reorder %v: %d slots, want %d", c.reorder, got, c.want)
		}
	}
}

// TestSeqLost: numbers that never arrived are lost; late and reordered
// ones are not; duplicates make up for none; a wrap of the 16-bit number
// is no loss.
func TestSeqLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint16
		lost uint64
	}{
		{"in order", []uint16{10, 11, 12, 13}, 0},
		{"two gone", []uint16{10, 11, 14, 15}, 2},
		{"reordered", []uint16{10, 12, 11, 13}, 0},
		{"late after a gap", []uint16{10, 13, 14, 11, 12}, 0},
		{"duplicates", []uint16{10, 11, 11, 11, 13}, 1},
		{"wrap", []uint16{65534, 65535, 0, 1}, 0},
		{"wrap with a loss", []uint16{65534, 0, 1}, 1},
		{"earlier than the first", []uint16{10, 11, 9, 12}, 0},
		{"a long gap", []uint16{1, 3000}, 2998},
	} {
		var s seqTracker
		for _, q := range tc.seqs {
			s.observe(q)
		}
		if got := s.lost(); got != tc.lost {
			t.Errorf("%s: lost %d, want %d", tc.name, got, tc.lost)
		}
	}
}

// lostWithin counts the packets of clean missing from got between the
// first and the last that arrived.
func lostWithin(clean []testaudio.Scheduled, got map[uint16]bool) uint64 {
	first, last := -1, -1
	for i, p := range clean {
		if got[p.Seq] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	var n uint64
	for _, p := range clean[max(first, 0) : last+1] {
		if !got[p.Seq] {
			n++
		}
	}
	return n
}

// TestJitterShrinks: a buffer that grew for a new stream's first second
// halves once what it holds spans 3/8 of it or less, keeping its packets
// in order, and not below its first size.
func TestJitterShrinks(t *testing.T) {
	j := newJitter(256)
	for ext := range int64(50) { // a second held while the stream settles
		if !j.fits(ext) {
			t.Fatalf("%d does not fit", ext)
		}
		j.put(ext, kindAudio, 0, ext*160, 160, []byte{byte(ext)})
	}
	if len(j.slots) != 64 {
		t.Fatalf("%d slots for 50 packets, want 64", len(j.slots))
	}
	next := int64(0)
	pop := func(k int) {
		for range k {
			s, p := j.first()
			if s == nil || s.ext != next || p[0] != byte(next) {
				t.Fatalf("released %+v, want packet %d", s, next)
			}
			j.pop()
			next++
		}
	}
	pop(25) // 25 held, spanning 24 = 3/8 of 64
	if len(j.slots) != 64 {
		t.Errorf("%d slots with 25 held, want 64 still", len(j.slots))
	}
	pop(1)
	if len(j.slots) != 32 {
		t.Errorf("%d slots with 24 held, want 32", len(j.slots))
	}
	pop(24)
	if len(j.slots) != jitterSlots || j.count != 0 {
		t.Errorf("%d slots, %d held at the end; want %d, 0", len(j.slots), j.count, jitterSlots)
	}
}
