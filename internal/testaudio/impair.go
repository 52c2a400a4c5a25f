package testaudio

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/pion/rtp"
)

// PacketTime is the audio one RTP packet carries in a schedule: 20 ms, 160
// timestamp units at 8 kHz.
const PacketTime = 20 * time.Millisecond

// The numbering of the first packet of a schedule, as SendPaced numbers its
// streams.
const (
	firstSeq = 1000
	firstTS  = 50000
)

// Scheduled is one RTP packet of a send schedule: when it leaves, counted
// from the start of the stream, its sequence number and timestamp, and its
// payload.
type Scheduled struct {
	At      time.Duration
	Seq     uint16
	TS      uint32
	Payload []byte
}

// Packets cuts payload into the packets of a clean stream: packetBytes
// each (160 for G.711, 20 for two G.729 frames; 0 means 160), one every
// PacketTime, sequence numbers from 1000 and timestamps from 50000 in steps
// of 160. The last packet may be short. Payloads share payload's memory.
func Packets(payload []byte, packetBytes int) []Scheduled {
	if packetBytes <= 0 {
		packetBytes = 160
	}
	out := make([]Scheduled, 0, (len(payload)+packetBytes-1)/packetBytes)
	for n, off := 0, 0; off < len(payload); n, off = n+1, off+packetBytes {
		out = append(out, Scheduled{
			At:      time.Duration(n) * PacketTime,
			Seq:     uint16(firstSeq + n),
			TS:      uint32(firstTS + n*160),
			Payload: payload[off:min(off+packetBytes, len(payload))],
		})
	}
	return out
}

// Impairment is what a network does to a stream of packets. Randomness
// comes from Seed alone: the same settings and seed give the same schedule.
type Impairment struct {
	// Seed seeds every random choice.
	Seed uint64
	// Loss is the share of packets (0-1) that never arrive.
	Loss float64
	// Jitter delays each packet by its own uniform random 0-Jitter, as
	// Linux netem's delay jitter does: packets whose delays differ by more
	// than PacketTime swap places (with 40 ms, about one in eight).
	Jitter time.Duration
	// Reorder is the share of packets (0-1) held back, on top of their
	// jitter, by a further uniform PacketTime to ReorderMax, so that they
	// mostly arrive after one or more of their successors.
	Reorder float64
	// ReorderMax is the longest a held packet waits beyond its jitter; at
	// least PacketTime when Reorder is set.
	ReorderMax time.Duration
	// Duplicate is the share of packets (0-1) that arrive twice, the copy
	// up to PacketTime after the original.
	Duplicate float64
}

// NetworkTrouble is ordinary network trouble, the impairment issue 6
// measures recordings under: 1 % loss, 40 ms jitter, 5 % of packets held
// back within 60 ms, 1 % duplicated. With the jitter, about 15 % of the
// packets arrive after a successor.
func NetworkTrouble(seed uint64) Impairment {
	return Impairment{Seed: seed, Loss: 0.01, Jitter: 40 * time.Millisecond,
		Reorder: 0.05, ReorderMax: 60 * time.Millisecond, Duplicate: 0.01}
}

func (im Impairment) check() error {
	for _, s := range []struct {
		name  string
		share float64
	}{{"loss", im.Loss}, {"reorder", im.Reorder}, {"duplicate", im.Duplicate}} {
		if !(s.share >= 0 && s.share <= 1) {
			return fmt.Errorf("impairment: %s share %v out of 0-1", s.name, s.share)
		}
	}
	if im.Jitter < 0 {
		return fmt.Errorf("impairment: negative jitter %v", im.Jitter)
	}
	if im.Reorder > 0 && im.ReorderMax < PacketTime {
		return fmt.Errorf("impairment: reorder delay up to %v, want at least one packet (%v)", im.ReorderMax, PacketTime)
	}
	return nil
}

// Apply returns the schedule the network makes of clean (a schedule such
// as Packets returns, in sending order), sorted by arrival; packets that
// arrive at the same time keep their order. Every packet draws the same
// random numbers whatever the settings, so changing one share leaves the
// choices of the others as they were. Payloads are shared with clean. It
// fails on a share outside 0-1, a negative jitter, or a reorder delay
// shorter than one packet.
func (im Impairment) Apply(clean []Scheduled) ([]Scheduled, error) {
	if err := im.check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(im.Seed, 0x1a9a1))
	uniform := func(d time.Duration) time.Duration { return time.Duration(rng.Float64() * float64(d)) }
	out := make([]Scheduled, 0, len(clean)+len(clean)/10)
	for _, p := range clean {
		lost, held, dup := rng.Float64() < im.Loss, rng.Float64() < im.Reorder, rng.Float64() < im.Duplicate
		jitter, hold, copyDelay := uniform(im.Jitter), PacketTime+uniform(im.ReorderMax-PacketTime), uniform(PacketTime)
		if lost {
			continue
		}
		p.At += jitter
		if held {
			p.At += hold
		}
		out = append(out, p)
		if dup {
			p.At += copyDelay
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b Scheduled) int { return cmp.Compare(a.At, b.At) })
	return out, nil
}

// Play sends sched to `to` from one UDP socket, as RTP packets with
// payload type pt and the SSRC, each when its At has passed since the
// start, in real time. It returns after the last packet.
func Play(to *net.UDPAddr, pt uint8, ssrc uint32, sched []Scheduled) error {
	conn, err := net.DialUDP("udp", nil, to)
	if err != nil {
		return fmt.Errorf("play: dial rtp %s: %w", to, err)
	}
	defer conn.Close()
	start := time.Now()
	return play(conn, pt, ssrc, sched, func(at time.Duration) { time.Sleep(time.Until(start.Add(at))) })
}

// play writes each packet of sched to conn after wait(its At) returns.
// One buffer serves every packet.
func play(conn net.Conn, pt uint8, ssrc uint32, sched []Scheduled, wait func(time.Duration)) error {
	h := rtp.Header{Version: 2, PayloadType: pt, SSRC: ssrc}
	buf := make([]byte, 1500)
	for _, p := range sched {
		h.SequenceNumber, h.Timestamp = p.Seq, p.TS
		n, err := h.MarshalTo(buf)
		if err != nil {
			return fmt.Errorf("play: marshal rtp: %w", err)
		}
		if n+len(p.Payload) > len(buf) {
			return fmt.Errorf("play: packet %d: a %d-byte payload does not fit one %d-byte datagram", p.Seq, len(p.Payload), len(buf))
		}
		n += copy(buf[n:], p.Payload)
		wait(p.At)
		if _, err := conn.Write(buf[:n]); err != nil {
			return fmt.Errorf("play: send rtp to %s: %w", conn.RemoteAddr(), err)
		}
	}
	return nil
}
