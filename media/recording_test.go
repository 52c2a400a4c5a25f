package media

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/callvault/callvault/internal/testaudio"
)

// TestRecordingLoopback records two legs sent as real RTP over loopback UDP
// (400 Hz in PCMU, 1000 Hz in PCMA, 20 ms packets in real time) and checks
// the MP3 with ffmpeg: format, duration and where each tone went.
func TestRecordingLoopback(t *testing.T) {
	testaudio.Require(t, "ffmpeg", "ffprobe")
	lo, hi := freeRange(t, 16) // 4 needed; the rest is slack for ports taken meanwhile
	pool, err := NewPortPool(loopback, lo, hi)
	if err != nil {
		t.Fatalf("NewPortPool: %v", err)
	}
	const packets = 100 // 2 s
	toneA, toneB := testaudio.Tone(400, sampleRate, packets*160, 8000), testaudio.Tone(1000, sampleRate, packets*160, 8000)
	legA, legB := testaudio.EncodeUlaw(toneA), testaudio.EncodeAlaw(toneB)
	sent400, sent1000 := testaudio.Power(toneA, 400, sampleRate), testaudio.Power(toneB, 1000, sampleRate)
	for _, stereo := range []bool{false, true} {
		t.Run(fmt.Sprintf("stereo=%v", stereo), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			r, err := NewRecording(Config{Stereo: stereo}, &lockedWriter{w: &out}, nil)
			if err != nil {
				t.Fatalf("NewRecording: %v", err)
			}
			var ports []int
			for _, label := range []string{"1", "2"} {
				conn, port, err := pool.Listen()
				if err != nil {
					t.Fatalf("Listen: %v", err)
				}
				codecs := map[uint8]string{0: "PCMU", 8: "PCMA", 101: "telephone-event"}
				if err := r.AddLeg(label, conn, codecs); err != nil {
					t.Fatalf("AddLeg: %v", err)
				}
				ports = append(ports, port)
			}
			client, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatalf("client socket: %v", err)
			}
			defer client.Close()
			send := func(port int, p *rtp.Packet) {
				b, err := p.Marshal()
				if err != nil {
					t.Fatalf("marshal: %v", err)
				}
				if _, err := client.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
					t.Fatalf("send: %v", err)
				}
			}
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := range packets {
				a := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1000 + i),
					Timestamp: uint32(7777 + 160*i), SSRC: 0xA}, Payload: legA[160*i : 160*(i+1)]}
				b := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: uint16(65500 + i),
					Timestamp: uint32(1<<32 - 800 + 160*i), SSRC: 0xB}, Payload: legB[160*i : 160*(i+1)]}
				send(ports[0], a)
				send(ports[1], b)
				if i == 50 {
					send(ports[1], b) // duplicate
					send(ports[0], &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101,
						SequenceNumber: 5000, Timestamp: 1, SSRC: 0xA}, Payload: []byte{1, 0, 0, 160}})
				}
				<-tick.C
			}
			waitPackets(t, r, packets+1, packets+1)
			res, err := r.Stop()
			if err != nil {
				t.Fatalf("Stop: %v", err)
			}
			for i, st := range res.Legs {
				wantCodec := []string{"PCMU", "PCMA"}[i]
				if st.Late != 0 || st.Codec != wantCodec || st.Port != ports[i] {
					t.Errorf("leg %d stats = %+v", i, st)
				}
			}
			if st := res.Legs[0]; st.Ignored != 1 || st.SSRC != 0xA {
				t.Errorf("leg 1: %d ignored, SSRC %x; want 1 (the telephone-event), a", st.Ignored, st.SSRC)
			}
			if st := res.Legs[1]; st.Duplicates != 1 || st.SSRC != 0xB {
				t.Errorf("leg 2: %d duplicates, SSRC %x; want 1, b", st.Duplicates, st.SSRC)
			}
			wantDur := time.Duration(packets) * 20 * time.Millisecond
			if d := res.Duration - wantDur; d < 0 || d > 50*time.Millisecond {
				t.Errorf("Duration = %v, want %v (+ the second leg's arrival offset)", res.Duration, wantDur)
			}

			id3, err := Tags{RecordID: "2026000000001", Duration: res.Duration, Direction: "IN"}.ID3()
			if err != nil {
				t.Fatalf("ID3: %v", err)
			}
			path := writeMP3(t, id3, res.LAMETag, out.Bytes())
			channels := 1
			if stereo {
				channels = 2
			}
			p := ffprobe(t, path)
			if p.Codec != "mp3" || p.SampleRate != 8000 || p.BitRate != 32000 || p.Channels != channels {
				t.Errorf("ffprobe = %+v", p)
			}
			pcm := ffmpegDecode(t, path)
			if got := int64(len(pcm) / channels); got != res.Samples {
				t.Errorf("decoded %d samples per channel, want %d", got, res.Samples)
			}
			// Each tone's power in the recording, as a fraction of its power
			// as sent. The mono mix keeps both tones at full level.
			chans := testaudio.Deinterleave(pcm, channels)
			mid := func(x []int16) []int16 { return x[len(x)/4 : len(x)*3/4] }
			left, right := mid(chans[0]), mid(chans[channels-1])
			l400, l1000 := testaudio.Power(left, 400, sampleRate)/sent400, testaudio.Power(left, 1000, sampleRate)/sent1000
			r400, r1000 := testaudio.Power(right, 400, sampleRate)/sent400, testaudio.Power(right, 1000, sampleRate)/sent1000
			t.Logf("power of the sent tone: left 400 Hz %.3f, 1000 Hz %.3f; right 400 Hz %.3f, 1000 Hz %.3f", l400, l1000, r400, r1000)
			if !stereo {
				if l400 < 0.3 || l1000 < 0.3 {
					t.Errorf("mono mix lacks a tone: 400 Hz %.3f, 1000 Hz %.3f", l400, l1000)
				}
				return
			}
			if l400 < 0.3 || r1000 < 0.3 || l1000 > 0.05 || r400 > 0.05 {
				t.Errorf("stereo: left 400 Hz %.3f (1000 Hz %.3f), right 1000 Hz %.3f (400 Hz %.3f)", l400, l1000, r1000, r400)
			}
		})
	}
}

// waitPackets polls Stats until the legs have counted the packets sent
// (loopback delivery is fast but not synchronous with the send).
func waitPackets(t *testing.T, r *Recording, want ...uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := r.Stats()
		done := len(st) == len(want)
		for i := range st {
			done = done && st[i].Packets >= want[i]
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats after 5 s: %+v, want packets %v", st, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lockedWriter lets the test read what the recording writes.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type failingWriter struct{ calls int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.calls++
	return 0, fmt.Errorf("disk full")
}

// TestRecordingWriteError: after the writer fails, audio is dropped (no
// buffer grows, no more writes, the encoder stops once the failure is
// known) and Stop reports the error.
func TestRecordingWriteError(t *testing.T) {
	w := &failingWriter{}
	r, err := NewRecording(Config{}, w, nil)
	if err != nil {
		t.Fatalf("NewRecording: %v", err)
	}
	l, err := r.addLeg("1", nil, LegOptions{Codecs: testCodecs})
	if err != nil {
		t.Fatalf("addLeg: %v", err)
	}
	t0 := time.Unix(0, 0)
	for i := range 500 {
		r.ingest(l, rtpPacket(1, uint16(i), uint32(160*i), 0, 0x80, 160), testSrc, t0.Add(time.Duration(i)*20*time.Millisecond))
	}
	if len(l.tl.buf) > 2000 {
		t.Errorf("buffer holds %d samples", len(l.tl.buf))
	}
	if _, err := r.Stop(); err == nil {
		t.Errorf("Stop: no error")
	}
	if w.calls != 1 {
		t.Errorf("%d writes, want 1", w.calls)
	}
}

// TestRecordingEmpty: a call without audio stops cleanly with no samples.
func TestRecordingEmpty(t *testing.T) {
	var out bytes.Buffer
	r, err := NewRecording(Config{Stereo: true, Quality: 9}, &out, nil)
	if err != nil {
		t.Fatalf("NewRecording: %v", err)
	}
	res, err := r.Stop()
	if err != nil || res.Samples != 0 || res.Duration != 0 {
		t.Errorf("Stop = %+v, %v", res, err)
	}
	t.Logf("empty: %d bytes written, LAME tag %d bytes", out.Len(), len(res.LAMETag))
	for _, cfg := range []Config{{Quality: 10}, {Quality: -1}, {Reorder: -time.Second}, {Reorder: time.Minute}, {WriteBuffer: -1}, {WriteBuffer: time.Hour}} {
		if _, err := NewRecording(cfg, &out, nil); err == nil {
			t.Errorf("NewRecording(%+v): no error", cfg)
		}
	}
}
