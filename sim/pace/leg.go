package pace

import (
	"fmt"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Sender takes one packet at a time; the bytes are not kept after it
// returns. A UDP socket (Socket) is one.
type Sender interface {
	Send(b []byte) error
}

// LegConfig describes one leg's stream.
type LegConfig struct {
	Out  Sender
	PT   uint8
	SSRC uint32
	// Seq and TS are the first packet's sequence number and timestamp.
	Seq uint16
	TS  uint32
	// Cycle is the payloads, 20 ms each, sent in a loop.
	Cycle [][]byte
	// SRTPKey, when set, protects the stream with SRTP
	// AES_CM_128_HMAC_SHA1_80: the master key then the master salt.
	SRTPKey []byte
}

// samplesPerPacket is the RTP timestamp step of a 20 ms packet at 8 kHz.
const samplesPerPacket = 160

// Leg is one RTP stream being paced. Its fields belong to the pacing
// goroutine of its shard while it is added.
type Leg struct {
	out   Sender
	hdr   rtp.Header
	seq0  uint16
	ts0   uint32
	cycle [][]byte
	ctx   *srtp.Context
	plain []byte // header and payload
	enc   []byte // the SRTP packet, when protected
	start time.Duration
	done  int64 // packets sent, skipped or failed
	stats Stats
	// where the leg sits in its shard, -1 when not added
	shard *shard
	idx   int
}

// NewLeg prepares a leg's buffers (and SRTP context): nothing is
// allocated once it runs.
func NewLeg(c LegConfig) (*Leg, error) {
	if len(c.Cycle) == 0 {
		return nil, fmt.Errorf("pace: leg without payloads")
	}
	size := 0
	for _, p := range c.Cycle {
		size = max(size, len(p))
	}
	l := &Leg{
		out:   c.Out,
		hdr:   rtp.Header{Version: 2, PayloadType: c.PT, SSRC: c.SSRC},
		seq0:  c.Seq,
		ts0:   c.TS,
		cycle: c.Cycle,
		plain: make([]byte, 12+size),
		idx:   -1,
	}
	if c.SRTPKey != nil {
		p := srtp.ProtectionProfileAes128CmHmacSha1_80
		if len(c.SRTPKey) != 30 {
			return nil, fmt.Errorf("pace: SRTP key of %d bytes, want 30", len(c.SRTPKey))
		}
		ctx, err := srtp.CreateContext(c.SRTPKey[:16], c.SRTPKey[16:], p)
		if err != nil {
			return nil, fmt.Errorf("pace: srtp: %w", err)
		}
		l.ctx = ctx
		l.enc = make([]byte, 12+size+10+16) // room for the auth tag, and spare
	}
	return l, nil
}

// step sends what the leg owes at now.
func (l *Leg) step(now, period time.Duration, maxBurst int64) {
	send, skip := Plan(Due(l.start, now, period), l.done, maxBurst)
	if send+skip == 0 {
		return
	}
	l.stats.Intended += uint64(send + skip)
	l.stats.Skipped += uint64(skip)
	l.done += skip
	for range send {
		if l.sendPacket(l.done) == nil {
			l.stats.Sent++
			if now-l.start-time.Duration(l.done)*period > LateAfter {
				l.stats.Late++
			}
		} else {
			l.stats.Failed++
		}
		l.done++
	}
}

// sendPacket builds and sends packet k of the stream (from 0): its
// sequence number, timestamp and payload follow from k alone, so skipped
// packets leave the gaps a real loss would.
func (l *Leg) sendPacket(k int64) error {
	l.hdr.SequenceNumber = l.seq0 + uint16(k)
	l.hdr.Timestamp = l.ts0 + uint32(k)*samplesPerPacket
	l.hdr.Marker = k == 0
	n, err := l.hdr.MarshalTo(l.plain)
	if err != nil {
		return err
	}
	p := l.cycle[k%int64(len(l.cycle))]
	n += copy(l.plain[n:], p)
	pkt := l.plain[:n]
	if l.ctx != nil {
		if pkt, err = l.ctx.EncryptRTP(l.enc[:0], pkt, &l.hdr); err != nil {
			return err
		}
	}
	return l.out.Send(pkt)
}
