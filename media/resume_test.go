package media

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// A resume scenario: two legs, a and b, talk in spurts (talks), each one
// RTP stream, and every packet is 20 ms of one PCMU code. Each talk has a
// code whose decoded value is a bit of its own, so every sample of the mono
// mix tells which talks it holds. Two talks of one leg share the leg's
// timeline: one placed over the other overwrites it, so a block holding
// both, a talk that starts early or one that lost samples shows where the
// leg's audio went.
const (
	codeA      = 0xFE // leg a, u = 8
	codeB      = 0xFD // leg b before its pause, u = 16
	codeBAfter = 0xFB // leg b after it, u = 32
	codeAAfter = 0xF7 // leg a after a pause of its own, u = 64
)

// talk is one stream of a leg: it sends blocks [from, from+n) of the call
// (block i is sent at 20*i ms), with sequence numbers from seq and
// timestamps from ts.
type talk struct {
	b       bool // leg b, else a
	from, n int
	ssrc    uint32
	seq     uint16
	ts      uint32
	code    byte
	// delay is the extra network delay (ms) of the talk's k-th packet;
	// nil for none.
	delay func(k int) float64
}

// resumeScenario is a call of total blocks made of talks.
type resumeScenario struct {
	talks []talk
	total int
	// lag delays the ingest of leg b's packets sent in [lagFrom, lagFrom+lag)
	// ms until lagFrom+lag, with their (kernel) arrival times unchanged: its
	// reader was not scheduled.
	lagFrom, lag float64
	// reinvites are the times (ms) of re-INVITEs: SetCodecs on both legs,
	// as the recorder calls it.
	reinvites []float64
	// stragglers are packets of leg b's first talk (talks[1]) sent again,
	// arriving late: block number to arrival (ms).
	stragglers map[int]float64
}

// packet is one ingest of a scenario.
type packet struct {
	b        bool
	ssrc     uint32
	seq      uint16
	ts       uint32
	code     byte
	arrival  float64 // ms
	ingest   float64 // ms
	reinvite bool
}

// packets returns the scenario's packets and re-INVITEs in ingest order.
func (sc resumeScenario) packets() []packet {
	var ps []packet
	add := func(t talk, k int, arrival float64) {
		p := packet{b: t.b, ssrc: t.ssrc, seq: t.seq + uint16(k), ts: t.ts + uint32(160*k), code: t.code, arrival: arrival, ingest: arrival}
		if t.b && arrival >= sc.lagFrom && arrival < sc.lagFrom+sc.lag {
			p.ingest = sc.lagFrom + sc.lag
		}
		ps = append(ps, p)
	}
	for _, t := range sc.talks {
		for k := range t.n {
			d := 0.0
			if t.delay != nil {
				d = t.delay(k)
			}
			add(t, k, float64(20*(t.from+k))+d)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(sc.stragglers)) {
		add(sc.talks[1], k-sc.talks[1].from, sc.stragglers[k])
	}
	for _, at := range sc.reinvites {
		ps = append(ps, packet{reinvite: true, ingest: at})
	}
	slices.SortStableFunc(ps, func(x, y packet) int {
		switch {
		case x.ingest < y.ingest:
			return -1
		case x.ingest > y.ingest:
			return 1
		}
		return 0
	})
	return ps
}

// record records the scenario and returns the mono mix and the result.
func (sc resumeScenario) record(t *testing.T) ([]int16, Result) {
	t.Helper()
	h := newHarness(t, Config{})
	a, b := h.leg("a"), h.leg("b")
	for _, p := range sc.packets() {
		switch {
		case p.reinvite:
			for _, label := range []string{"a", "b"} {
				if err := h.r.SetCodecs(label, testCodecs); err != nil {
					t.Fatalf("SetCodecs: %v", err)
				}
			}
		case p.b:
			h.sendFrom(b, testSrc, p.ssrc, p.seq, p.ts, p.code, p.arrival)
		default:
			h.sendFrom(a, testSrc, p.ssrc, p.seq, p.ts, p.code, p.arrival)
		}
	}
	return h.pcm, h.stop()
}

// check asserts that every talk's audio starts within one 20 ms block of
// when it was sent and is all there, that no block holds two talks of one
// leg, and that the call has its length.
func (sc resumeScenario) check(t *testing.T, pcm []int16, res Result) {
	t.Helper()
	bit := func(c byte) int { return int(ulawTable[c]) }
	masks := make([]int, (len(pcm)+159)/160)
	for i, v := range pcm {
		masks[i/160] |= int(v)
	}
	where := func() string { return fmt.Sprintf("blocks %v, legs %+v", masks, res.Legs) }
	for _, x := range sc.talks {
		first, count := -1, 0
		for i, v := range pcm {
			if int(v)&bit(x.code) != 0 {
				if first < 0 {
					first = i
				}
				count++
			}
		}
		if d := first - 160*x.from; first < 0 || d < -160 || d > 160 {
			t.Errorf("talk %d (blocks %d-%d) starts at sample %d, want %d (±160): %s", bit(x.code), x.from, x.from+x.n-1, first, 160*x.from, where())
		}
		if count != 160*x.n {
			t.Errorf("talk %d: %d samples, want %d: %s", bit(x.code), count, 160*x.n, where())
		}
		for _, y := range sc.talks {
			if x.b != y.b || bit(x.code) >= bit(y.code) {
				continue
			}
			both := bit(x.code) | bit(y.code)
			for i, m := range masks {
				if m&both == both {
					t.Errorf("block %d holds talks %d and %d of one leg: %s", i, bit(x.code), bit(y.code), where())
					break
				}
			}
		}
	}
	if d := len(pcm) - 160*sc.total; d < -160 || d > 160 {
		t.Errorf("%d samples, want %d (±160): %s", len(pcm), 160*sc.total, where())
	}
}

// holdAndResume is the scenario of the report: leg a talks throughout; leg
// b talks for 2 s, pauses for pauseMs, and resumes for 2 s as a new
// stream (a new SSRC, with new sequence numbers and timestamps).
func holdAndResume(pauseMs int) resumeScenario {
	const before, after = 100, 100
	resume := before + pauseMs/20
	total := resume + after
	return resumeScenario{total: total, talks: []talk{
		{from: 0, n: total, ssrc: 0xA, seq: 100, ts: 1000, code: codeA},
		{b: true, from: 0, n: before, ssrc: 0xB, seq: 9000, ts: 55555, code: codeB},
		{b: true, from: resume, n: after, ssrc: 0xB2, seq: 40000, ts: 123456789, code: codeBAfter},
	}}
}

// resumed returns the scenario's resumed talk of leg b.
func (sc *resumeScenario) resumed() *talk { return &sc.talks[2] }

// TestResumeNewSSRC: leg b resumes after a pause with a new SSRC and
// unrelated sequence numbers and timestamps (CUBE after a re-INVITE), its
// first packets late, bunched or out of order as a slow sender or a
// jittery path delivers them, its reader behind, a re-INVITE (SetCodecs
// with the same codecs) handled as its first packets come. Its resumed
// audio goes where it was sent, whole, never over its earlier audio; the
// call keeps its length. (Before SetCodecs kept a new stream's packets
// waiting, the re-INVITE cases fixed the stream where its delayed first
// packets put it: 40 and 110 ms late.)
func TestResumeNewSSRC(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(sc *resumeScenario)
	}{
		{"on time", func(sc *resumeScenario) {}},
		{"first packets late", func(sc *resumeScenario) {
			sc.resumed().delay = func(k int) float64 { return []float64{80, 70, 60, 40, 30, 0}[min(k, 5)] }
		}},
		{"burst", func(sc *resumeScenario) { // the first five come at once
			sc.resumed().delay = func(k int) float64 { return max(0, float64(80-20*k)) }
		}},
		{"first packet late, the next on time", func(sc *resumeScenario) {
			sc.resumed().delay = func(k int) float64 { return []float64{70, 0}[min(k, 1)] }
		}},
		{"jitter", func(sc *resumeScenario) {
			rng := rand.New(rand.NewPCG(7, 7))
			d := make([]float64, sc.resumed().n)
			for k := range d {
				if k%20 != 7 { // one in 20 on time
					d[k] = 60 * rng.Float64()
				}
			}
			sc.resumed().delay = func(k int) float64 { return d[k] }
		}},
		{"short pause", func(sc *resumeScenario) { *sc = holdAndResume(100) }},
		{"short pause, the old stream's last packets held", func(sc *resumeScenario) {
			*sc = holdAndResume(120)
			sc.talks[1].delay = func(k int) float64 { return []float64{0, 15}[min(max(k-97, 0), 1)] }
		}},
		{"a straggler of the old stream", func(sc *resumeScenario) {
			sc.stragglers = map[int]float64{99: 3000 + 30}
		}},
		{"b's reader behind", func(sc *resumeScenario) { // kernel times: the packets keep their arrival
			sc.lagFrom, sc.lag = 2950, 150
		}},
		{"re-INVITEs", func(sc *resumeScenario) { // hold, then resume after the first packet
			sc.reinvites = []float64{2100, 3045}
			sc.resumed().delay = func(k int) float64 { return []float64{40, 40, 40, 0}[min(k, 3)] }
		}},
		{"a re-INVITE amid a late burst", func(sc *resumeScenario) { // the first 8 come at once, 150 ms late
			sc.reinvites = []float64{3150.5}
			sc.resumed().delay = func(k int) float64 {
				switch {
				case k < 3:
					return float64(150 - 20*k)
				case k < 8:
					return float64(151 - 20*k)
				}
				return 0
			}
		}},
		{"both legs held", func(sc *resumeScenario) {
			sc.talks[0].n = 100
			sc.talks = append(sc.talks, talk{from: 150, n: 100, ssrc: 0xA2, seq: 5, ts: 77, code: codeAAfter})
			sc.resumed().delay = func(k int) float64 { return []float64{50, 30, 0}[min(k, 2)] }
		}},
		{"the old stream's bases again", func(sc *resumeScenario) { // the end-to-end tests' sender
			sc.resumed().seq, sc.resumed().ts = 9000, 55555
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := holdAndResume(1000)
			c.edit(&sc)
			pcm, res := sc.record(t)
			sc.check(t, pcm, res)
			if st := res.Legs[1]; st.SSRC != 0xB2 || st.Late != 0 {
				t.Errorf("leg b: %+v", st)
			}
		})
	}
}

// TestResumeSameSSRCTimestampJump: leg b resumes with its SSRC and
// sequence numbers but timestamps of a new base: it is placed where it
// was sent, after a long pause and after one shorter than the reorder
// window.
func TestResumeSameSSRCTimestampJump(t *testing.T) {
	for _, pauseMs := range []int{1000, 100} {
		t.Run(fmt.Sprint(pauseMs, " ms"), func(t *testing.T) {
			sc := holdAndResume(pauseMs)
			r := sc.resumed()
			r.ssrc, r.seq = 0xB, 9100
			pcm, res := sc.record(t)
			sc.check(t, pcm, res)
		})
	}
}

// TestResumeTimestampStepBack: leg b resumes with its SSRC and sequence
// numbers, its timestamps stepped back by more than the pause (less than
// maxDrift): taken at face value, the resumed audio lands on the leg's
// earlier audio that the mixer has not yet emitted (after a pause shorter
// than the reorder window, or while the other leg is silent too, so that
// the mixer waits). It is placed where it arrives instead, and the earlier
// audio stays whole.
func TestResumeTimestampStepBack(t *testing.T) {
	for _, c := range []struct {
		name            string
		pauseMs, backMs int
		bothHeld        bool
	}{
		{"short pause", 100, 150, false},
		{"short pause, a longer step", 100, 190, false},
		{"short pause, a step of a second", 100, 1000, false},
		{"both legs held", 1000, 1150, true},
		{"both legs held, a step of half a second", 200, 500, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := holdAndResume(c.pauseMs)
			r := sc.resumed()
			r.ssrc, r.seq = 0xB, 9100
			r.ts = uint32(55555 + 160*r.from - 8*c.backMs)
			if c.bothHeld {
				sc.talks[0].n = 100
				sc.talks = append(sc.talks, talk{from: r.from, n: r.n, ssrc: 0xA2, seq: 5, ts: 77, code: codeAAfter})
			}
			pcm, res := sc.record(t)
			sc.check(t, pcm, res)
		})
	}
}

// TestStreamStepBack: the pure step. After a pause of the sender, the
// newest packet in sequence with a timestamp before the newest one's (the
// timestamps stepped back) starts the stream again; without a pause the
// same packet is placed by its timestamp, or late behind the emitted
// audio, as before; after a pause a timestamp that carries on is placed.
func TestStreamStepBack(t *testing.T) {
	const ahead = 1600
	var s stream
	s.begin(1, 1000, 0, 160, noPos)
	for k := 1; k < 10; k++ { // 1600 samples, sent in real time
		if _, v := s.place(uint32(1000+160*k), 160, int64(160*k), noPos, ahead, noPos, false); v != placed {
			t.Fatalf("packet %d: verdict %d", k, v)
		}
	}
	const resume = 160*10 + 800 // after a 100 ms pause
	stepBack := uint32(1000 + 160*5)
	for _, c := range []struct {
		name    string
		ts      uint32
		emitted int64
		resumes bool
		rel     int64
		want    verdict
	}{
		{"stepped back after a pause", stepBack, noPos, true, 800, restart},
		{"stepped back after a pause, behind the emitted audio", stepBack, 1200, true, 800, restart},
		{"stepped back without a pause", stepBack, noPos, false, 800, placed},
		{"stepped back without a pause, behind the emitted audio", stepBack, 1200, false, 800, late},
		{"carried on after a pause", 1000 + 160*10 + 800, noPos, true, 2400, placed},
	} {
		s := s
		if rel, v := s.place(c.ts, 160, resume, c.emitted, ahead, noPos, c.resumes); rel != c.rel || v != c.want {
			t.Errorf("%s: rel %d, verdict %d; want %d, %d", c.name, rel, v, c.rel, c.want)
		}
	}
}
