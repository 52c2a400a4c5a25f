package media

import (
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/testaudio"
	"github.com/pion/rtp"
)

// newG729 returns a G.729 decoder closed when the test ends.
func newG729(tb testing.TB) *g729Decoder {
	tb.Helper()
	d, err := NewDecoder("G729", 8000)
	if err != nil {
		tb.Fatalf("NewDecoder(G729): %v", err)
	}
	tb.Cleanup(closeDecoderFunc(d))
	return d.(*g729Decoder)
}

func closeDecoderFunc(d Decoder) func() { return func() { closeDecoder(d) } }

// decodeG729Packets decodes frames (EncodeG729 output) in 20 ms packets with
// one decoder, as a leg does.
func decodeG729Packets(tb testing.TB, frames []byte) []int16 {
	tb.Helper()
	d := newG729(tb)
	var pcm []int16
	for i := 0; i < len(frames); i += 20 {
		pcm = d.Decode(pcm, frames[i:min(i+20, len(frames))])
	}
	return pcm
}

// TestG729Framing: 10-byte frames and a trailing 2-byte SID frame give 80
// samples each, other trailing bytes are ignored, dst is appended to, and a
// closed decoder appends nothing.
func TestG729Framing(t *testing.T) {
	frames := testaudio.EncodeG729(testaudio.Tone(400, 8000, 800, 8000)) // 10 frames
	sid := []byte{0x4A, 0x90}
	for _, c := range []struct {
		payload []byte
		samples int
	}{
		{nil, 0}, {frames[:1], 0}, {sid, 80}, {frames[:9], 0}, {frames[:10], 80}, {frames[:11], 80},
		{append(frames[:10:10], sid...), 160}, {frames[:13], 80}, {frames[:19], 80}, {frames[:20], 160},
		{append(frames[:20:20], sid...), 240}, {frames[:23], 160}, {frames, 800}, {append(frames[:100:100], 7), 800},
	} {
		d := newG729(t)
		got := d.Decode([]int16{7, 8}, c.payload)
		if len(got) != 2+c.samples || got[0] != 7 || got[1] != 8 {
			t.Errorf("Decode(%d bytes) appended %d samples (prefix %v), want %d", len(c.payload), len(got)-2, got[:min(2, len(got))], c.samples)
		}
		d.Close()
		d.Close()
		if got := d.Decode(nil, c.payload); len(got) != 0 {
			t.Errorf("closed decoder decoded %d samples", len(got))
		}
	}
}

// TestG729ComfortNoise: SID frames after speech and on a fresh decoder
// give 80 samples of quiet comfort noise each, not silence and not speech
// level.
func TestG729ComfortNoise(t *testing.T) {
	d := newG729(t)
	pcm := d.Decode(nil, testaudio.EncodeG729(testaudio.Tone(400, 8000, 1600, 8000)))
	var cn []int16
	for range 20 {
		cn = d.Decode(cn, []byte{0x4A, 0x90})
	}
	if len(pcm) != 1600 || len(cn) != 1600 {
		t.Fatalf("decoded %d speech and %d CN samples, want 1600 each", len(pcm), len(cn))
	}
	rms := func(x []int16) float64 {
		var e float64
		for _, v := range x {
			e += float64(v) * float64(v)
		}
		return math.Sqrt(e / float64(len(x)))
	}
	t.Logf("RMS: speech %.0f, comfort noise %.0f", rms(pcm[800:]), rms(cn[800:]))
	if r := rms(cn[800:]); r == 0 || r > rms(pcm[800:]) {
		t.Errorf("comfort noise RMS %.0f (speech %.0f)", r, rms(pcm[800:]))
	}
	fresh := newG729(t)
	if got := fresh.Decode(nil, []byte{0xFF, 0xFF}); len(got) != 80 {
		t.Errorf("SID on a fresh decoder gave %d samples", len(got))
	}
}

// TestG729NoClipping guards against loreste/siprec #17 (a G.729 decoder
// whose overflow clipped most samples): tones at moderate and near full
// scale, encoded with bcg729, decode at their level, with almost no sample
// at the rails and no wrapped sample.
func TestG729NoClipping(t *testing.T) {
	for _, freq := range []float64{400, 1000} {
		for _, amp := range []float64{8000, 30000, 32000} {
			in := testaudio.Tone(freq, 8000, 16000, amp)
			pcm := decodeG729Packets(t, testaudio.EncodeG729(in))
			if len(pcm) != len(in) {
				t.Fatalf("decoded %d samples, want %d", len(pcm), len(in))
			}
			body := pcm[800:] // past the codec's start-up
			rails, jumps := 0, 0
			for i, v := range body {
				if v >= 32767 || v <= -32767 {
					rails++
				}
				if i > 0 && math.Abs(float64(v)-float64(body[i-1])) > 40000 {
					jumps++
				}
			}
			want := (amp / 32768) * (amp / 32768) / 4
			p := testaudio.Power(body, freq, 8000)
			frac := float64(rails) / float64(len(body))
			t.Logf("%4.0f Hz amplitude %5.0f: power %.4f (input %.4f), %d samples at the rails (%.3f%%), %d wraps",
				freq, amp, p, want, rails, 100*frac, jumps)
			if p < 0.5*want || p > 1.5*want {
				t.Errorf("%.0f Hz amplitude %.0f: tone power %.4f, want about %.4f", freq, amp, p, want)
			}
			if frac >= 0.001 || jumps != 0 {
				t.Errorf("%.0f Hz amplitude %.0f: %d of %d samples at ±32767, %d wrapped", freq, amp, rails, len(body), jumps)
			}
		}
	}
}

// TestG729DecodersFreed: creating, using and closing 10,000 decoders
// leaves the C heap where it was; the gauge does see decoders left open.
func TestG729DecodersFreed(t *testing.T) {
	payload := testaudio.EncodeG729(testaudio.Tone(400, 8000, 160, 8000))
	pcm := make([]int16, 0, 160)
	before := testaudio.MallocInUse()
	for range 10_000 {
		d, err := NewDecoder("G729", 8000)
		if err != nil {
			t.Fatal(err)
		}
		pcm = d.Decode(pcm[:0], payload)
		closeDecoder(d)
	}
	grew := testaudio.MallocInUse() - before
	var open []Decoder
	for range 100 {
		d, _ := NewDecoder("G729", 8000)
		open = append(open, d)
	}
	perDecoder := (testaudio.MallocInUse() - before - grew) / 100
	for _, d := range open {
		closeDecoder(d)
	}
	t.Logf("C heap: %+d bytes after 10,000 decoders; %d bytes per open decoder", grew, perDecoder)
	if perDecoder < 1000 {
		t.Errorf("an open decoder holds %d bytes of C heap: the gauge does not work", perDecoder)
	}
	if grew > 64<<10 {
		t.Errorf("C heap grew by %d bytes over 10,000 decoders: they leak", grew)
	}
}

// g729Codecs is a leg's payload-type map after a re-INVITE to G.729
// (annexb=no), as a Cisco CUBE sends it.
var g729Codecs = map[uint8]string{18: "G729", 101: "telephone-event"}

// TestRecordingSetCodecsPCMAToG729: a leg switches from PCMA (400 Hz) to
// G.729 (1000 Hz) mid-stream, keeping its SSRC, sequence and timestamps;
// both parts decode in place, and PCMA packets after the switch are ignored.
func TestRecordingSetCodecsPCMAToG729(t *testing.T) {
	h := newHarness(t, Config{})
	l, err := h.r.addLeg("1", nil, LegOptions{Codecs: map[uint8]string{8: "PCMA", 101: "telephone-event"}})
	if err != nil {
		t.Fatalf("addLeg: %v", err)
	}
	const half = 50 // packets, 1 s
	pcma := testaudio.EncodeAlaw(testaudio.Tone(400, 8000, half*160, 12000))
	g729 := testaudio.EncodeG729(testaudio.Tone(1000, 8000, half*160, 12000))
	send := func(i int, pt uint8, payload []byte) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(60000 + i),
			Timestamp: uint32(1<<32 - 4000 + 160*i), SSRC: 0xC0BE}, Payload: payload}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		h.r.ingest(l, b, testSrc, h.t0.Add(time.Duration(i)*20*time.Millisecond))
	}
	for i := range half {
		send(i, 8, pcma[160*i:160*(i+1)])
	}
	if err := h.r.SetCodecs("1", g729Codecs); err != nil {
		t.Fatalf("SetCodecs: %v", err)
	}
	for i := range half {
		send(half+i, 18, g729[20*i:20*(i+1)])
	}
	send(2*half, 8, pcma[:160]) // PCMA is gone
	res := h.stop()
	st := res.Legs[0]
	if st.Codec != "G729" || st.Ignored != 1 || st.Late != 0 || st.Packets != 2*half+1 {
		t.Errorf("stats %+v; want codec G729, 1 ignored, no late", st)
	}
	if len(h.pcm) != 2*half*160 {
		t.Fatalf("%d samples, want %d", len(h.pcm), 2*half*160)
	}
	first, second := h.pcm[800:half*160-400], h.pcm[half*160+800:]
	p400a, p1000a := testaudio.Power(first, 400, 8000), testaudio.Power(first, 1000, 8000)
	p400b, p1000b := testaudio.Power(second, 400, 8000), testaudio.Power(second, 1000, 8000)
	t.Logf("PCMA part: 400 Hz %.4f, 1000 Hz %.4f; G.729 part: 400 Hz %.4f, 1000 Hz %.4f", p400a, p1000a, p400b, p1000b)
	if p400a < 0.02 || p1000a > p400a/100 || p1000b < 0.02 || p400b > p1000b/100 {
		t.Errorf("tones not in place")
	}
	// Both parts sit exactly where their timestamps put them: sample for
	// sample what a fresh decoder makes of each part alone.
	want := append(decodeTable(alawTable, nil, pcma), decodeG729Packets(t, g729)...)
	for i, v := range h.pcm {
		if v != want[i] {
			t.Fatalf("sample %d = %d, want %d (the switch is at %d)", i, v, want[i], half*160)
		}
	}
}

// TestSetCodecs: same-codec payload types keep their decoder (and state),
// dropped or changed ones are closed, errors for unknown legs, unsupported
// maps and a stopped recording, and Stop closes every decoder.
func TestSetCodecs(t *testing.T) {
	h := newHarness(t, Config{})
	l, err := h.r.addLeg("a", nil, LegOptions{Codecs: map[uint8]string{18: "G729", 0: "PCMU", 96: "G729A"}})
	if err != nil {
		t.Fatalf("addLeg: %v", err)
	}
	d18, d96 := l.decoders[18].(*g729Decoder), l.decoders[96].(*g729Decoder)
	if err := h.r.SetCodecs("a", map[uint8]string{18: "g729", 8: "PCMA", 96: "PCMU"}); err != nil {
		t.Fatalf("SetCodecs: %v", err)
	}
	if l.decoders[18] != Decoder(d18) || d18.ctx == nil || l.names[18] != "g729" {
		t.Errorf("PT 18 (still G.729) lost its decoder")
	}
	if l.decoders[0] != nil || l.decoders[8] == nil || d96.ctx != nil || l.names[96] != "PCMU" {
		t.Errorf("PT 0 %v, PT 8 %v, old PT 96 decoder open %v, PT 96 %q", l.decoders[0], l.decoders[8], d96.ctx != nil, l.names[96])
	}
	if err := h.r.SetCodecs("b", g729Codecs); err == nil {
		t.Errorf("SetCodecs of an unknown leg: no error")
	}
	if err := h.r.SetCodecs("a", map[uint8]string{101: "telephone-event"}); !errors.Is(err, errUnsupportedCodec) {
		t.Errorf("SetCodecs without a supported codec: error %v", err)
	}
	if d18.ctx != nil || l.decoders[18] != nil || l.decoders[8] != nil {
		t.Errorf("a map without supported codecs left decoders")
	}
	if err := h.r.SetCodecs("a", g729Codecs); err != nil {
		t.Fatalf("SetCodecs: %v", err)
	}
	last := l.decoders[18].(*g729Decoder)
	if _, err := h.r.addLeg("a", nil, LegOptions{Codecs: g729Codecs}); err == nil {
		t.Errorf("duplicate label: no error")
	}
	h.stop()
	if last.ctx != nil || l.decoders[18] != nil {
		t.Errorf("Stop left a decoder open")
	}
	if err := h.r.SetCodecs("a", g729Codecs); !errors.Is(err, errStopped) {
		t.Errorf("SetCodecs after Stop: error %v", err)
	}
}

// TestRecordingG729Loopback sends 1 s of G.729 RTP in real time over UDP
// (testaudio.SendPaced, 20-byte packets) and finds the tone in the mix.
func TestRecordingG729Loopback(t *testing.T) {
	var pcm []int16
	r, err := newRecording(Config{}, nil, func(p []int16) error {
		pcm = append(pcm, p...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddLeg("1", conn, map[uint8]string{18: "G729", 0: "PCMU"}); err != nil {
		conn.Close()
		t.Fatalf("AddLeg: %v", err)
	}
	const packets = 50
	err = testaudio.SendPaced([]testaudio.Stream{{To: conn.LocalAddr().(*net.UDPAddr), PT: 18, SSRC: 0x729,
		Payload: testaudio.EncodeG729(testaudio.Tone(600, 8000, packets*160, 10000)), PacketBytes: 20}})
	if err != nil {
		t.Fatalf("SendPaced: %v", err)
	}
	waitPackets(t, r, packets)
	res, err := r.Stop()
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if st := res.Legs[0]; st.Codec != "G729" || st.Ignored != 0 || st.Late != 0 || res.Samples < packets*160 {
		t.Errorf("result %d samples, stats %+v", res.Samples, st)
	}
	mid := pcm[len(pcm)/4 : len(pcm)*3/4]
	if p, off := testaudio.Power(mid, 600, 8000), testaudio.Power(mid, 1500, 8000); p < 0.01 || off > p/100 {
		t.Errorf("600 Hz power %.4f, 1500 Hz %.4f", p, off)
	}
}

// FuzzDecodeG729 feeds arbitrary payloads to one decoder: nothing may
// crash, and the output length follows the framing rule.
func FuzzDecodeG729(f *testing.F) {
	f.Add(testaudio.EncodeG729(testaudio.Tone(400, 8000, 160, 30000)))
	f.Add([]byte{0xFF, 0xFF})
	f.Add(make([]byte, 23))
	rnd := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 62)
	for i := range b {
		b[i] = byte(rnd.Uint32())
	}
	f.Add(b)
	d := newG729(f)
	var pcm []int16
	f.Fuzz(func(t *testing.T, payload []byte) {
		pcm = d.Decode(pcm[:0], payload)
		if len(pcm) != 80*g729Frames(len(payload)) {
			t.Fatalf("%d bytes gave %d samples", len(payload), len(pcm))
		}
	})
}

// BenchmarkDecodeG729 decodes one 20 ms packet (two frames, 20 bytes) per
// op with one cgo call, and reports times real time on one core.
func BenchmarkDecodeG729(b *testing.B) {
	d := newG729(b)
	frames := testaudio.EncodeG729(testaudio.Tone(400, 8000, 8000, 6000))
	pcm := make([]int16, 0, 160)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		off := (i % 50) * 20
		pcm = d.Decode(pcm[:0], frames[off:off+20])
		i++
	}
	b.ReportMetric(float64(i)*0.020/b.Elapsed().Seconds(), "x_realtime")
}

// BenchmarkConcealG729 conceals one lost 20 ms packet (two erased frames)
// per op with one cgo call, after 1 s of decoded speech.
func BenchmarkConcealG729(b *testing.B) {
	d := newG729(b)
	pcm := d.Decode(nil, testaudio.EncodeG729(testaudio.Tone(400, 8000, 8000, 6000)))
	b.ReportAllocs()
	for b.Loop() {
		pcm = d.Conceal(pcm[:0], 160)
	}
}

// TestG729Conceal: concealment appends exactly the samples asked for
// (frames cut short), continues the signal at a falling level rather than
// silence, keeps the decoder in step for the next frames, and is silence
// after Close.
func TestG729Conceal(t *testing.T) {
	frames := testaudio.EncodeG729(testaudio.Tone(400, 8000, 2400, 8000))
	d := newG729(t)
	pcm := d.Decode(nil, frames[:200]) // 200 ms
	for _, n := range []int{0, 1, 79, 80, 81, 160} {
		if got := d.Conceal([]int16{7}, n); len(got) != 1+n || got[0] != 7 {
			t.Errorf("Conceal(%d) appended %d samples", n, len(got)-1)
		}
	}
	c := newG729(t)
	c.Decode(nil, frames[:200])
	lost := c.Conceal(nil, 160)
	if p := testaudio.Power(lost, 400, 8000); p < 0.1*testaudio.Power(pcm[800:], 400, 8000) {
		t.Errorf("concealment 400 Hz power %.4f: not a continuation of the tone", p)
	}
	after := c.Decode(nil, frames[220:300])
	if p := testaudio.Power(after[400:], 400, 8000); p < 0.5*testaudio.Power(pcm[800:], 400, 8000) {
		t.Errorf("decoding after a concealment: 400 Hz power %.4f", p)
	}
	c.Close()
	if got := c.Conceal(nil, 100); len(got) != 100 || slices.ContainsFunc(got, func(v int16) bool { return v != 0 }) {
		t.Errorf("a closed decoder concealed %d samples, not silence", len(got))
	}
}
