package media

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// legAt adds a leg to the harness configured by o (testCodecs unless o
// names codecs).
func (h *pcmHarness) legAt(label string, o LegOptions) *leg {
	h.t.Helper()
	if o.Codecs == nil {
		o.Codecs = testCodecs
	}
	l, err := h.r.addLeg(label, nil, o)
	if err != nil {
		h.t.Fatalf("addLeg: %v", err)
	}
	return l
}

// sendFrom ingests a 20 ms PCMU packet of constant code from src at ms
// after t0.
func (h *pcmHarness) sendFrom(l *leg, src netip.AddrPort, ssrc uint32, seq uint16, ts uint32, code byte, ms float64) {
	h.r.ingest(l, rtpPacket(ssrc, seq, ts, 0, code, 160), src, h.t0.Add(time.Duration(ms*float64(time.Millisecond))))
}

var (
	srcA     = netip.MustParseAddrPort("192.0.2.7:17000") // the gateway's two streams
	srcB     = netip.MustParseAddrPort("192.0.2.7:17002")
	stranger = netip.MustParseAddrPort("198.51.100.9:40000")
)

// twoLegCall records a 2.3 s call on two legs announced at srcA and srcB
// (leg a sends 8, leg b 16), calling flood(i, ms) after each 20 ms step,
// and returns the harness after Stop and the result.
func twoLegCall(t *testing.T, flood func(h *pcmHarness, a *leg, i int, ms float64)) (*pcmHarness, Result) {
	t.Helper()
	h := newHarness(t, Config{})
	a := h.legAt("a", LegOptions{Source: srcA})
	b := h.legAt("b", LegOptions{Source: srcB})
	for i := range 115 {
		ms := float64(20 * i)
		h.sendFrom(a, srcA, 0xA, uint16(i), uint32(160*i), 0xFE, ms)
		h.sendFrom(b, srcB, 0xB, uint16(i), uint32(160*i), 0xFD, ms)
		if flood != nil {
			flood(h, a, i, ms)
		}
	}
	return h, h.stop()
}

// TestStrangerFlood: 5,000 packets from another port, a new SSRC each,
// sent to a live call's leg, change nothing of the recording (length and
// every sample) and are counted; the same flood from the leg's own source
// is dropped by SSRC, and counted.
func TestStrangerFlood(t *testing.T) {
	clean, res := twoLegCall(t, nil)
	if res.Samples != 115*160 {
		t.Fatalf("clean call: %d samples, want %d", res.Samples, 115*160)
	}
	for _, c := range []struct {
		name string
		from netip.AddrPort
	}{{"other port", stranger}, {"spoofed source", srcA}} {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			h, res := twoLegCall(t, func(h *pcmHarness, a *leg, i int, ms float64) {
				if i == 0 {
					return // the call's own packet comes first
				}
				for k := range 44 { // 5,000 over the call
					if n == 5000 {
						return
					}
					n++
					h.sendFrom(a, c.from, uint32(0x5000+n), uint16(n), uint32(n*7919), 0x80, ms+float64(k)*0.4)
				}
			})
			if n != 5000 {
				t.Fatalf("sent %d foreign packets", n)
			}
			if res.Samples != 115*160 || !slices.Equal(h.pcm, clean.pcm) {
				t.Errorf("%d samples, want %d, identical to the clean call", res.Samples, 115*160)
			}
			st := res.Legs[0]
			foreign := st.ForeignSource
			if c.from == srcA {
				foreign = st.ForeignSSRC
			}
			if foreign != 5000 || st.SSRC != 0xA || st.Packets != 115+5000 {
				t.Errorf("stats %+v: want 5000 foreign packets dropped", st)
			}
		})
	}
}

// TestSourceDiscipline: a leg takes packets only from its announced
// source; an unknown source (hold address, no port) or Latch takes the
// first source of a packet it can use, and keeps it; SetSource moves it.
func TestSourceDiscipline(t *testing.T) {
	nat := netip.MustParseAddrPort("203.0.113.5:31000")
	for _, c := range []struct {
		name       string
		o          LegOptions
		first      netip.AddrPort // sends 3 packets
		then       netip.AddrPort // sends 3 packets
		took, lost uint64         // of the 6
		source     netip.AddrPort // LegStats.Source at the end
	}{
		{"announced", LegOptions{Source: srcA}, nat, srcA, 3, 3, srcA},
		{"announced, mapped", LegOptions{Source: netip.MustParseAddrPort("[::ffff:192.0.2.7]:17000")}, srcA, srcA, 6, 0, srcA},
		{"latch", LegOptions{Source: srcA, Latch: true}, nat, srcA, 3, 3, nat},
		{"unknown address", LegOptions{Source: netip.MustParseAddrPort("0.0.0.0:17000")}, nat, srcA, 3, 3, nat},
		{"unknown port", LegOptions{Source: netip.AddrPortFrom(srcA.Addr(), 0)}, srcB, srcA, 3, 3, srcB},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			l := h.legAt("a", c.o)
			for i := range 6 {
				from := c.first
				if i >= 3 {
					from = c.then
				}
				h.sendFrom(l, from, 1, uint16(i), uint32(160*i), 0xFE, float64(20*i))
			}
			st := h.r.Stats()[0]
			if st.Packets-st.ForeignSource != c.took || st.ForeignSource != c.lost || st.Source != c.source {
				t.Errorf("took %d, dropped %d, source %v; want %d, %d, %v", st.Packets-st.ForeignSource, st.ForeignSource, st.Source, c.took, c.lost, c.source)
			}
		})
	}
}

// TestLatchOnlyOnUsablePackets: a latching leg does not latch on garbage
// or on a payload type it does not know, so a stranger cannot take it with
// them.
func TestLatchOnlyOnUsablePackets(t *testing.T) {
	h := newHarness(t, Config{})
	l := h.legAt("a", LegOptions{Latch: true})
	h.r.ingest(l, []byte("not rtp at all"), stranger, h.t0)
	h.r.ingest(l, rtpPacket(9, 1, 0, 96, 0, 160), stranger, h.t0)
	h.sendFrom(l, srcA, 1, 1, 0, 0xFE, 20)
	h.sendFrom(l, stranger, 1, 2, 160, 0xFE, 40)
	st := h.r.Stats()[0]
	if st.Source != srcA || st.ForeignSource != 1 || st.Ignored != 2 {
		t.Errorf("stats %+v: want latched on %v, 2 ignored, 1 foreign", st, srcA)
	}
}

// TestSetSource: a re-INVITE moving the stream to another address moves
// the leg; a latched leg told the same address again keeps its latch, and
// re-latches when told of another.
func TestSetSource(t *testing.T) {
	h := newHarness(t, Config{})
	l := h.legAt("a", LegOptions{Source: srcA})
	h.sendFrom(l, srcA, 1, 1, 0, 0xFE, 0)
	if err := h.r.SetSource("a", srcB); err != nil {
		t.Fatalf("SetSource: %v", err)
	}
	h.sendFrom(l, srcA, 1, 2, 160, 0xFE, 20)
	h.sendFrom(l, srcB, 1, 3, 320, 0xFE, 40)
	if st := h.r.Stats()[0]; st.ForeignSource != 1 || st.Source != srcB {
		t.Errorf("after the move: %+v", st)
	}

	nat := netip.MustParseAddrPort("203.0.113.5:31000")
	m := h.legAt("m", LegOptions{Source: srcA, Latch: true})
	h.sendFrom(m, nat, 2, 1, 0, 0xFE, 0)
	_ = h.r.SetSource("m", srcA) // the same SDP again
	h.sendFrom(m, srcA, 2, 2, 160, 0xFE, 20)
	if st := h.r.Stats()[1]; st.ForeignSource != 1 || st.Source != nat {
		t.Errorf("latched leg told the same address: %+v", st)
	}
	_ = h.r.SetSource("m", srcB)
	h.sendFrom(m, srcB, 2, 3, 320, 0xFE, 40)
	h.sendFrom(m, nat, 2, 4, 480, 0xFE, 60)
	if st := h.r.Stats()[1]; st.ForeignSource != 2 || st.Source != srcB {
		t.Errorf("latched leg moved: %+v", st)
	}
	if err := h.r.SetSource("x", srcA); err == nil {
		t.Errorf("SetSource of an unknown leg: no error")
	}
	h.stop()
	if err := h.r.SetSource("a", srcA); err == nil {
		t.Errorf("SetSource after Stop: no error")
	}
}
