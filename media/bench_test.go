package media

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/testaudio"
)

// benchEncode encodes 1 s of 8 kHz speech-band audio per iteration, in
// 20 ms calls as the recorder does, and reports times real time on one core.
func benchEncode(b *testing.B, channels int) {
	e, err := NewEncoder(channels, 5)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	a, c := testaudio.Tone(400, sampleRate, sampleRate, 6000), testaudio.Tone(1130, sampleRate, sampleRate, 5000)
	pcm := make([]int16, channels*sampleRate)
	for i := range sampleRate {
		if channels == 1 {
			pcm[i] = a[i]/2 + c[i]/2
		} else {
			pcm[2*i], pcm[2*i+1] = a[i], c[i]
		}
	}
	step := 160 * channels
	b.SetBytes(int64(len(pcm) * 2))
	n := 0
	for b.Loop() {
		for i := 0; i < len(pcm); i += step {
			if _, err := e.Encode(pcm[i : i+step]); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "x_realtime")
}

func BenchmarkEncodeMono(b *testing.B)   { benchEncode(b, 1) }
func BenchmarkEncodeStereo(b *testing.B) { benchEncode(b, 2) }

// ingestAlternating feeds r one packet per benchmark iteration, the two
// legs taking turns, each packet 20 ms after that leg's previous one.
// Sequence number and timestamp are rewritten in place.
func ingestAlternating(b *testing.B, r *Recording, legs [2]*leg, pkts [2][]byte) {
	t0 := time.Unix(0, 0)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		k, seq := i&1, i>>1
		p := pkts[k]
		p[2], p[3] = byte(seq>>8), byte(seq)
		ts := uint32(seq * 160)
		p[4], p[5], p[6], p[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		r.ingest(legs[k], p, testSrc, t0.Add(time.Duration(seq)*20*time.Millisecond))
		i++
	}
}

// BenchmarkIngest measures the per-packet path of a two-leg call: RTP
// parse, source and SSRC checks, reorder buffer, G.711 decode in RTP
// order, timeline placement, mix, and (amortised) MP3 encode and write. One
// op is one 20 ms packet; the legs alternate.
func BenchmarkIngest(b *testing.B) {
	for _, stereo := range []bool{false, true} {
		name := "mono"
		if stereo {
			name = "stereo"
		}
		b.Run(name, func(b *testing.B) {
			r, err := NewRecording(Config{Stereo: stereo}, io.Discard, nil)
			if err != nil {
				b.Fatal(err)
			}
			ingestTones(b, r)
			b.StopTimer()
			if _, err := r.Stop(); err != nil {
				b.Fatal(err)
			}
			if st := r.Stats(); st[0].Late+st[1].Late+st[0].Ignored != 0 {
				b.Fatalf("stats %+v", st)
			}
		})
	}
}

// BenchmarkIngestStalled is BenchmarkIngest (mono) with a writer that
// stalls for the whole run and a write buffer of 1 s: nearly every frame is
// dropped and counted, and the readers' per-packet cost stays that of a
// healthy disk. The writer is released (and the silence written) after the
// timer stops.
func BenchmarkIngestStalled(b *testing.B) {
	w := newStallWriter()
	w.hold()
	r, err := NewRecording(Config{WriteBuffer: time.Second}, w, nil)
	if err != nil {
		b.Fatal(err)
	}
	ingestTones(b, r)
	b.StopTimer()
	w.release()
	res, err := r.Stop()
	if err != nil {
		b.Fatal(err)
	}
	if b.N > 200 && len(res.Lost) != 1 {
		b.Fatalf("lost %v, want one span", res.Lost)
	}
}

// BenchmarkIngestSRTP is BenchmarkIngestPCM with both legs in SRTP
// (AES_CM_128_HMAC_SHA1_80): the recorder's own per-packet work with the
// decryption. The packets are sealed before the timer starts.
func BenchmarkIngestSRTP(b *testing.B) {
	p := testSRTPParams(b, "AES_CM_128_HMAC_SHA1_80", nil)
	r, err := newRecording(Config{}, nil, func([]int16) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	var legs [2]*leg
	for k := range legs {
		if legs[k], err = r.addLeg(string(rune('a'+k)), nil, LegOptions{Codecs: testCodecs, SRTP: &p}); err != nil {
			b.Fatal(err)
		}
	}
	pkts := make([][]byte, b.N)
	for k := range legs {
		tx := newSRTPSender(b, p)
		for i := k; i < b.N; i += 2 {
			seq := i >> 1
			pkts[i] = tx.seal(rtpPacket(uint32(k+1), uint16(seq), uint32(seq*160), 0, 0x80, 160))
		}
	}
	t0 := time.Unix(0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.ingest(legs[i&1], pkts[i], testSrc, t0.Add(time.Duration(i>>1)*20*time.Millisecond))
	}
	b.StopTimer()
	if st := r.Stats(); st[0].AuthFailed+st[1].AuthFailed+st[0].Late+st[1].Late != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkIngestPCM is BenchmarkIngest without the encoder: the cost of
// the recorder's own per-packet work.
func BenchmarkIngestPCM(b *testing.B) {
	r, err := newRecording(Config{}, nil, func([]int16) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	la, _ := r.addLeg("a", nil, LegOptions{Codecs: testCodecs})
	lb, _ := r.addLeg("b", nil, LegOptions{Codecs: testCodecs})
	pkts := [2][]byte{rtpPacket(1, 0, 0, 0, 0x80, 160), rtpPacket(2, 0, 0, 0, 0x90, 160)}
	ingestAlternating(b, r, [2]*leg{la, lb}, pkts)
}

// ingestTones adds two PCMU legs to r and runs the benchmark's packets
// through them: a 400 Hz tone on one, 1000 Hz on the other.
func ingestTones(b *testing.B, r *Recording) {
	la, _ := r.addLeg("a", nil, LegOptions{Codecs: testCodecs})
	lb, _ := r.addLeg("b", nil, LegOptions{Codecs: testCodecs})
	pa := testaudio.EncodeUlaw(testaudio.Tone(400, sampleRate, 160, 8000))
	pb := testaudio.EncodeUlaw(testaudio.Tone(1000, sampleRate, 160, 8000))
	pkts := [2][]byte{rtpPacket(1, 0, 0, 0, 0, 160), rtpPacket(2, 0, 0, 0, 0, 160)}
	copy(pkts[0][12:], pa)
	copy(pkts[1][12:], pb)
	ingestAlternating(b, r, [2]*leg{la, lb}, pkts)
}

// BenchmarkEncodeMany encodes for 500 calls at once, taking turns as
// their packets come, the mono mix handed to LAME 20 ms at a time (a
// chunk per packet) or in batches of 4, 8 or 16 MP3 frames: with 500
// encoders' state out of the caches, a batch reuses what one frame warmed.
// One op is 5.76 s of audio of 500 calls; ms_per_call_second is the
// CPU it took, on one core.
func BenchmarkEncodeMany(b *testing.B) {
	for _, chunk := range []int{160, encodeBatch, 2 * encodeBatch, 4 * encodeBatch} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			const calls = 500
			encs := make([]*Encoder, calls)
			for i := range encs {
				e, err := NewEncoder(1, DefaultQuality)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				encs[i] = e
			}
			// 5.76 s: whole packets and whole batches of every size.
			const samples = 36 * 160 * 8
			a, c := testaudio.Tone(400, sampleRate, samples, 6000), testaudio.Tone(1130, sampleRate, samples, 5000)
			pcm := make([]int16, samples)
			for i := range pcm {
				pcm[i] = a[i]/2 + c[i]/2
			}
			var seconds float64
			for b.Loop() {
				for off := 0; off+chunk <= len(pcm); off += chunk {
					for _, e := range encs {
						if _, err := e.Encode(pcm[off : off+chunk]); err != nil {
							b.Fatal(err)
						}
					}
				}
				seconds += calls * float64(samples) / sampleRate
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(seconds), "ms_per_call_second")
		})
	}
}
