package media

import "time"

const (
	// sampleRate is the clock rate of every supported codec and of the output.
	sampleRate = 8000
	// maxJump is the largest timestamp step (in samples, either direction)
	// taken at face value. A larger step (a bogus timestamp, a restarted
	// sender) re-anchors the leg at the packet's arrival time, so a
	// timestamp cannot make the recording jump hours ahead.
	maxJump = 10 * sampleRate
	// maxBehind is how far (in samples) a packet may be placed behind its
	// arrival position. Further behind, the sender's timestamps no longer
	// match the time (frozen across a hold, restarted): the leg is
	// re-anchored at the arrival.
	maxBehind = 2 * sampleRate
	// lateRun is how long (in samples of arrival time) a leg may send only
	// late packets before it is re-anchored: a lasting shift, not a burst of
	// delayed packets.
	lateRun = sampleRate / 2
	// seqWindow is how many sequence numbers behind the newest one are
	// remembered for duplicate detection (a multiple of 64).
	seqWindow = 1024
)

// samplesSince converts the time from origin to at into a sample count
// (never negative).
func samplesSince(origin, at time.Time) int64 {
	d := at.Sub(origin)
	if d <= 0 {
		return 0
	}
	return int64(d/time.Microsecond) * sampleRate / 1_000_000
}

// timeline places the audio of one leg on the recording's sample axis and
// buffers it until the mixer emits it.
//
// Positions are absolute sample indexes from the recording's origin. A leg
// is anchored at its first packet: anchorPos is where that packet starts,
// anchorTS its RTP timestamp. Every later packet of the same SSRC starts at
// anchorPos plus the wrap-aware distance of its timestamp from anchorTS. A
// new SSRC, a timestamp step larger than maxJump, a position more than
// maxJump ahead of or maxBehind behind the arrival, or late packets only for
// lateRun, anchor the leg again at the packet's arrival position (never
// before audio the leg already has, never before audio already emitted).
//
// buf holds the samples at positions [emitted, emitted+len(buf)), where
// emitted is the mixer's output position; positions never written are
// silence (zero).
type timeline struct {
	anchored bool
	ssrc     uint32
	anchorTS uint32
	anchor   int64 // position of anchorTS
	rel      int64 // newest timestamp seen, relative to anchorTS (extended)
	end      int64 // position just past the newest sample written

	lateFrom int64 // arrival position of the first of a run of late packets, -1 for none

	seqTop  int64 // newest extended sequence number
	seqSeen [seqWindow / 64]uint64

	buf []int16
}

// verdict is what place decided about a packet.
type verdict uint8

const (
	placed    verdict = iota // write it at pos (its head may still be late)
	duplicate                // sequence number already seen: drop
	late                     // wholly behind the emitted audio: drop
)

// place returns the position of the first of a packet's n samples and what
// to do with it. arrival is the packet's arrival position; emitted the
// mixer's output position.
func (t *timeline) place(ssrc uint32, seq uint16, ts uint32, n int, arrival, emitted int64) (int64, verdict) {
	if !t.anchored || ssrc != t.ssrc {
		t.ssrc = ssrc
		t.seqTop = int64(seq)
		t.seqSeen = [seqWindow / 64]uint64{}
		t.markSeq(int64(seq))
		return t.reanchor(ts, arrival, emitted), placed
	}
	if t.duplicate(seq) {
		return 0, duplicate
	}
	// Extend ts around the newest timestamp seen: the uint32 difference,
	// read as int32, is the signed distance across a wrap.
	rel := t.rel + int64(int32(ts-(t.anchorTS+uint32(t.rel))))
	pos := t.anchor + rel
	if d := rel - t.rel; d > maxJump || d < -maxJump || pos > arrival+maxJump || pos < arrival-maxBehind {
		return t.reanchor(ts, arrival, emitted), placed
	}
	if pos+int64(n) <= emitted {
		if t.lateFrom < 0 {
			t.lateFrom = arrival
		}
		if arrival-t.lateFrom < lateRun {
			return pos, late
		}
		return t.reanchor(ts, arrival, emitted), placed
	}
	t.lateFrom = -1
	t.rel = max(t.rel, rel)
	return pos, placed
}

func (t *timeline) reanchor(ts uint32, arrival, emitted int64) int64 {
	t.anchored = true
	t.anchorTS = ts
	t.rel = 0
	t.lateFrom = -1
	t.anchor = max(arrival, t.end, emitted)
	return t.anchor
}

// duplicate reports whether seq was seen recently and records it.
func (t *timeline) duplicate(seq uint16) bool {
	ext := t.seqTop + int64(int16(seq-uint16(t.seqTop)))
	switch {
	case ext > t.seqTop:
		if ext-t.seqTop >= seqWindow {
			t.seqSeen = [seqWindow / 64]uint64{}
		} else {
			for s := t.seqTop + 1; s < ext; s++ {
				t.clearSeq(s)
			}
		}
		t.seqTop = ext
	case t.seqTop-ext >= seqWindow:
		return false // too old to tell; the position check will judge it
	case t.seqSeen[(ext%seqWindow)/64]&(1<<(ext%64)) != 0:
		return true
	}
	t.markSeq(ext)
	return false
}

func (t *timeline) markSeq(ext int64) {
	i := uint64(ext) % seqWindow
	t.seqSeen[i/64] |= 1 << (i % 64)
}

func (t *timeline) clearSeq(ext int64) {
	i := uint64(ext) % seqWindow
	t.seqSeen[i/64] &^= 1 << (i % 64)
}

// write stores samples starting at position pos. Samples before emitted are
// dropped (they are late); it returns how many were dropped.
func (t *timeline) write(pos int64, samples []int16, emitted int64) (dropped int) {
	t.end = max(t.end, pos+int64(len(samples)))
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
