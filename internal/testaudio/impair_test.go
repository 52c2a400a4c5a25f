package testaudio

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestPackets(t *testing.T) {
	payload := make([]byte, 20*3+7)
	for i := range payload {
		payload[i] = byte(i)
	}
	p := Packets(payload, 20)
	if len(p) != 4 {
		t.Fatalf("%d packets for 67 bytes in 20, want 4", len(p))
	}
	for n, s := range p {
		if s.At != time.Duration(n)*PacketTime || s.Seq != uint16(1000+n) || s.TS != uint32(50000+160*n) || s.Payload[0] != byte(20*n) {
			t.Errorf("packet %d = {%v %d %d first byte %d}", n, s.At, s.Seq, s.TS, s.Payload[0])
		}
	}
	if len(p[3].Payload) != 7 {
		t.Errorf("last packet carries %d bytes, want the 7 left", len(p[3].Payload))
	}
	if n := len(Packets(make([]byte, 1600), 0)); n != 10 {
		t.Errorf("1600 bytes of G.711 in the default 160: %d packets, want 10", n)
	}
	if Packets(nil, 160) == nil || len(Packets(nil, 160)) != 0 {
		t.Errorf("no payload: want an empty schedule")
	}
}

// cleanStream is a long clean schedule with distinct payloads.
func cleanStream(n int) []Scheduled {
	payload := make([]byte, 2*n)
	for i := range n {
		payload[2*i], payload[2*i+1] = byte(i>>8), byte(i)
	}
	return Packets(payload, 2)
}

func mustApply(t *testing.T, im Impairment, clean []Scheduled) []Scheduled {
	t.Helper()
	s, err := im.Apply(clean)
	if err != nil {
		t.Fatalf("Apply(%+v): %v", im, err)
	}
	return s
}

func TestApplyNothingKeepsTheStream(t *testing.T) {
	clean := cleanStream(500)
	if got := mustApply(t, Impairment{Seed: 1}, clean); !slices.EqualFunc(got, clean, sameArrival) {
		t.Errorf("no impairment changed the schedule")
	}
}

func TestApplyDeterministic(t *testing.T) {
	clean := cleanStream(2000)
	a, b := mustApply(t, NetworkTrouble(1), clean), mustApply(t, NetworkTrouble(1), clean)
	c := mustApply(t, NetworkTrouble(2), clean)
	if !slices.EqualFunc(a, b, sameArrival) {
		t.Errorf("seed 1 twice: two schedules")
	}
	if slices.EqualFunc(a, c, sameArrival) {
		t.Errorf("seeds 1 and 2: the same schedule")
	}
}

// TestNetworkTroubleShares: over 20,000 packets the schedule loses,
// duplicates and reorders what the settings say, sorted by arrival, and
// no packet is delayed beyond jitter + reorder + duplicate delay.
func TestNetworkTroubleShares(t *testing.T) {
	const n = 20000
	clean := cleanStream(n)
	im := NetworkTrouble(42)
	got := mustApply(t, im, clean)
	count := map[uint16]int{}
	maxSeq := -1 // highest sequence number arrived so far, unwrapped
	reordered := 0
	for i, p := range got {
		k := int(p.Seq) - firstSeq
		if k < 0 {
			k += 1 << 16
		}
		if i > 0 && p.At < got[i-1].At {
			t.Fatalf("packet %d (seq %d) at %v, before the previous one at %v", i, p.Seq, p.At, got[i-1].At)
		}
		delay := p.At - clean[k].At
		if delay < 0 || delay > im.Jitter+im.ReorderMax+PacketTime {
			t.Errorf("seq %d delayed by %v", p.Seq, delay)
		}
		if !slices.Equal(p.Payload, clean[k].Payload) || p.TS != clean[k].TS {
			t.Errorf("seq %d carries another packet's payload or timestamp", p.Seq)
		}
		if count[p.Seq]++; count[p.Seq] == 1 && k < maxSeq {
			reordered++
		}
		maxSeq = max(maxSeq, k)
	}
	lost, dups := 0, 0
	for _, p := range clean {
		switch count[p.Seq] {
		case 0:
			lost++
		case 2:
			dups++
		case 1:
		default:
			t.Errorf("seq %d arrived %d times", p.Seq, count[p.Seq])
		}
	}
	for _, c := range []struct {
		name   string
		got    int
		lo, hi float64
	}{{"lost", lost, 0.007, 0.013}, {"duplicated", dups, 0.007, 0.013}, {"reordered", reordered, 0.14, 0.19}} {
		if share := float64(c.got) / n; share < c.lo || share > c.hi {
			t.Errorf("%s: %d of %d packets (%.2f %%), want %.1f-%.1f %%", c.name, c.got, n, 100*share, 100*c.lo, 100*c.hi)
		}
	}
	t.Logf("of %d packets: %d lost, %d duplicated, %d arrive after a successor", n, lost, dups, reordered)
}

// TestJitter: jitter alone delays every packet by 0-Jitter, spread over
// the range, and swaps neighbours whose delays differ by more than a
// packet: one in eight for 40 ms.
func TestJitter(t *testing.T) {
	const n = 20000
	clean := cleanStream(n)
	got := mustApply(t, Impairment{Seed: 3, Jitter: 40 * time.Millisecond}, clean)
	if len(got) != n {
		t.Fatalf("%d packets out of %d", len(got), n)
	}
	var sum time.Duration
	swapped := 0
	for i, p := range got {
		d := p.At - clean[int(p.Seq)-firstSeq].At
		if d < 0 || d > 40*time.Millisecond {
			t.Fatalf("seq %d delayed %v, want 0-40 ms", p.Seq, d)
		}
		sum += d
		if i > 0 && p.Seq < got[i-1].Seq {
			swapped++
		}
	}
	if mean := sum / n; mean < 19*time.Millisecond || mean > 21*time.Millisecond {
		t.Errorf("mean jitter delay %v, want 20 ms", mean)
	}
	if share := float64(swapped) / n; share < 0.11 || share > 0.14 {
		t.Errorf("%.1f %% of the packets arrive before a predecessor, want 12.5 %%", 100*share)
	}
}

// TestSettingsAreIndependent: the packets lost with loss on are those the
// same seed loses; the others keep their arrival times exactly.
func TestSettingsAreIndependent(t *testing.T) {
	clean := cleanStream(5000)
	with := NetworkTrouble(5)
	without := with
	without.Loss = 0
	a, b := mustApply(t, with, clean), mustApply(t, without, clean)
	if len(a) >= len(b) {
		t.Fatalf("%d packets with loss, %d without", len(a), len(b))
	}
	// Every arrival with loss is an arrival without it, in the same order.
	j := 0
	for _, p := range a {
		for j < len(b) && !sameArrival(p, b[j]) {
			j++
		}
		if j == len(b) {
			t.Fatalf("seq %d at %v with loss does not arrive so without it", p.Seq, p.At)
		}
		j++
	}
}

func TestApplyRefusesBadSettings(t *testing.T) {
	for _, im := range []Impairment{
		{Loss: -0.1}, {Loss: 1.5}, {Duplicate: 2}, {Reorder: -1},
		{Jitter: -time.Millisecond}, {Reorder: 0.05, ReorderMax: 10 * time.Millisecond},
	} {
		if _, err := im.Apply(cleanStream(10)); err == nil {
			t.Errorf("Apply(%+v): no error", im)
		}
	}
}

// TestPlaySendsTheSchedule: play waits for each packet's time, in order,
// and sends it as RTP with the schedule's numbers and payload.
func TestPlaySendsTheSchedule(t *testing.T) {
	recv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	conn, err := net.DialUDP("udp", nil, recv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sched := mustApply(t, NetworkTrouble(7), cleanStream(200))
	var waited []time.Duration
	if err := play(conn, 18, 0xfeed, sched, func(at time.Duration) { waited = append(waited, at) }); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	for i, want := range sched {
		if waited[i] != want.At {
			t.Fatalf("wait %d for %v, want %v", i, waited[i], want.At)
		}
		recv.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := recv.Read(buf)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if p.Version != 2 || p.PayloadType != 18 || p.SSRC != 0xfeed || p.SequenceNumber != want.Seq || p.Timestamp != want.TS || !slices.Equal(p.Payload, want.Payload) {
			t.Fatalf("packet %d = %+v %x, want seq %d ts %d payload %x", i, p.Header, p.Payload, want.Seq, want.TS, want.Payload)
		}
	}
	if err := play(conn, 0, 1, []Scheduled{{Payload: make([]byte, 1500)}}, func(time.Duration) {}); err == nil {
		t.Errorf("a 1500-byte payload: no error")
	}
}

func sameArrival(a, b Scheduled) bool {
	return a.At == b.At && a.Seq == b.Seq && a.TS == b.TS && slices.Equal(a.Payload, b.Payload)
}
