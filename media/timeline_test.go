package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// pcmHarness drives a Recording's ingest step directly, with synthetic
// arrival times, and collects the mixed PCM instead of MP3.
type pcmHarness struct {
	t   *testing.T
	r   *Recording
	pcm []int16
	t0  time.Time
}

func newHarness(t *testing.T, cfg Config) *pcmHarness {
	t.Helper()
	h := &pcmHarness{t: t, t0: time.Unix(1_700_000_000, 0)}
	r, err := newRecording(cfg, nil, func(pcm []int16) error {
		h.pcm = append(h.pcm, pcm...)
		return nil
	})
	if err != nil {
		t.Fatalf("newRecording: %v", err)
	}
	h.r = r
	return h
}

var testCodecs = map[uint8]string{0: "PCMU", 8: "PCMA", 101: "telephone-event", 13: "CN"}

// testSrc is where the harness's packets come from.
var testSrc = netip.MustParseAddrPort("192.0.2.7:17000")

func (h *pcmHarness) leg(label string) *leg {
	h.t.Helper()
	l, err := h.r.addLeg(label, nil, LegOptions{Codecs: testCodecs})
	if err != nil {
		h.t.Fatalf("addLeg: %v", err)
	}
	return l
}

// rtpPacket marshals an RTP packet whose payload is n copies of code.
func rtpPacket(ssrc uint32, seq uint16, ts uint32, pt uint8, code byte, n int) []byte {
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = code
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq,
		Timestamp: ts, SSRC: ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// send ingests a 20 ms PCMU packet of constant code at ms after t0.
func (h *pcmHarness) send(l *leg, ssrc uint32, seq uint16, ts uint32, code byte, ms int) {
	h.r.ingest(l, rtpPacket(ssrc, seq, ts, 0, code, 160), testSrc, h.t0.Add(time.Duration(ms)*time.Millisecond))
}

func (h *pcmHarness) stop() Result {
	h.t.Helper()
	res, err := h.r.Stop()
	if err != nil {
		h.t.Fatalf("Stop: %v", err)
	}
	channels := 1
	if h.r.m.stereo {
		channels = 2
	}
	if res.Samples != int64(len(h.pcm)/channels) {
		h.t.Errorf("Result.Samples = %d, emitted %d", res.Samples, len(h.pcm))
	}
	return res
}

// blocks returns the value of each 160-sample block of pcm, failing when a
// block is not constant.
func (h *pcmHarness) blocks() []int16 {
	h.t.Helper()
	if len(h.pcm)%160 != 0 {
		h.t.Fatalf("%d samples, not whole 20 ms blocks", len(h.pcm))
	}
	var v []int16
	for i := 0; i < len(h.pcm); i += 160 {
		for _, s := range h.pcm[i : i+160] {
			if s != h.pcm[i] {
				h.t.Fatalf("block %d not constant: %v", i/160, h.pcm[i:i+160])
			}
		}
		v = append(v, h.pcm[i])
	}
	return v
}

// u is the decoded value of µ-law code c.
func u(c byte) int16 { return ulawTable[c] }

func wantBlocks(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("blocks = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("blocks = %v, want %v", got, want)
		}
	}
}

const reorder40 = 40 * time.Millisecond // 320 samples

// TestTimelineInOrderAndWindow: nothing of a new stream is emitted until
// it has settled (a second of its audio, so that its placement rests on
// its least delayed packets); then all but the reorder window is.
func TestTimelineInOrderAndWindow(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	const n = 60 // 1.2 s
	code := func(i int) byte { return byte(0x90 + i%32) }
	for i := range n {
		h.send(a, 1, uint16(100+i), uint32(5000+160*i), code(i), 20*i)
		want := 0
		if end := 160 * (i + 1); end >= settle {
			want = end - 320 // the 40 ms window is held back
		}
		if len(h.pcm) != want {
			t.Fatalf("after packet %d: emitted %d samples, want %d", i, len(h.pcm), want)
		}
	}
	res := h.stop()
	want := make([]int16, n)
	for i := range want {
		want[i] = u(code(i))
	}
	wantBlocks(t, h.blocks(), want)
	if res.Duration != n*20*time.Millisecond {
		t.Errorf("Duration = %v, want %v", res.Duration, n*20*time.Millisecond)
	}
	st := res.Legs[0]
	if st.Packets != n || st.Bytes != n*172 || st.Late+st.Ignored+st.Duplicates+st.Concealed != 0 || st.SSRC != 1 || st.Codec != "PCMU" {
		t.Errorf("stats = %+v", st)
	}
	if !st.LastArrival.Equal(h.t0.Add((n - 1) * 20 * time.Millisecond)) {
		t.Errorf("LastArrival = %v, want the last packet's arrival", st.LastArrival)
	}
}

func TestTimelineReorder(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	h.send(a, 1, 1, 0, 0x91, 0)
	h.send(a, 1, 3, 320, 0x93, 40)
	h.send(a, 1, 2, 160, 0x92, 41) // late by one packet, within the window
	h.send(a, 1, 4, 480, 0x94, 60)
	h.stop()
	wantBlocks(t, h.blocks(), []int16{u(0x91), u(0x92), u(0x93), u(0x94)})
}

func TestTimelineGapIsSilence(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	h.send(a, 1, 1, 0, 0x91, 0)
	h.send(a, 1, 2, 160, 0x92, 20)
	h.send(a, 1, 4, 480, 0x94, 60) // seq 3 lost
	h.send(a, 1, 5, 640, 0x95, 80)
	h.stop()
	wantBlocks(t, h.blocks(), []int16{u(0x91), u(0x92), 0, u(0x94), u(0x95)})
}

func TestTimelineDuplicate(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	h.send(a, 1, 1, 0, 0x91, 0)
	h.send(a, 1, 2, 160, 0x92, 20)
	h.send(a, 1, 2, 160, 0x99, 21) // same seq, other content: dropped
	h.send(a, 1, 3, 320, 0x93, 40)
	res := h.stop()
	wantBlocks(t, h.blocks(), []int16{u(0x91), u(0x92), u(0x93)})
	if st := res.Legs[0]; st.Duplicates != 1 || st.Packets != 4 || st.Late != 0 {
		t.Errorf("stats = %+v, want 1 duplicate of 4 packets", st)
	}
}

func TestTimelineWrap(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	seq, ts := uint16(65534), uint32(1<<32-320)
	order := []int{0, 1, 3, 2, 4, 5} // reordered across both wraps
	for k, i := range order {
		h.send(a, 7, seq+uint16(i), ts+uint32(160*i), byte(0x90+i), 20*k)
	}
	res := h.stop()
	wantBlocks(t, h.blocks(), []int16{u(0x90), u(0x91), u(0x92), u(0x93), u(0x94), u(0x95)})
	if st := res.Legs[0]; st.Late+st.Duplicates != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestTimelineLate: packets behind the decoded audio are dropped and
// counted; a packet partly behind the emitted audio keeps its tail.
func TestTimelineLate(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	const n = 60 // 1.2 s: the stream has settled, and emits
	h.send(a, 1, 0, 0, 0x91, 0)
	for i := 2; i < n; i++ { // seq 1 is missing
		h.send(a, 1, uint16(i), uint32(160*i), 0x93, 20*i)
	}
	// emitted = 9600 - 320 = 9280: seq 1 at [160, 320) is long behind it.
	h.send(a, 1, 1, 160, 0x92, 20*n)
	// A 30 ms packet at [9200, 9440): its first 80 samples are emitted.
	h.r.ingest(a, rtpPacket(1, n, 9200, 0, 0x97, 240), testSrc, h.t0.Add((20*n+1)*time.Millisecond))
	res := h.stop()
	wantBlocks(t, h.blocks()[:3], []int16{u(0x91), 0, u(0x93)})
	if h.pcm[9280] != u(0x97) || h.pcm[9279] != u(0x93) || h.pcm[9439] != u(0x97) || h.pcm[9440] != u(0x93) {
		t.Errorf("partly late packet not placed at [9280, 9440)")
	}
	if st := res.Legs[0]; st.Late != 2 || st.Packets != n+1 || st.Concealed != 2 {
		t.Errorf("stats = %+v, want 2 late of %d, 2 frames concealed", st, n+1)
	}
}

func TestTimelineSecondLegAnchoredByArrival(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a, b := h.leg("a"), h.leg("b")
	for i := range 10 {
		h.send(a, 1, uint16(i), uint32(1000+160*i), 0xF0, 20*i) // u(0xF0) = 120
		if i >= 5 {
			// b starts 100 ms later, with an unrelated timestamp base.
			h.send(b, 2, uint16(500+i), uint32(99999+160*(i-5)), 0xEF, 20*i) // u(0xEF) = 132
		}
	}
	h.stop()
	wantBlocks(t, h.blocks(), []int16{120, 120, 120, 120, 120, 252, 252, 252, 252, 252})
}

// TestTimelineNewSSRCReanchors: a new SSRC after the stream has been
// silent for ssrcQuiet begins a new stream where it arrives; a third SSRC
// while that one talks is dropped.
func TestTimelineNewSSRCReanchors(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	for i := range 3 {
		h.send(a, 1, uint16(i), uint32(160*i), 0x91, 20*i)
	}
	// A new SSRC 140 ms after the origin (100 ms after the last packet),
	// with random seq and timestamp.
	h.send(a, 2, 40000, 123456789, 0x92, 140)
	h.send(a, 3, 7, 99, 0x99, 150) // interleaved: not silent for long enough
	h.send(a, 2, 40001, 123456789+160, 0x93, 160)
	res := h.stop()
	wantBlocks(t, h.blocks(), []int16{u(0x91), u(0x91), u(0x91), 0, 0, 0, 0, u(0x92), u(0x93)})
	if st := res.Legs[0]; st.SSRC != 2 || st.ForeignSSRC != 1 || st.Late+st.Duplicates != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestTimelineBogusJump(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	h.send(a, 1, 1, 0, 0x91, 0)
	h.send(a, 1, 2, 160, 0x92, 20)
	// The timestamp claims one hour later; the packet came 20 ms later.
	h.send(a, 1, 3, 160+3600*8000, 0x93, 40)
	h.send(a, 1, 4, 160+3600*8000+160, 0x94, 60)
	h.stop()
	wantBlocks(t, h.blocks(), []int16{u(0x91), u(0x92), u(0x93), u(0x94)})
	if c := cap(a.tl.buf); c > 4096 {
		t.Errorf("leg buffer grew to %d samples", c)
	}
}

// TestTimelineLongGap: a leg silent for a minute (hold) resumes with a
// consistent timestamp: the gap is silence, emitted in chunks, and no buffer
// grows to the gap's size.
func TestTimelineLongGap(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	h.send(a, 1, 1, 0, 0x91, 0)
	h.send(a, 1, 2, 60*8000, 0x92, 60_000)
	h.send(a, 1, 3, 60*8000+160, 0x93, 60_020)
	res := h.stop()
	if res.Samples != 60*8000+320 {
		t.Fatalf("Samples = %d, want %d", res.Samples, 60*8000+320)
	}
	if h.pcm[159] != u(0x91) || h.pcm[160] != 0 || h.pcm[60*8000-1] != 0 || h.pcm[60*8000] != u(0x92) {
		t.Errorf("gap not silent or audio misplaced")
	}
	if c := cap(a.tl.buf); c > 4096 {
		t.Errorf("leg buffer grew to %d samples", c)
	}
}

func TestTimelineIgnored(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	at := func(ms int) time.Time { return h.t0.Add(time.Duration(ms) * time.Millisecond) }
	h.r.ingest(a, rtpPacket(1, 1, 0, 101, 0x01, 4), testSrc, at(0))    // telephone-event
	h.r.ingest(a, rtpPacket(1, 2, 0, 13, 0x40, 1), testSrc, at(1))     // CN
	h.r.ingest(a, rtpPacket(1, 3, 0, 96, 0x00, 20), testSrc, at(2))    // unknown PT
	h.r.ingest(a, []byte{0x80, 0x00, 0x01}, testSrc, at(3))            // truncated
	h.r.ingest(a, rtpPacket(1, 4, 0, 0, 0x00, 0), testSrc, at(4))      // empty payload
	h.r.ingest(a, rtpPacket(1, 5, 0, 8, 0xD5, 160), testSrc, at(50))   // PCMA: the first audio
	h.r.ingest(a, rtpPacket(1, 6, 160, 0, 0xFF, 160), testSrc, at(70)) // PCMU
	res := h.stop()
	wantBlocks(t, h.blocks(), []int16{8, 0})
	if st := res.Legs[0]; st.Ignored != 4 || st.CN != 1 || st.Packets != 7 || st.Codec != "PCMU" {
		t.Errorf("stats = %+v, want 4 ignored and 1 CN of 7", st)
	}
}

func TestSeqWindow(t *testing.T) {
	var st seqTracker
	st.observe(10)
	for _, c := range []struct {
		seq uint16
		dup bool
	}{{11, false}, {11, true}, {10, true}, {9, false}, {9, true}, {2000, false}, {11, false}, {2000, true}, {1999, false}} {
		if _, dup := st.observe(c.seq); dup != c.dup {
			t.Errorf("seq %d: dup = %v, want %v", c.seq, dup, c.dup)
		}
	}
}

// TestTimelineFrozenTimestamp: the sender did not advance its timestamps
// across a 5 s pause. The audio after it goes where it arrived, not behind
// the emitted audio.
func TestTimelineFrozenTimestamp(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a, b := h.leg("a"), h.leg("b")
	for i := range 300 { // b talks for 6 s
		h.send(b, 2, uint16(i), uint32(160*i), 0xFE, 20*i) // 8
		if i < 5 {
			h.send(a, 1, uint16(i), uint32(160*i), 0xFD, 20*i) // 16
		} else if i >= 255 { // a resumes after 5 s with the next timestamp
			h.send(a, 1, uint16(i-250), uint32(160*(i-250)), 0xFC, 20*i) // 24
		}
	}
	res := h.stop()
	if res.Legs[0].Late != 0 {
		t.Errorf("leg a: %d late", res.Legs[0].Late)
	}
	got := h.blocks()
	for i, v := range got {
		want := int16(8)
		switch {
		case i < 5:
			want = 8 + 16
		case i >= 255:
			want = 8 + 24
		}
		if v != want {
			t.Fatalf("block %d = %d, want %d", i, v, want)
		}
	}
}

// TestTimelineLateRun: a leg whose timestamps step back by 1 s (less than
// maxBehind) sends only late packets; after lateRun it is re-anchored at
// the arrival. Until then its audio is lost, not shifted.
func TestTimelineLateRun(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a, b := h.leg("a"), h.leg("b")
	for i := range 100 {
		h.send(b, 2, uint16(i), uint32(160*i), 0xFE, 20*i) // 8
		ts := 160 * i
		if i >= 50 {
			ts -= 8000
		}
		h.send(a, 1, uint16(i), uint32(ts), 0xFD, 20*i) // 16
	}
	res := h.stop()
	if st := res.Legs[0]; st.Late != 25 {
		t.Errorf("leg a: %d late, want 25", st.Late)
	}
	for i, v := range h.blocks() {
		want := int16(8 + 16)
		if i >= 50 && i < 75 {
			want = 8
		}
		if v != want {
			t.Fatalf("block %d = %d, want %d", i, v, want)
		}
	}
}

// TestTimelineCreepingTimestamps: timestamps that run ahead of real time by
// up to maxJump per packet cannot make the recording longer than real time
// plus maxJump.
func TestTimelineCreepingTimestamps(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("a")
	for i := range 50 {
		h.send(a, 1, uint16(i), uint32(i*(maxJump-1)), 0xFE, 20*i)
	}
	res := h.stop()
	if limit := time.Second + 10*time.Second + 50*20*time.Millisecond; res.Duration > limit {
		t.Errorf("Duration = %v, want at most %v", res.Duration, limit)
	}
}

// TestTimelineLossConcealedAsNeeded: when the mixer must pass a missing
// packet, only that one is given up for lost (concealed); the next missing
// one may still come in time, and takes its place.
func TestTimelineLossConcealedAsNeeded(t *testing.T) {
	h := newHarness(t, Config{Reorder: reorder40})
	a := h.leg("1")
	const n, lost, slow = 80, 65, 66
	for i := range n {
		switch i {
		case lost, slow:
			continue
		case slow + 1:
			h.send(a, 1, uint16(i), uint32(160*i), 0x90, 20*i) // the mixer passes packet 65
			h.send(a, 1, slow, 160*slow, 0x91, 20*i+5)         // 66 comes 25 ms late, in time
			continue
		}
		h.send(a, 1, uint16(i), uint32(160*i), 0x90, 20*i)
	}
	res := h.stop()
	got := h.blocks()
	if got[lost] != 0 || got[slow] != u(0x91) || got[slow+1] != u(0x90) || len(got) != n {
		t.Errorf("blocks %d-%d = %v of %d, want [0 %d %d]", lost, slow+1, got[lost:slow+2], len(got), u(0x91), u(0x90))
	}
	if st := res.Legs[0]; st.Concealed != 2 || st.Late != 0 {
		t.Errorf("stats %+v: want 2 frames concealed, none late", st)
	}
}
