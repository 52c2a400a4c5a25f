package media

import (
	"bytes"
	"math"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/callvault/callvault/internal/testaudio"
)

// The two legs of a mode test's call: block i of leg a and of leg b carry
// µ-law codes whose values differ from block to block, so that the mix
// tells where each block of the file came from in the call.
func modeCodeA(i int) byte { return 0xC0 + byte(i%61) }
func modeCodeB(i int) byte { return 0xC0 + byte(i%53) }

// blockValue is the mono mix of block i of both legs: never 0.
func blockValue(i int) int16 { return u(modeCodeA(i)) + u(modeCodeB(i)) }

// at is the wall-clock time ms after the harness's t0, when the first
// packet of a mode test's call arrives: position ms*8 of the timeline.
func (h *pcmHarness) at(ms float64) time.Time {
	return h.t0.Add(time.Duration(ms * float64(time.Millisecond)))
}

// modeCall sends a call of n 20 ms blocks on legs a and b, in step, block
// i arriving at 20i ms; before block i it calls ctl(i), as a control that
// comes while the call runs.
func modeCall(h *pcmHarness, n int, ctl func(i int)) {
	a, b := h.leg("a"), h.leg("b")
	for i := range n {
		if ctl != nil {
			ctl(i)
		}
		h.sendFrom(a, testSrc, 1, uint16(i), uint32(160*i), modeCodeA(i), float64(20*i))
		h.sendFrom(b, testSrc, 2, uint16(100+i), uint32(5000+160*i), modeCodeB(i), float64(20*i))
	}
}

// modePCM is the mono PCM that a modeCall of n blocks should leave, the
// sample at each position of the call kept, silenced or dropped as act
// says.
func modePCM(n int, act func(pos int64) maskAct) []int16 {
	var pcm []int16
	for pos := range int64(160 * n) {
		switch act(pos) {
		case actKeep:
			pcm = append(pcm, blockValue(int(pos/160)))
		case actSilence:
			pcm = append(pcm, 0)
		}
	}
	return pcm
}

// modeAct is what a recording should do with each position of the call:
// with gated, drop it outside the windows; silence it inside the pauses;
// keep it otherwise. Spans are in seconds of the call.
func modeAct(gated bool, windows, pauses [][2]float64) func(int64) maskAct {
	in := func(pos int64, spans [][2]float64) bool {
		for _, s := range spans {
			if pos >= int64(math.Round(s[0]*sampleRate)) && pos < int64(math.Round(s[1]*sampleRate)) {
				return true
			}
		}
		return false
	}
	return func(pos int64) maskAct {
		switch {
		case gated && !in(pos, windows):
			return actDrop
		case in(pos, pauses):
			return actSilence
		}
		return actKeep
	}
}

// samePCM fails unless got is want, naming the first sample that differs.
func samePCM(t *testing.T, got, want []int16) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("sample %d (%v in the file) = %d, want %d", i, samplesTime(int64(i)), got[i], want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d samples (%v), want %d (%v)", len(got), samplesTime(int64(len(got))), len(want), samplesTime(int64(len(want))))
	}
}

func sameSpans(t *testing.T, what string, got, want []Span) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

const sec = time.Second

// TestGateOneWindow: an On Demand recording opened at 3 s and closed at
// 7 s of a 10 s call holds 4 s: exactly the call's audio of 3-7 s.
func TestGateOneWindow(t *testing.T) {
	h := newHarness(t, Config{Gated: true})
	modeCall(h, 500, func(i int) {
		switch i {
		case 150:
			h.r.Open(h.at(3000))
		case 350:
			h.r.Close(h.at(7000))
		}
	})
	res := h.stop()
	samePCM(t, h.pcm, modePCM(500, modeAct(true, [][2]float64{{3, 7}}, nil)))
	want := make([]int16, 200)
	for k := range want {
		want[k] = blockValue(150 + k)
	}
	wantBlocks(t, h.blocks(), want)
	if res.Duration != 4*sec || res.Samples != 4*sampleRate {
		t.Errorf("Duration %v, %d samples; want 4 s", res.Duration, res.Samples)
	}
	sameSpans(t, "Windows", res.Windows, []Span{{At: 3 * sec, Dur: 4 * sec}})
	sameSpans(t, "Pauses", res.Pauses, nil)
}

// TestGateWindowsJoined: three windows (the last one left open to the end)
// are joined in the file, the gaps left out; opening an open recording and
// closing a closed one change nothing.
func TestGateWindowsJoined(t *testing.T) {
	h := newHarness(t, Config{Gated: true})
	modeCall(h, 500, func(i int) {
		ms := float64(20 * i)
		switch i {
		case 25:
			h.r.Close(h.at(ms)) // closed already
		case 50, 300, 450:
			h.r.Open(h.at(ms))
		case 100:
			h.r.Open(h.at(ms)) // open already
		case 150, 400:
			h.r.Close(h.at(ms))
		}
	})
	res := h.stop()
	samePCM(t, h.pcm, modePCM(500, modeAct(true, [][2]float64{{1, 3}, {6, 8}, {9, 10}}, nil)))
	if res.Duration != 5*sec {
		t.Errorf("Duration %v, want 5 s", res.Duration)
	}
	sameSpans(t, "Windows", res.Windows, []Span{{At: 1 * sec, Dur: 2 * sec}, {At: 6 * sec, Dur: 2 * sec}, {At: 9 * sec, Dur: 1 * sec}})
}

// TestGateNeverOpened: an On Demand recording never opened holds nothing,
// and its encoder is given nothing.
func TestGateNeverOpened(t *testing.T) {
	h := newHarness(t, Config{Gated: true})
	modeCall(h, 100, nil)
	res := h.stop()
	if len(h.pcm) != 0 || res.Samples != 0 || res.Duration != 0 || res.Windows != nil || res.Pauses != nil {
		t.Errorf("%d samples emitted; result %+v", len(h.pcm), res)
	}

	var out bytes.Buffer
	r, err := NewRecording(Config{Gated: true}, &out, nil)
	if err != nil {
		t.Fatalf("NewRecording: %v", err)
	}
	l, err := r.addLeg("a", nil, LegOptions{Codecs: testCodecs})
	if err != nil {
		t.Fatalf("addLeg: %v", err)
	}
	t0 := time.Unix(0, 0)
	for i := range 100 {
		r.ingest(l, rtpPacket(1, uint16(i), uint32(160*i), 0, modeCodeA(i), 160), testSrc, t0.Add(time.Duration(i)*20*time.Millisecond))
	}
	res, err = r.Stop()
	if err != nil || res.Samples != 0 {
		t.Errorf("MP3: %d samples, %v", res.Samples, err)
	}
	// LAME's flush writes as much for no audio at all.
	var empty bytes.Buffer
	e, err := NewRecording(Config{}, &empty, nil)
	if err != nil {
		t.Fatalf("NewRecording: %v", err)
	}
	if _, err := e.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !bytes.Equal(out.Bytes(), empty.Bytes()) {
		t.Errorf("MP3: %d bytes written, an empty recording's %d", out.Len(), empty.Len())
	}
}

// TestPauseMidCall: a PCI pause from 3 s to 7 s of a 10 s call leaves a
// 10 s file with silence in 3-7 s and the call's audio, in place, around
// it; Pauses says so, in file time. Controls in the middle of a 20 ms
// block (and of the mixer's chunks) cut it to the sample.
func TestPauseMidCall(t *testing.T) {
	for _, c := range []struct {
		name          string
		pause, resume float64 // ms
	}{{"on blocks", 3000, 7000}, {"mid block", 3012.5, 7002.5}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			modeCall(h, 500, func(i int) {
				switch i {
				case 100:
					h.r.Resume(h.at(2000)) // not paused
				case 150:
					h.r.Pause(h.at(c.pause))
				case 200:
					h.r.Pause(h.at(4000)) // paused already
				case 350:
					h.r.Resume(h.at(c.resume))
				}
			})
			res := h.stop()
			samePCM(t, h.pcm, modePCM(500, modeAct(false, nil, [][2]float64{{c.pause / 1000, c.resume / 1000}})))
			if res.Duration != 10*sec {
				t.Errorf("Duration %v, want 10 s", res.Duration)
			}
			from, to := int64(c.pause*8), int64(c.resume*8)
			sameSpans(t, "Pauses", res.Pauses, []Span{{At: samplesTime(from), Dur: samplesTime(to - from)}})
			sameSpans(t, "Windows", res.Windows, nil)
		})
	}
}

// TestPauseNeverResumed: a pause still on when the recording stops lasts
// to the end.
func TestPauseNeverResumed(t *testing.T) {
	h := newHarness(t, Config{})
	modeCall(h, 500, func(i int) {
		if i == 400 {
			h.r.Pause(h.at(8000))
		}
	})
	res := h.stop()
	samePCM(t, h.pcm, modePCM(500, modeAct(false, nil, [][2]float64{{8, 10}})))
	sameSpans(t, "Pauses", res.Pauses, []Span{{At: 8 * sec, Dur: 2 * sec}})
}

// TestPauseWithGate: pauses and On Demand windows together. The file
// holds the call's 2-4 s and 6-9 s; the pause of 3-7 s silences its 1-3 s,
// one span though it crosses the closed 4-6 s. A pause wholly inside a
// closed stretch leaves nothing.
func TestPauseWithGate(t *testing.T) {
	h := newHarness(t, Config{Gated: true})
	modeCall(h, 500, func(i int) {
		ms := float64(20 * i)
		switch i {
		case 25:
			h.r.Pause(h.at(ms)) // while closed: nothing
		case 50:
			h.r.Resume(h.at(ms))
		case 100, 300:
			h.r.Open(h.at(ms))
		case 150:
			h.r.Pause(h.at(ms))
		case 200, 450:
			h.r.Close(h.at(ms))
		case 350:
			h.r.Resume(h.at(ms))
		}
	})
	res := h.stop()
	samePCM(t, h.pcm, modePCM(500, modeAct(true, [][2]float64{{2, 4}, {6, 9}}, [][2]float64{{0.5, 1}, {3, 7}})))
	if res.Duration != 5*sec {
		t.Errorf("Duration %v, want 5 s", res.Duration)
	}
	sameSpans(t, "Pauses", res.Pauses, []Span{{At: 1 * sec, Dur: 2 * sec}})
	sameSpans(t, "Windows", res.Windows, []Span{{At: 2 * sec, Dur: 2 * sec}, {At: 6 * sec, Dur: 3 * sec}})
}

// TestModeControlsBeforeFirstPacket: controls made before any packet has
// come apply from the recording's first sample, even one that the
// placement puts before the first packet's arrival: a call paused before
// its audio began has none of it in the file.
func TestModeControlsBeforeFirstPacket(t *testing.T) {
	t.Run("gated", func(t *testing.T) {
		h := newHarness(t, Config{Gated: true})
		h.r.Open(h.at(-5000))
		h.r.Pause(h.at(1000)) // no packet yet: from the start
		modeCall(h, 250, func(i int) {
			if i == 100 {
				h.r.Resume(h.at(2000))
			}
		})
		res := h.stop()
		samePCM(t, h.pcm, modePCM(250, modeAct(true, [][2]float64{{0, 5}}, [][2]float64{{0, 2}})))
		sameSpans(t, "Pauses", res.Pauses, []Span{{At: 0, Dur: 2 * sec}})
		sameSpans(t, "Windows", res.Windows, []Span{{At: 0, Dur: 5 * sec}})
	})
	t.Run("audio before the origin", func(t *testing.T) {
		// The first packet comes 15 ms late; the stream is placed by the
		// ones after it, which puts its start 15 ms before the origin.
		h := newHarness(t, Config{})
		h.r.Pause(h.t0)
		a := h.leg("a")
		for i := range 100 {
			delay := 0.0
			if i == 0 {
				delay = 15
			}
			h.sendFrom(a, testSrc, 1, uint16(i), uint32(160*i), modeCodeA(i), float64(20*i)+delay)
		}
		if h.r.m.start >= 0 {
			t.Fatalf("the mixer started at %d, not before the origin", h.r.m.start)
		}
		res := h.stop()
		if len(h.pcm) != 100*160 || slices.ContainsFunc(h.pcm, func(v int16) bool { return v != 0 }) {
			t.Errorf("%d samples, not all silent", len(h.pcm))
		}
		sameSpans(t, "Pauses", res.Pauses, []Span{{At: 0, Dur: 2 * sec}})
	})
}

// TestModeControlLate: a control whose time lies behind audio the mixer
// has emitted already applies from the first sample not emitted; what was
// emitted is not rewritten. (A control for now always lies ahead of the
// emitted audio, which lags real time by the reorder window; only a
// caller that passes an old time gets here.)
func TestModeControlLate(t *testing.T) {
	h := newHarness(t, Config{})
	var from int64
	modeCall(h, 500, func(i int) {
		switch i {
		case 250:
			from = h.r.m.emitted
			if from <= 2*sampleRate {
				t.Fatalf("emitted up to %d only", from)
			}
			h.r.Pause(h.at(2000))
		case 400:
			h.r.Resume(h.at(8000))
		}
	})
	res := h.stop()
	samePCM(t, h.pcm, modePCM(500, func(pos int64) maskAct {
		if pos >= from && pos < 8*sampleRate {
			return actSilence
		}
		return actKeep
	}))
	sameSpans(t, "Pauses", res.Pauses, []Span{{At: samplesTime(from), Dur: samplesTime(8*sampleRate - from)}})
	t.Logf("pause for 2 s made at 5 s applied from %v", samplesTime(from))

	// After Stop, controls do nothing.
	h.r.Pause(h.at(9000))
	h.r.Close(h.at(9000))
	if again, _ := h.r.Stop(); !slices.Equal(again.Pauses, res.Pauses) || again.Samples != res.Samples {
		t.Errorf("after Stop: %+v", again)
	}
}

// TestModeStereo: the mask cuts interleaved stereo by frames: leg a on the
// left, leg b on the right, both silenced or dropped together.
func TestModeStereo(t *testing.T) {
	h := newHarness(t, Config{Gated: true, Stereo: true})
	modeCall(h, 200, func(i int) {
		switch i {
		case 50:
			h.r.Open(h.at(1002.5))
		case 100:
			h.r.Pause(h.at(2000))
		case 150:
			h.r.Resume(h.at(3000.125))
		}
	})
	res := h.stop()
	act := modeAct(true, [][2]float64{{1.0025, 4}}, [][2]float64{{2, 3.000125}})
	var want []int16
	for pos := range int64(200 * 160) {
		i := int(pos / 160)
		switch act(pos) {
		case actKeep:
			want = append(want, u(modeCodeA(i)), u(modeCodeB(i)))
		case actSilence:
			want = append(want, 0, 0)
		}
	}
	samePCM(t, h.pcm, want)
	from := int64(1002.5 * 8)
	sameSpans(t, "Pauses", res.Pauses, []Span{{At: samplesTime(16000 - from), Dur: samplesTime(8001)}})
	sameSpans(t, "Windows", res.Windows, []Span{{At: samplesTime(from), Dur: samplesTime(4*sampleRate - from)}})
}

// TestModesLoopback records a call sent as real RTP over loopback UDP in
// real time, with LAME, On Demand and paused, controls made as the call
// runs, and decodes the file: call 0-0.5 s closed, 0.5-2 s open (paused
// 1-1.5 s), 2-2.5 s closed, 2.5-3 s open. The closed stretches carry a
// 1000 Hz tone, the open ones 400 Hz then 600 Hz: the file is 2 s of 400
// Hz with 0.5 s of silence in it, then 600 Hz, and no 1000 Hz. Where the
// controls fall depends on the machine's timing, so the spans are checked
// loosely; the silence is checked where Result.Pauses puts it in the
// decoded file, which depends on nothing but the encoder.
func TestModesLoopback(t *testing.T) {
	testaudio.Require(t, "ffmpeg")
	t.Parallel()
	var out lockedWriter
	out.w = &bytes.Buffer{}
	r, err := NewRecording(Config{Gated: true}, &out, nil)
	if err != nil {
		t.Fatalf("NewRecording: %v", err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if err := r.AddLeg("1", conn, testCodecs); err != nil {
		t.Fatalf("AddLeg: %v", err)
	}
	client, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer client.Close()

	const packets = 150 // 3 s
	seg := func(freq float64) []int16 { return testaudio.Tone(freq, sampleRate, sampleRate/2, 8000) }
	var call []int16
	for _, f := range []float64{1000, 400, 400, 400, 1000, 600} {
		call = append(call, seg(f)...)
	}
	payload := testaudio.EncodeUlaw(call)
	controls := map[int]func(time.Time){25: r.Open, 50: r.Pause, 75: r.Resume, 100: r.Close, 125: r.Open}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range packets {
		if c := controls[i]; c != nil {
			c(time.Now())
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i),
			Timestamp: uint32(160 * i), SSRC: 0x3D}, Payload: payload[160*i : 160*(i+1)]}
		b, _ := p.Marshal()
		if _, err := client.Write(b); err != nil {
			t.Fatalf("send: %v", err)
		}
		<-tick.C
	}
	waitPackets(t, r, packets)
	res, err := r.Stop()
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	pcm := decodeStrict(t, writeMP3(t, res.LAMETag, out.w.Bytes()))
	if int64(len(pcm)) != res.Samples {
		t.Fatalf("file has %d samples, the recording %d", len(pcm), res.Samples)
	}
	t.Logf("duration %v, windows %v, pauses %v", res.Duration, res.Windows, res.Pauses)

	// A sender that falls behind its ticker shifts the controls against
	// the audio, which is placed by its timestamps: loose bounds.
	near := func(got, want time.Duration) bool {
		return got-want < 200*time.Millisecond && want-got < 200*time.Millisecond
	}
	if !near(res.Duration, 2*sec) {
		t.Errorf("Duration %v, want about 2 s", res.Duration)
	}
	w := res.Windows
	if len(w) != 2 || !near(w[0].At, 500*time.Millisecond) || !near(w[0].Dur, 1500*time.Millisecond) ||
		!near(w[1].At, 2500*time.Millisecond) || !near(w[1].Dur, 500*time.Millisecond) {
		t.Fatalf("Windows %v, want about 0.5 s for 1.5 s, 2.5 s for 0.5 s", w)
	}
	if len(res.Pauses) != 1 || !near(res.Pauses[0].At, 500*time.Millisecond) || !near(res.Pauses[0].Dur, 500*time.Millisecond) {
		t.Fatalf("Pauses %v, want about 0.5 s for 0.5 s", res.Pauses)
	}
	if got := w[0].Dur + w[1].Dur; got != res.Duration {
		t.Errorf("the windows hold %v, the file %v", got, res.Duration)
	}

	// The silence lies where Pauses says, to within the blur of the
	// transform's edges (the encoder delay is accounted for: were it not,
	// the silence would be 72 ms off).
	p := res.Pauses[0]
	at, end := int(p.At*sampleRate/sec), int((p.At+p.Dur)*sampleRate/sec)
	mid := (at + end) / 2
	last, first := mid, mid // the silence in the decoded audio: last+1 to first
	for last >= 0 && pcm[last] < 500 && pcm[last] > -500 {
		last--
	}
	for first < len(pcm) && pcm[first] < 500 && pcm[first] > -500 {
		first++
	}
	t.Logf("pause in the file: %d-%d; silent in the decoded audio: %d-%d", at, end, last+1, first)
	if d := last + 1 - at; d < -160 || d > 160 {
		t.Errorf("the silence begins at sample %d of the file, Pauses says %d", last+1, at)
	}
	if d := first - end; d < -160 || d > 160 {
		t.Errorf("the silence ends at sample %d of the file, Pauses says %d", first, end)
	}

	// Each tone where it belongs, as a fraction of its power as sent.
	sent := testaudio.Power(seg(400), 400, sampleRate)
	power := func(freq float64, from, to time.Duration) float64 {
		i, j := int(from*sampleRate/sec), int(to*sampleRate/sec)
		if j <= i {
			return 0
		}
		return testaudio.Power(pcm[i:j], freq, sampleRate) / sent
	}
	m := 100 * time.Millisecond
	joint := w[0].Dur // where the second window begins in the file
	for _, c := range []struct {
		freq     float64
		from, to time.Duration
		min, max float64
	}{
		{400, m, p.At - m, 0.3, 2},
		{400, p.At + p.Dur + m, joint - m, 0.3, 2},
		{600, joint + m, res.Duration - m, 0.3, 2},
		{400, p.At + m, p.At + p.Dur - m, 0, 0.001},
		{1000, 0, res.Duration, 0, 0.001},
	} {
		if got := power(c.freq, c.from, c.to); got < c.min || got > c.max {
			t.Errorf("%v Hz in %v-%v of the file: %.4f of the power sent, want %.3f-%.3f", c.freq, c.from, c.to, got, c.min, c.max)
		}
	}
}
