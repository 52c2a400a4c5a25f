package media

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzIngest feeds arbitrary datagrams to the packet ingest path of a
// stereo two-leg recording. The input is a sequence of records: 1 byte leg,
// 1 byte arrival step in ms, 2 bytes length, then the datagram. Nothing may
// panic, emitted audio never runs past the newest position, and buffers stay
// bounded (what the mixer may wait for, plus one packet and one chunk).
func FuzzIngest(f *testing.F) {
	rec := func(leg byte, stepMS byte, pkt []byte) []byte {
		b := []byte{leg, stepMS, 0, 0}
		binary.BigEndian.PutUint16(b[2:], uint16(len(pkt)))
		return append(b, pkt...)
	}
	var seed []byte
	for i := range 6 {
		seed = append(seed, rec(byte(i%2), 20, rtpPacket(uint32(i%2), uint16(i), uint32(160*i), 0, 0x80, 160))...)
	}
	f.Add(seed)
	f.Add(rec(0, 0, rtpPacket(1, 65535, 1<<32-1, 8, 0xD5, 160)))
	f.Add(append(rec(1, 0, rtpPacket(1, 1, 0, 0, 1, 160)), rec(1, 5, rtpPacket(1, 2, 1<<31, 0, 2, 4000))...))
	f.Add(rec(0, 0, []byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0, 5}))
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var samples int
		r, err := newRecording(Config{Stereo: true}, nil, func(pcm []int16) error {
			samples += len(pcm) / 2
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		legs := []*leg{}
		for _, label := range []string{"a", "b"} {
			l, err := r.addLeg(label, nil, LegOptions{Codecs: testCodecs})
			if err != nil {
				t.Fatal(err)
			}
			legs = append(legs, l)
		}
		at := time.Unix(0, 0)
		for len(data) >= 4 {
			l := legs[int(data[0])%len(legs)]
			at = at.Add(time.Duration(data[1]) * time.Millisecond)
			n := min(int(binary.BigEndian.Uint16(data[2:])), len(data)-4)
			r.ingest(l, data[4:4+n], testSrc, at)
			data = data[4+n:]
			if r.m.started && r.m.emitted > max(r.newest(), r.m.start) {
				t.Fatalf("emitted %d past newest %d", r.m.emitted, r.newest())
			}
			for _, l := range legs {
				if len(l.tl.buf) > int(settle+2*r.m.reorder)+readBufSize+mixChunk {
					t.Fatalf("leg buffer holds %d samples", len(l.tl.buf))
				}
			}
		}
		res, err := r.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if int64(samples) != res.Samples || (r.m.started && r.m.emitted < r.newest()) {
			t.Fatalf("emitted %d samples, result %d, newest %d, emitted up to %d", samples, res.Samples, r.newest(), r.m.emitted)
		}
	})
}
