package pace

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

func TestDue(t *testing.T) {
	for _, tc := range []struct {
		start, now time.Duration
		want       int64
	}{
		{0, 0, 1},
		{0, 19 * time.Millisecond, 1},
		{0, 20 * time.Millisecond, 2},
		{5 * time.Millisecond, 4 * time.Millisecond, 0},
		{5 * time.Millisecond, time.Second + 5*time.Millisecond, 51},
	} {
		if got := Due(tc.start, tc.now, Period); got != tc.want {
			t.Errorf("Due(%v, %v) = %d, want %d", tc.start, tc.now, got, tc.want)
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct{ due, done, burst, send, skip int64 }{
		{1, 0, 10, 1, 0},
		{5, 5, 10, 0, 0},
		{5, 7, 10, 0, 0},
		{12, 0, 10, 10, 2},
		{50, 40, 10, 10, 0},
	} {
		send, skip := Plan(tc.due, tc.done, tc.burst)
		if send != tc.send || skip != tc.skip {
			t.Errorf("Plan(%d, %d, %d) = %d, %d; want %d, %d", tc.due, tc.done, tc.burst, send, skip, tc.send, tc.skip)
		}
	}
}

// capture keeps copies of the packets sent; failEvery makes every n-th
// send fail.
type capture struct {
	pkts      [][]byte
	failEvery int
	calls     int
}

func (c *capture) Send(b []byte) error {
	c.calls++
	if c.failEvery > 0 && c.calls%c.failEvery == 0 {
		return errors.New("buffer full")
	}
	c.pkts = append(c.pkts, bytes.Clone(b))
	return nil
}

func newTestLeg(t *testing.T, out Sender, key []byte) *Leg {
	t.Helper()
	l, err := NewLeg(LegConfig{Out: out, PT: 8, SSRC: 0xdecafbad, Seq: 65534, TS: 4294967000,
		Cycle: [][]byte{{1, 1}, {2, 2}, {3, 3}}, SRTPKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLegSendsItsScheduleWithGapsForSkippedPackets(t *testing.T) {
	c := &capture{}
	l := newTestLeg(t, c, nil)
	l.step(0, Period, 10)
	l.step(45*time.Millisecond, Period, 10)       // packets 1, 2
	l.step(45*time.Millisecond, Period, 10)       // nothing new
	l.step(20*Period+time.Millisecond, Period, 4) // due 21, done 3: 14 skipped, 17-20 sent
	want := []int64{0, 1, 2, 17, 18, 19, 20}
	if len(c.pkts) != len(want) {
		t.Fatalf("%d packets sent, want %d", len(c.pkts), len(want))
	}
	for i, k := range want {
		var p rtp.Packet
		if err := p.Unmarshal(c.pkts[i]); err != nil {
			t.Fatal(err)
		}
		if p.SequenceNumber != uint16(65534+k) || p.Timestamp != uint32(4294967000+160*k) || p.SSRC != 0xdecafbad || p.PayloadType != 8 {
			t.Errorf("packet %d: seq %d ts %d ssrc %x pt %d", k, p.SequenceNumber, p.Timestamp, p.SSRC, p.PayloadType)
		}
		if p.Marker != (k == 0) {
			t.Errorf("packet %d: marker %v", k, p.Marker)
		}
		if !bytes.Equal(p.Payload, []byte{byte(k%3 + 1), byte(k%3 + 1)}) {
			t.Errorf("packet %d: payload %v, want cycle entry %d", k, p.Payload, k%3)
		}
	}
	// Packets 17-20 went out at 401 ms, due at 340-400 ms: 17 and 18 more
	// than 40 ms late.
	if s := l.stats; s.Intended != 21 || s.Sent != 7 || s.Skipped != 14 || s.Failed != 0 || s.Late != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestLegCountsFailedSends(t *testing.T) {
	c := &capture{failEvery: 2}
	l := newTestLeg(t, c, nil)
	l.step(99*time.Millisecond, Period, 10) // 5 due
	if s := l.stats; s.Intended != 5 || s.Sent != 3 || s.Failed != 2 || s.SentShare() != 0.6 {
		t.Errorf("stats %+v, share %v", s, s.SentShare())
	}
}

func TestSRTPLegDecryptsWithItsKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 30)
	c := &capture{}
	l := newTestLeg(t, c, key)
	l.step(3*Period, Period, 10)
	dec, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	for k, pkt := range c.pkts {
		if len(pkt) != 12+2+10 {
			t.Fatalf("SRTP packet of %d bytes, want 24 (header, payload, 80-bit tag)", len(pkt))
		}
		plain, err := dec.DecryptRTP(nil, pkt, nil)
		if err != nil {
			t.Fatalf("packet %d: %v", k, err)
		}
		if !bytes.Equal(plain[12:], []byte{byte(k%3 + 1), byte(k%3 + 1)}) {
			t.Errorf("packet %d: decrypted payload %v", k, plain[12:])
		}
	}
}

func TestPacerAddRemoveAndTotals(t *testing.T) {
	p := New(2, 0)
	var legs []*Leg
	for range 5 {
		l := newTestLeg(t, &capture{}, nil)
		p.Add(l)
		legs = append(legs, l)
	}
	// Drive the shards by hand, with the legs' clocks at 0.
	for _, l := range legs {
		l.start = 0
	}
	for _, s := range p.shards {
		s.pass(2*Period, 10) // 3 packets each
	}
	if st := p.Remove(legs[1]); st.Sent != 3 {
		t.Errorf("removed leg: %+v", st)
	}
	if st := p.Remove(legs[1]); st != (Stats{}) {
		t.Errorf("removed twice: %+v", st)
	}
	for _, s := range p.shards {
		s.pass(3*Period, 10) // one more for the 4 left
	}
	if tot := p.Totals(); tot.Sent != 5*3+4 || tot.Intended != tot.Sent {
		t.Errorf("totals %+v", tot)
	}
	n := 0
	for _, s := range p.shards {
		for i, l := range s.legs {
			if l.idx != i || l.shard != s {
				t.Errorf("leg at %d thinks it is at %d", i, l.idx)
			}
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d legs left, want 4", n)
	}
}
