package media

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/callvault/callvault/internal/testaudio"
)

// stallWriter collects what it is given; between hold and release every
// Write waits.
type stallWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	gate chan struct{} // closed when not held
}

func newStallWriter() *stallWriter {
	g := make(chan struct{})
	close(g)
	return &stallWriter{gate: g}
}

func (w *stallWriter) hold() {
	w.mu.Lock()
	w.gate = make(chan struct{})
	w.mu.Unlock()
}

func (w *stallWriter) release() {
	w.mu.Lock()
	close(w.gate)
	w.mu.Unlock()
}

func (w *stallWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	g := w.gate
	w.mu.Unlock()
	<-g
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *stallWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// stallCall records one PCMU leg of a 400 Hz tone sent over loopback in
// real time, 20 ms packets; the writer is held from packet holdAt until
// release (which may be after the last packet). It returns the result, the
// file's decoded audio, and the leg's packet counts sampled while the
// writer was held.
func stallCall(t *testing.T, cfg Config, packets, holdAt int, release func(i int) bool) (Result, []int16, []uint64) {
	t.Helper()
	w := newStallWriter()
	r, err := NewRecording(cfg, w, nil)
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
	tone := testaudio.EncodeUlaw(testaudio.Tone(400, sampleRate, packets*160, 8000))
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	held := false
	var during []uint64
	for i := range packets {
		if i == holdAt {
			w.hold()
			held = true
		}
		if held && release(i) {
			w.release()
			held = false
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i),
			Timestamp: uint32(160 * i), SSRC: 0x51}, Payload: tone[160*i : 160*(i+1)]}
		b, _ := p.Marshal()
		if _, err := client.Write(b); err != nil {
			t.Fatalf("send: %v", err)
		}
		if held && i%10 == 0 {
			during = append(during, r.Stats()[0].Packets) // Stats waits if a reader holds the lock
		}
		<-tick.C
	}
	waitPackets(t, r, uint64(packets))
	type stopped struct {
		res Result
		err error
	}
	done := make(chan stopped, 1)
	go func() {
		res, err := r.Stop()
		done <- stopped{res, err}
	}()
	if held {
		select {
		case <-done:
			t.Fatalf("Stop returned while the writer was held: frames were not drained")
		case <-time.After(200 * time.Millisecond):
		}
		w.release()
	}
	var s stopped
	select {
	case s = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("Stop did not return after the writer was released")
	}
	if s.err != nil {
		t.Fatalf("Stop: %v", s.err)
	}
	pcm := decodeStrict(t, writeMP3(t, s.res.LAMETag, w.bytes()))
	if int64(len(pcm)) != s.res.Samples {
		t.Errorf("file has %d samples, the recording %d", len(pcm), s.res.Samples)
	}
	return s.res, pcm, during
}

// rising fails unless the packet counts sampled during a stall rose: the
// reader went on reading.
func rising(t *testing.T, during []uint64) {
	t.Helper()
	if len(during) < 3 || during[len(during)-1] <= during[0] {
		t.Errorf("packets counted while the writer was held: %v, want rising", during)
	}
}

// toneIn reports the 400 Hz tone's power in pcm[from:to] (times in the
// recording) as a fraction of its power as sent.
func toneIn(pcm []int16, from, to time.Duration) float64 {
	sent := testaudio.Power(testaudio.Tone(400, sampleRate, sampleRate, 8000), 400, sampleRate)
	i, j := int(from*sampleRate/time.Second), int(to*sampleRate/time.Second)
	i, j = max(i, 0), min(j, len(pcm))
	if j <= i {
		return 0
	}
	return testaudio.Power(pcm[i:j], 400, sampleRate) / sent
}

// TestWriterStallWithinBuffer: a writer that stalls for 2.5 s, to the end
// of the call, loses nothing: the reader goes on counting packets, Stop
// waits until the writer has taken every frame, and the file has all the
// audio.
func TestWriterStallWithinBuffer(t *testing.T) {
	testaudio.Require(t, "ffmpeg")
	t.Parallel()
	const packets = 150 // 3 s
	res, pcm, during := stallCall(t, Config{}, packets, 25, func(int) bool { return false })
	rising(t, during)
	if res.Lost != nil {
		t.Errorf("Lost = %v, want nothing lost", res.Lost)
	}
	if d := res.Duration - 3*time.Second; d < 0 || d > 100*time.Millisecond {
		t.Errorf("Duration = %v, want 3 s", res.Duration)
	}
	for at := 100 * time.Millisecond; at+250*time.Millisecond < res.Duration; at += 250 * time.Millisecond {
		if p := toneIn(pcm, at, at+250*time.Millisecond); p < 0.3 {
			t.Errorf("tone at %v: power %.3f of the sent, want it all there", at, p)
		}
	}
}

// TestWriterStallBeyondBuffer: a writer that stalls for 2 s with a 0.5 s
// buffer: the reader is never blocked, the audio that did not fit is one
// lost span, reported where it is; the file keeps the call's timeline, the
// span silent and the audio around it there.
func TestWriterStallBeyondBuffer(t *testing.T) {
	testaudio.Require(t, "ffmpeg")
	t.Parallel()
	const packets = 175 // 3.5 s
	res, pcm, during := stallCall(t, Config{WriteBuffer: 500 * time.Millisecond}, packets, 25,
		func(i int) bool { return i == 125 })
	rising(t, during)
	if len(res.Lost) != 1 {
		t.Fatalf("Lost = %v, want one span", res.Lost)
	}
	lost := res.Lost[0]
	t.Logf("writer held from 0.5 s to 2.5 s of sending: lost %v at %v", lost.Dur, lost.At)
	// The writer is held from 0.5 s of sending on, while LAME and the
	// reorder window lag some 0.3 s behind; the buffer takes 0.5 s more.
	// The stall ends at 2.5 s, and frames are kept again once half the
	// buffer is free. The bounds are loose: a slow machine lags more.
	if lost.At < 200*time.Millisecond || lost.At > 1500*time.Millisecond || lost.Dur < time.Second || lost.Dur > 2300*time.Millisecond {
		t.Errorf("lost %v at %v, want about 1.5 s from about 0.5 s", lost.Dur, lost.At)
	}
	if d := res.Duration - 3500*time.Millisecond; d < 0 || d > 100*time.Millisecond {
		t.Errorf("Duration = %v, want 3.5 s: the lost span stays in the timeline", res.Duration)
	}
	margin := 150 * time.Millisecond
	if p := toneIn(pcm, lost.At+margin, lost.At+lost.Dur-margin); p > 0.001 {
		t.Errorf("lost span: tone power %.4f, want silence", p)
	}
	if p := toneIn(pcm, 100*time.Millisecond, lost.At-margin); p < 0.3 {
		t.Errorf("before the lost span: tone power %.3f", p)
	}
	if p := toneIn(pcm, lost.At+lost.Dur+margin, res.Duration-margin); p < 0.3 {
		t.Errorf("after the lost span: tone power %.3f", p)
	}
}
