package media

import (
	"cmp"
	"errors"
	"math"
	"net/netip"
	"time"
)

const (
	// ssrcQuiet is how long (in samples of arrival time) a leg's stream
	// must have been silent before a packet of another SSRC may begin a new
	// stream (a gateway that changes codec with a re-INVITE pauses for the
	// signalling round trip; a stranger interleaving packets never does),
	// or before timestamps that step back, or sequence numbers from another
	// base, start the stream again (a replay without a pause, or a looped
	// stream, is dropped as late or duplicated).
	ssrcQuiet = sampleRate / 10
	// maxConceal is the longest loss (in samples) concealed by the codec;
	// the rest of a longer one is silence.
	maxConceal = sampleRate / 10
	// defaultFrame is the length given to a comfort-noise packet before the
	// leg's first audio packet: 20 ms.
	defaultFrame = sampleRate / 50
	// noPos is a position before any other.
	noPos int64 = math.MinInt64 / 4
)

// ingest is the per-packet step of a leg: check the source, decrypt,
// parse, keep to one stream, drop duplicates, and hold the packet in the
// leg's reorder buffer; then release, decode and emit what the mixer can
// take. from is the datagram's source, at its arrival time. It never
// blocks except on the writer.
func (r *Recording) ingest(l *leg, data []byte, from netip.AddrPort, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &l.stats
	st.Packets++
	st.Bytes += uint64(len(data))
	if r.done {
		st.Ignored++
		return
	}
	if !l.src.allows(from) {
		st.ForeignSource++
		return
	}
	if l.srtp != nil {
		var err error
		if data, err = l.srtp.decrypt(data); err != nil {
			l.countSRTPError(err)
			return
		}
	}
	if err := l.pkt.Unmarshal(data); err != nil || l.pkt.Version != 2 {
		st.Ignored++
		return
	}
	h := &l.pkt.Header
	pt := h.PayloadType & 0x7f
	kind, n := l.kinds[pt], 0
	switch kind {
	case kindNone:
		st.Ignored++
		return
	case kindAudio:
		if n = l.decoders[pt].Samples(l.pkt.Payload); n == 0 {
			st.Ignored++
			return
		}
	case kindCN:
		n = l.frame
	}
	if !r.started {
		r.origin, r.started = at, true
	}
	arrival := samplesSince(r.origin, at)
	if l.s.anchored && h.SSRC != l.s.ssrc {
		if !r.newStreamFits(l, arrival) {
			st.ForeignSSRC++
			return
		}
		r.endStream(l)
	}
	l.src.accept(from)
	gap := arrival - l.lastArr
	paused := gap >= ssrcQuiet // the sender paused before this packet
	if paused && l.renumbered(h.SequenceNumber, h.Timestamp, gap) {
		r.endStream(l) // the packet begins a stream of its own, as a new SSRC would
	}
	st.Source, st.SSRC, st.LastArrival, l.lastArr = l.src.current(), h.SSRC, at, arrival
	ext, dup := l.seq.observe(h.SequenceNumber)
	switch {
	case dup || l.jb.holds(ext):
		st.Duplicates++
		return
	case kind == kindEvent:
		st.Ignored++ // its sequence number is seen: not a loss; its digit is dropped here
		return
	case l.jb.late(ext):
		st.Late++
		return
	}
	rel, ok := r.place(l, h.SSRC, h.Timestamp, n, arrival, paused && ext == l.seq.top)
	if !ok || l.jb.late(ext) {
		st.Late++
		return
	}
	for !l.jb.fits(ext) {
		if ext < l.jb.low {
			st.Late++ // older than all it holds, and it cannot hold more
			return
		}
		r.releaseFirst(l)
	}
	l.jb.put(ext, kind, pt, rel, n, l.pkt.Payload)
	if kind == kindCN {
		st.CN++
	} else {
		st.Codec, l.frame = l.names[pt], n
	}
	r.advance()
}

// countSRTPError counts a packet that SRTP refused.
func (l *leg) countSRTPError(err error) {
	switch {
	case errors.Is(err, errSRTPAuth):
		l.stats.AuthFailed++
	case errors.Is(err, errSRTPReplay):
		l.stats.Duplicates++
	default:
		l.stats.Ignored++
	}
}

// endStream ends the leg's stream: it releases the packets held and
// forgets the stream's sequence numbers and placement, so that the next
// packet begins a new stream where it arrives.
func (r *Recording) endStream(l *leg) {
	r.flush(l)
	l.s.anchored, l.prevOK = false, false
	l.seqLostBefore += l.seq.lost()
	l.seq.reset()
	l.jb.restart()
}

// renumbered reports whether a packet of the leg's SSRC numbered seq, with
// timestamp ts, that came gap samples after the leg's last packet, after a
// pause of the sender, shows that the sender numbers its packets from
// another base (a gateway resuming a held call or re-anchoring its media
// with the SSRC kept): the numbers between it and the newest one cannot
// fit the time between them, or it is numbered before the newest while its
// timestamp is after the newest one's (one stream's numbers and timestamps
// go forward together). Taken by the numbers, such a packet would be late,
// or a duplicate, with every one after it until the numbers caught up with
// the old ones, or the numbers it skipped would be a loss that never was.
func (l *leg) renumbered(seq uint16, ts uint32, gap int64) bool {
	if l.seq.renumbered(seq, cmp.Or(l.frame, defaultFrame), gap) {
		return true
	}
	return l.s.anchored && l.seq.behind(seq) && l.s.after(ts)
}

// newStreamFits reports whether a packet of a new SSRC that arrived at
// arrival may begin a new stream on leg l: the current stream has been
// silent for ssrcQuiet, and its audio ends before the arrival, so that the
// new stream, placed where it arrives, neither overlaps it nor runs ahead
// of real time.
func (r *Recording) newStreamFits(l *leg, arrival int64) bool {
	return arrival-l.lastArr >= ssrcQuiet && l.horizon() <= arrival
}

// place places a packet of n samples with timestamp ts on the leg's
// stream and returns its timestamp relative to the stream's base, or
// false when it is wholly late. resumes reports that the packet is the
// newest of the stream in sequence, after a pause of the sender.
func (r *Recording) place(l *leg, ssrc, ts uint32, n int, arrival int64, resumes bool) (int64, bool) {
	if !l.s.anchored {
		l.s.begin(ssrc, ts, arrival, n, l.floor())
		return 0, true
	}
	rel, v := l.s.place(ts, n, arrival, r.m.emitted, r.m.reorder, l.floor(), resumes)
	switch v {
	case restart:
		r.flush(l)
		l.prevOK = false
		l.s.begin(ssrc, ts, arrival, n, l.floor())
		return 0, true
	case realign:
		r.flush(l)
		l.s.align()
		rel, v = l.s.place(ts, n, arrival, r.m.emitted, r.m.reorder, l.floor(), resumes)
	}
	return rel, v == placed
}

// floor returns the end of the leg's decoded audio, before which a new
// stream may not begin, or noPos before any.
func (l *leg) floor() int64 {
	if !l.tl.written {
		return noPos
	}
	return l.tl.end
}

// horizon returns the position just past the leg's newest audio, decoded
// or held, or noPos before any.
func (l *leg) horizon() int64 {
	h := l.floor()
	if l.s.anchored {
		h = max(h, l.s.horizon())
	}
	return h
}

// target returns the position before which the mixer may emit: the
// reorder window behind the newest audio of any leg, and behind the newest
// of each leg that lags by no more than that window again (its reader may
// be late; a leg further behind is silent, and left behind). A new stream
// that has not settled holds the mixer at its start. ok is false before
// any audio.
func (r *Recording) target() (t int64, ok bool) {
	h := r.newest()
	if h == noPos {
		return 0, false
	}
	w := r.m.reorder
	t = h - w
	for _, l := range r.legs {
		lh := l.horizon()
		if lh < h-w {
			continue
		}
		t = min(t, lh-w)
		if l.s.anchored && !l.s.committed && lh-l.s.start() < settle {
			t = min(t, l.s.start())
		}
	}
	return t, true
}

// advance releases and emits all audio the mixer may emit.
func (r *Recording) advance() {
	if t, ok := r.target(); ok {
		r.emitUntil(t)
	}
}

// newest returns the position just past the newest audio of any leg,
// decoded or held, or noPos before any.
func (r *Recording) newest() int64 {
	h := noPos
	for _, l := range r.legs {
		h = max(h, l.horizon())
	}
	return h
}

// drain releases and emits everything, a chunk at a time (the recording
// stops). A stream moved earlier as its last packets are released ends
// the recording where its audio ends.
func (r *Recording) drain() {
	for {
		h := r.newest()
		if h == noPos || !r.startMixer(h) || r.m.emitted >= h {
			return
		}
		step := min(h, r.m.emitted+mixChunk)
		for _, l := range r.legs {
			r.release(l, step)
		}
		r.m.emitTo(min(step, r.newest()))
	}
}

// emitUntil emits the audio before target in chunks, releasing each leg's
// packets before the chunk that holds their audio, so that no buffer holds
// much more than a chunk beyond the emitted audio.
func (r *Recording) emitUntil(target int64) {
	if !r.startMixer(target) {
		return
	}
	for r.m.emitted < target {
		step := min(target, r.m.emitted+mixChunk)
		for _, l := range r.legs {
			r.release(l, step)
		}
		r.m.emitTo(step)
	}
}

// startMixer starts the mixer, if it has not started, at the earliest
// packet held by any leg, when that is before limit. It reports whether
// the mixer has started.
func (r *Recording) startMixer(limit int64) bool {
	if r.m.started {
		return true
	}
	first := int64(math.MaxInt64)
	for _, l := range r.legs {
		if s, _ := l.jb.first(); s != nil {
			first = min(first, l.s.base+s.rel)
		}
	}
	if first >= limit {
		return false
	}
	r.m.begin(first)
	return true
}

// flush releases every packet the leg holds.
func (r *Recording) flush(l *leg) {
	r.release(l, math.MaxInt64)
}

// release decodes, in sequence order, the leg's held packets whose audio
// starts before limit.
func (r *Recording) release(l *leg, limit int64) {
	for {
		s, _ := l.jb.first()
		if s == nil {
			return
		}
		if pos := l.releasePos(s); pos >= limit {
			// The mixer is about to pass the end of the leg's audio: if
			// packets before s are missing, they are lost now.
			if l.tl.written && l.tl.end < limit {
				r.concealBefore(l, s, pos, limit)
			}
			return
		}
		r.releaseFirst(l)
	}
}

// releaseFirst decodes the leg's first held packet onto its timeline:
// after concealing the packets lost before it, and moving the stream to
// its minimum transit as far as the gap before it allows.
func (r *Recording) releaseFirst(l *leg) {
	s, payload := l.jb.first()
	if s == nil {
		return
	}
	pos := l.releasePos(s)
	r.startMixer(pos + 1)
	r.concealBefore(l, s, pos, pos)
	l.s.base = pos - s.rel // the correction applied, if any
	l.s.committed = true
	l.prevExt, l.prevOK = s.ext, true
	switch s.kind {
	case kindAudio:
		if dec := l.decoders[s.pt]; dec != nil {
			l.pcm = dec.Decode(l.pcm[:0], payload)
			l.lastDec, l.lossRun = dec, 0
			if l.tl.write(pos, l.pcm, r.m.emitted) > 0 {
				l.stats.Late++
			}
		}
	case kindCN:
		l.tl.advance(pos + int64(s.samples))
	}
	l.jb.pop()
}

// releasePos returns where a held packet's audio goes when it is released:
// its place in the stream, moved earlier by as much of the stream's pending
// correction as a pause before it absorbs (a pause of the sender, not a
// loss, whose place belongs to the lost audio).
func (l *leg) releasePos(s *jslot) int64 {
	pos := l.s.base + s.rel
	if l.tl.written && !l.lostBefore(s) {
		pos -= l.s.shiftAt(pos, l.tl.end)
	}
	return pos
}

// lostBefore reports whether packets of the stream between the last one
// released and s never came.
func (l *leg) lostBefore(s *jslot) bool {
	return l.prevOK && !l.seq.seenAll(l.prevExt+1, s.ext)
}

// concealBefore conceals the packets lost between the last one released
// and s, whose audio starts at pos, as far as the mixer needs them: those
// whose audio starts before limit (the lost packets are taken to share the
// gap evenly). A loss is concealed by the last decoder for maxConceal, and
// silent after that. The packets concealed count as released: should one
// come after all, it is late.
func (r *Recording) concealBefore(l *leg, s *jslot, pos, limit int64) {
	if !l.tl.written || pos <= l.tl.end || !l.lostBefore(s) {
		return
	}
	missing := s.ext - l.prevExt - 1
	gap := pos - l.tl.end
	each := max(gap/missing, 1)
	k := missing
	if limit < pos {
		k = min(k, (limit-l.tl.end+each-1)/each)
	}
	n := gap
	if k < missing {
		n = k * each
	}
	if c := int(min(n, maxConceal-l.lossRun)); c > 0 {
		l.stats.Concealed += uint64((c + g729FrameSamples - 1) / g729FrameSamples)
		l.lossRun += int64(c)
		if l.lastDec != nil {
			l.pcm = l.lastDec.Conceal(l.pcm[:0], c)
			l.tl.write(l.tl.end, l.pcm, r.m.emitted)
		}
	}
	l.tl.advance(l.tl.end + n)
	l.prevExt += k
	l.jb.skip(l.prevExt)
}
