package media

import (
	"testing"
)

// sameSSRCResume is holdAndResume(pauseMs) where leg b resumes with its
// SSRC kept: its sequence numbers are moved by seqStep from where they
// would carry on, and its timestamps carry on across the pause (as the
// sender's clock ran) moved by tsStep.
func sameSSRCResume(pauseMs, seqStep, tsStep int) resumeScenario {
	sc := holdAndResume(pauseMs)
	r, before := sc.resumed(), sc.talks[1]
	r.ssrc = before.ssrc
	r.seq = before.seq + uint16(before.n+seqStep)
	r.ts = before.ts + uint32(160*r.from+tsStep)
	return sc
}

// TestResumeSequenceRebased: leg b resumes after a pause with its SSRC
// kept and its sequence numbers started again from another base (a gateway
// after a hold or a media re-anchor), behind the old ones or far ahead of
// them, its timestamps carrying on, stepped back or jumping. The resumed
// audio is all there, where it was sent, never over the leg's earlier
// audio; none of it counts as late, duplicated or lost, and the pause is
// not concealed as a loss. (Before, the numbers stepped back dropped every
// resumed packet as late, until they caught up with the old ones; the
// numbers far ahead concealed 100 ms of the pause as a loss.)
func TestResumeSequenceRebased(t *testing.T) {
	const jump = 123456789 - 55555 // timestamps of an unrelated base
	for _, c := range []struct {
		name                     string
		pauseMs, seqStep, tsStep int
		edit                     func(sc *resumeScenario)
	}{
		{name: "back 1000", pauseMs: 1000, seqStep: -1000},
		{name: "back 1000, timestamps jump", pauseMs: 1000, seqStep: -1000, tsStep: jump},
		{name: "back 1000, timestamps back 1 s", pauseMs: 1000, seqStep: -1000, tsStep: -sampleRate},
		{name: "back 40000", pauseMs: 1000, seqStep: -40000},
		{name: "back 40000, timestamps jump", pauseMs: 1000, seqStep: -40000, tsStep: jump},
		{name: "forward 30000", pauseMs: 1000, seqStep: 30000},
		{name: "forward 30000, timestamps jump", pauseMs: 1000, seqStep: 30000, tsStep: jump},
		{name: "back 20, timestamps carry on", pauseMs: 1000, seqStep: -20},
		{name: "back 1000, a short pause", pauseMs: 200, seqStep: -1000},
		{name: "back 1000, first packets out of order", pauseMs: 1000, seqStep: -1000, edit: func(sc *resumeScenario) {
			sc.resumed().delay = func(k int) float64 { return []float64{45, 0, 10, 0}[min(k, 3)] }
		}},
		{name: "back 1000, both legs held", pauseMs: 1000, seqStep: -1000, edit: func(sc *resumeScenario) {
			r := sc.resumed()
			sc.talks[0].n = 100
			sc.talks = append(sc.talks, talk{from: r.from, n: r.n, ssrc: 0xA2, seq: 5, ts: 77, code: codeAAfter})
		}},
		{name: "back 1000, a re-INVITE as it resumes", pauseMs: 1000, seqStep: -1000, edit: func(sc *resumeScenario) {
			sc.reinvites = []float64{2100, 3010}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := sameSSRCResume(c.pauseMs, c.seqStep, c.tsStep)
			if c.edit != nil {
				c.edit(&sc)
			}
			pcm, res := sc.record(t)
			sc.check(t, pcm, res)
			st := res.Legs[1]
			if st.SSRC != 0xB || st.Late+st.Duplicates+st.Concealed+st.ForeignSSRC != 0 {
				t.Errorf("leg b: %+v", st)
			}
		})
	}
}

// TestResumeAfterLoss: the controls. Numbers that carry on across a pause
// as a sender's clock would, with packets missing, are a loss and
// concealed (the first 100 ms; the rest is silence); the rebasing leaves
// them alone. Numbers carrying on without a gap (a silence of the sender)
// are no loss.
func TestResumeAfterLoss(t *testing.T) {
	for _, c := range []struct {
		name          string
		seqStep       int
		wantConcealed uint64
	}{
		{"1 s of packets lost", 50, 10},         // an outage: the sender went on
		{"5 packets lost, then a pause", 5, 10}, // 100 ms: all concealed
		{"a pause", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := sameSSRCResume(1000, c.seqStep, 0)
			pcm, res := sc.record(t)
			sc.check(t, pcm, res)
			st := res.Legs[1]
			if st.Concealed != c.wantConcealed || st.Late+st.Duplicates != 0 {
				t.Errorf("leg b: %+v, want %d concealed", st, c.wantConcealed)
			}
		})
	}
}

// TestReplayWithoutPause: packets with old sequence numbers of leg b's
// SSRC come while the stream runs (a stray replay) or right after it ends
// (a looped stream), with no pause of the sender before them. They start
// nothing: each is dropped and counted, and the recording is the stream's.
func TestReplayWithoutPause(t *testing.T) {
	const codeReplay = 0xEF // u = 132: 128 | 4, a bit no talk has
	for _, c := range []struct {
		name   string
		replay talk
		bTalk  int // blocks of leg b's own talk
	}{
		{"recent numbers, interleaved", talk{from: 100, n: 50, seq: 9000, ts: 55555}, 200},
		{"recent numbers, later timestamps, interleaved", talk{from: 100, n: 50, seq: 9010, ts: 55555 + 160*200}, 200},
		{"numbers far behind, interleaved", talk{from: 100, n: 50, seq: 9000 - 3000, ts: 55555 + 160*100}, 200},
		{"a looped stream", talk{from: 100, n: 100, seq: 9000, ts: 55555}, 100},
		{"a looped stream, its timestamps carrying on", talk{from: 100, n: 100, seq: 9000, ts: 55555 + 160*100}, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			const total = 200
			sc := resumeScenario{total: total, talks: []talk{
				{from: 0, n: total, ssrc: 0xA, seq: 100, ts: 1000, code: codeA},
				{b: true, from: 0, n: c.bTalk, ssrc: 0xB, seq: 9000, ts: 55555, code: codeB},
			}}
			replay := c.replay
			replay.b, replay.ssrc, replay.code = true, 0xB, codeReplay
			if c.bTalk > replay.from { // between the stream's packets
				replay.delay = func(int) float64 { return 10 }
			}
			withReplay := sc
			withReplay.talks = append(sc.talks[:2:2], replay)
			pcm, res := withReplay.record(t)
			sc.check(t, pcm, res)
			for i, v := range pcm {
				if v&4 != 0 {
					t.Fatalf("sample %d = %d: the replay was recorded", i, v)
				}
			}
			st := res.Legs[1]
			if st.Late+st.Duplicates != uint64(replay.n) || st.Concealed+st.ForeignSSRC != 0 {
				t.Errorf("leg b: %+v, want the %d replayed packets late or duplicates", st, replay.n)
			}
		})
	}
}

// TestSeqRenumbered: the pure step. After a stream's newest packet, 1000,
// a packet that came a second later is renumbered when the packets between
// them, at 20 ms each, would last more than maxDrift beyond that second
// (ahead), or more than maxDrift (behind); across the 16-bit wrap too.
func TestSeqRenumbered(t *testing.T) {
	const second = sampleRate
	at := func(top uint16) seqTracker {
		var s seqTracker
		s.observe(top)
		return s
	}
	for _, c := range []struct {
		name  string
		top   uint16
		seq   uint16
		frame int
		want  bool
	}{
		{"the next", 1000, 1001, 160, false},
		{"the newest again", 1000, 1000, 160, false},
		{"100 behind: 2 s late", 1000, 900, 160, false},
		{"101 behind", 1000, 899, 160, true},
		{"1000 behind", 1000, 0, 160, true},
		{"150 lost: 1 s + maxDrift", 1000, 1151, 160, false},
		{"151 lost", 1000, 1152, 160, true},
		{"30000 ahead", 1000, 31000, 160, true},
		{"201 behind, 10 ms packets", 1000, 799, 80, true},
		{"200 behind, 10 ms packets", 1000, 800, 80, false},
		{"ahead across the wrap", 65530, 5, 160, false},
		{"behind across the wrap", 10, 65000, 160, true},
	} {
		s := at(c.top)
		if got := s.renumbered(c.seq, c.frame, second); got != c.want {
			t.Errorf("%s: renumbered = %v, want %v", c.name, got, c.want)
		}
	}
	var fresh seqTracker
	if fresh.renumbered(40000, 160, second) || fresh.behind(40000) {
		t.Errorf("a tracker that has seen nothing renumbers")
	}
}

// TestLegRenumbered: the leg's judgement after a pause, numbers and
// timestamps together: a packet numbered a little before the newest is a
// straggler or a duplicate when its timestamp is before the newest one's
// too, and of a new base when its timestamp is after it.
func TestLegRenumbered(t *testing.T) {
	var l leg
	l.s.begin(0xB, 5000, 0, 160, noPos)
	l.seq.observe(100)
	for k := 1; k < 10; k++ {
		l.seq.observe(uint16(100 + k))
		l.s.place(uint32(5000+160*k), 160, int64(160*k), noPos, 1600, noPos, false)
	}
	const gap = sampleRate // a second after packet 109, timestamp 6440
	for _, c := range []struct {
		name string
		seq  uint16
		ts   uint32
		want bool
	}{
		{"the next, carrying on", 110, 6440 + gap, false},
		{"a straggler", 105, 5800, false},
		{"the newest again", 109, 6440, false},
		{"20 behind, carrying on", 90, 6440 + gap, true},
		{"1 behind, one timestamp on", 108, 6441, true},
		{"1000 behind, the old timestamps", 64645, 6440, true},
	} {
		if got := l.renumbered(c.seq, c.ts, gap); got != c.want {
			t.Errorf("%s: renumbered = %v, want %v", c.name, got, c.want)
		}
	}
	var fresh leg
	fresh.seq.observe(100) // a telephone-event, before any audio
	if fresh.renumbered(90, 1<<20, gap) {
		t.Errorf("a stream not yet placed renumbers by its timestamps")
	}
}
