package pace

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// benchLegs is how many legs (own sockets) a benchmark paces: a shard of
// a 1,500-call run holds 1,500.
const benchLegs = 1500

// BenchmarkPacerLoopback paces benchLegs G.711 legs, each from its own
// connected socket, to a loopback sink (that does not read: the kernel
// still delivers each packet to its queue or drops it there), one
// goroutine, the clock advanced by a period per pass. pkts/s is what one
// core sends; 1,500 calls need 150,000.
func BenchmarkPacerLoopback(b *testing.B) { benchPacer(b, nil) }

// BenchmarkPacerLoopbackSRTP is the same with every leg SRTP-protected.
func BenchmarkPacerLoopbackSRTP(b *testing.B) {
	benchPacer(b, make([]byte, 30))
}

func benchPacer(b *testing.B, key []byte) {
	_, to := sink(b)
	s := &shard{}
	payload := make([]byte, 160)
	for i := range benchLegs {
		sock, err := Bind(netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sock.Close() })
		if err := sock.Connect(to); err != nil {
			b.Fatal(err)
		}
		l, err := NewLeg(LegConfig{Out: sock, SSRC: uint32(i), Cycle: [][]byte{payload}, SRTPKey: key})
		if err != nil {
			b.Fatal(err)
		}
		l.shard, l.idx = s, i
		s.legs = append(s.legs, l)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	passes := (b.N + benchLegs - 1) / benchLegs
	for i := range passes {
		s.pass(time.Duration(i)*Period, DefaultMaxBurst)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	var st Stats
	for _, l := range s.legs {
		st.Add(l.stats)
	}
	b.ReportMetric(float64(st.Sent+st.Failed)/elapsed.Seconds(), "pkts/s")
	b.ReportMetric(float64(st.Failed)/float64(max(st.Intended, 1)), "failed/pkt")
}

// BenchmarkWriteOneAtATime and BenchmarkWriteBatch compare one write(2)
// per packet with sendmmsg(2) batches of 64 (x/net/ipv4 WriteBatch) on
// one socket. sendmmsg batches the messages of one socket only, and a
// recorder takes each leg's RTP only from the port its SDP announced, so
// batching would need every leg to announce one shared port.
func BenchmarkWriteOneAtATime(b *testing.B) {
	_, to := sink(b)
	sock, err := Bind(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		b.Fatal(err)
	}
	defer sock.Close()
	if err := sock.Connect(to); err != nil {
		b.Fatal(err)
	}
	pkt := make([]byte, 172)
	b.ReportAllocs()
	for b.Loop() {
		sock.Send(pkt)
	}
}

func BenchmarkWriteBatch(b *testing.B) {
	_, to := sink(b)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pc := ipv4.NewPacketConn(c)
	dst := net.UDPAddrFromAddrPort(to)
	msgs := make([]ipv4.Message, 64)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{make([]byte, 172)}, Addr: dst}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(msgs) {
		if _, err := pc.WriteBatch(msgs, 0); err != nil {
			b.Fatal(err)
		}
	}
}
