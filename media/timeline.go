package media

import "time"

const (
	// sampleRate is the clock rate of every supported codec and of the output.
	sampleRate = 8000
	// maxJump is the largest timestamp step (in samples, either direction)
	// between packets of a stream taken at face value. A larger step (a
	// bogus timestamp, a restarted sender) starts the stream again at the
	// packet's arrival, so a timestamp cannot make the recording jump hours
	// ahead.
	maxJump = 10 * sampleRate
	// maxDrift is how far (in samples) a packet may be placed from its
	// arrival, either way, before the stream is placed again by arrival:
	// further behind, the sender's timestamps no longer match the time
	// (frozen across a hold, restarted); further ahead, they run faster than
	// real time. It is also the most a stream's first packets may be
	// corrected by the ones that follow.
	maxDrift = 2 * sampleRate
	// lateRun is how long (in samples of arrival time) a stream may send
	// only packets behind the emitted audio before it is placed again by
	// arrival: a lasting shift, not a burst of delayed packets (packets that
	// a stalled reader takes in at once span no arrival time at all).
	lateRun = sampleRate / 2
	// settle is how much of a new stream (in samples of its RTP time) the
	// mixer waits for before it emits any of it, so that the stream is
	// placed by the least delayed of its first packets, not by the first.
	settle = sampleRate
)

// samplesSince converts the time from origin to at into a sample count,
// negative when at is before origin.
func samplesSince(origin, at time.Time) int64 {
	return int64(at.Sub(origin)/time.Microsecond) * sampleRate / 1_000_000
}

// stream places the packets of one RTP stream (one SSRC, from one start to
// the next discontinuity) on the recording's sample axis.
//
// Positions are sample indexes from the recording's origin. Within a
// stream, RTP time is the truth: a packet's position is base plus the
// wrap-aware distance of its timestamp from baseTS. Only base is estimated,
// from arrival times: it is the minimum transit, the least any packet took
// from its RTP time to its arrival, so that the least delayed packets sit
// where they arrived and a late first packet, a jittery path or a stalled
// reader moves nothing. Until the stream's audio is first released
// (committed) base follows every new minimum; after that a new minimum is
// applied at the next pause of the sender (a gap in the timestamps with no
// packet lost), so that no audio is cut and no loss is shortened, unless
// the stream has run more than the reorder window ahead of real time.
type stream struct {
	anchored  bool
	ssrc      uint32
	baseTS    uint32
	top       int64 // newest timestamp relative to baseTS (extended)
	first     int64 // lowest timestamp relative to baseTS
	end       int64 // end of the newest packet relative to baseTS
	base      int64 // position of baseTS
	transit   int64 // minimum of arrival - relative timestamp
	committed bool  // some of its audio has been released

	lateFrom int64 // arrival of the first of a run of late packets, -1 for none
}

// verdict is what stream.place decided about a packet.
type verdict uint8

const (
	placed  verdict = iota // rel is its timestamp relative to baseTS
	late                   // wholly behind the emitted audio: drop
	restart                // a discontinuity: start the stream again with this packet
	realign                // ahead of real time: release what is held, then align and place again
)

// begin starts the stream at a packet with timestamp ts, arrived at
// arrival, lasting n samples. floor is the end of the leg's audio so far:
// the stream starts there at the earliest.
func (s *stream) begin(ssrc, ts uint32, arrival int64, n int, floor int64) {
	*s = stream{anchored: true, ssrc: ssrc, baseTS: ts, end: int64(n),
		base: max(arrival, floor), transit: arrival, lateFrom: -1}
}

// place judges a packet of the stream with timestamp ts and n samples
// that arrived at arrival, when the mixer has emitted everything before
// emitted, and returns its timestamp relative to baseTS. ahead is how far
// the stream may run ahead of real time before it is realigned at once.
// floor is as for begin. resumes reports that the packet is the newest of
// the stream in sequence and that the sender had paused before it (for
// ssrcQuiet): if its timestamp is then before the newest one's, the
// sender's timestamps stepped back across the pause (it resumed with its
// SSRC and a new timestamp base), and placed by them its audio would land
// on the stream's own, or behind it; the stream starts again with it.
func (s *stream) place(ts uint32, n int, arrival, emitted, ahead, floor int64, resumes bool) (int64, verdict) {
	rel := s.rel(ts)
	if d := rel - s.top; d > maxJump || d < -maxJump {
		return rel, restart
	}
	excess := arrival - (s.base + rel) // how late the packet came for its place
	if excess > maxDrift || excess < -maxDrift || resumes && rel < s.top {
		return rel, restart
	}
	if t := arrival - rel; t < s.transit {
		s.transit = t
		if !s.committed {
			s.base = max(t, floor-min(s.first, rel))
		} else if s.base-s.transit > ahead {
			return rel, realign
		}
	}
	if s.base+rel+int64(n) <= emitted {
		if s.lateFrom < 0 {
			s.lateFrom = arrival
		}
		if arrival-s.lateFrom >= lateRun {
			return rel, restart
		}
		return rel, late
	}
	s.lateFrom = -1
	s.top, s.first, s.end = max(s.top, rel), min(s.first, rel), max(s.end, rel+int64(n))
	return rel, placed
}

// rel returns timestamp ts relative to baseTS, extended around the newest
// timestamp seen: the uint32 difference, read as int32, is the signed
// distance across a wrap.
func (s *stream) rel(ts uint32) int64 {
	return s.top + int64(int32(ts-(s.baseTS+uint32(s.top))))
}

// after reports whether timestamp ts is after the newest one of the stream.
func (s *stream) after(ts uint32) bool { return s.rel(ts) > s.top }

// align moves a committed stream to its minimum transit, after its held
// packets have been released.
func (s *stream) align() { s.base = s.transit }

// shiftAt returns how far to move the stream earlier before it places
// audio at pos after a pause, when the leg's audio so far ends at end: by
// as much of the pending correction (base above the minimum transit) as the
// pause absorbs.
func (s *stream) shiftAt(pos, end int64) int64 {
	if !s.committed || s.base <= s.transit || pos <= end {
		return 0
	}
	return min(s.base-s.transit, pos-end)
}

// horizon returns the position just past the stream's newest audio.
func (s *stream) horizon() int64 { return s.base + s.end }

// start returns the position of the stream's earliest audio.
func (s *stream) start() int64 { return s.base + s.first }

// timeline buffers the decoded audio of one leg until the mixer emits it.
// buf holds the samples at positions [emitted, emitted+len(buf)), where
// emitted is the mixer's output position; positions never written are
// silence (zero). end is the position just past the leg's newest audio,
// written or silent (comfort noise advances it without writing).
type timeline struct {
	buf     []int16
	end     int64
	written bool // end is set
}

// write stores samples starting at position pos. Samples before emitted are
// dropped (they are late); it returns how many were dropped.
func (t *timeline) write(pos int64, samples []int16, emitted int64) (dropped int) {
	t.advance(pos + int64(len(samples)))
	off := pos - emitted
	if off < 0 {
		dropped = int(min(-off, int64(len(samples))))
		samples = samples[dropped:]
		off = 0
	}
	if len(samples) == 0 {
		return dropped
	}
	need := int(off) + len(samples)
	if old := len(t.buf); need > old {
		t.buf = growLen(t.buf, need)
		if int(off) > old {
			clear(t.buf[old:off])
		}
	}
	copy(t.buf[off:], samples)
	return dropped
}

// advance moves the end of the leg's audio to at least end.
func (t *timeline) advance(end int64) {
	if !t.written || end > t.end {
		t.end, t.written = end, true
	}
}

// pending returns up to n buffered samples from the emission position; a
// shorter result means silence for the rest.
func (t *timeline) pending(n int) []int16 {
	return t.buf[:min(n, len(t.buf))]
}

// consume drops the first n samples (they have been emitted).
func (t *timeline) consume(n int) {
	if n >= len(t.buf) {
		t.buf = t.buf[:0]
		return
	}
	k := copy(t.buf, t.buf[n:])
	t.buf = t.buf[:k]
}
