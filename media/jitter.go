package media

// seqWindow is how many sequence numbers behind the newest one are
// remembered for duplicate detection (a multiple of 64).
const seqWindow = 1024

// seqTracker extends a stream's 16-bit RTP sequence numbers to int64 and
// remembers which of the last seqWindow it has seen.
type seqTracker struct {
	started bool
	base    int64  // first extended sequence number of the stream
	top     int64  // newest extended sequence number
	unique  uint64 // numbers observed once (duplicates not counted)
	seen    [seqWindow / 64]uint64
}

// lost is how many sequence numbers between the stream's first and newest
// never arrived (as RTCP counts it: a late packet arrived, a duplicate
// makes up for none).
func (s *seqTracker) lost() uint64 {
	if !s.started {
		return 0
	}
	expected := uint64(s.top - s.base + 1)
	return expected - min(expected, s.unique)
}

// reset forgets the stream (a new SSRC begins, or the sender numbers its
// packets from another base).
func (s *seqTracker) reset() { *s = seqTracker{} }

// observe returns the extended number of seq, taken as the nearest to the
// newest one seen, and whether it was seen already; it records seq.
func (s *seqTracker) observe(seq uint16) (ext int64, dup bool) {
	if !s.started {
		s.started, s.top, s.base, s.unique = true, int64(seq), int64(seq), 1
		s.mark(s.top)
		return s.top, false
	}
	ext = s.top + int64(int16(seq-uint16(s.top)))
	switch {
	case ext > s.top:
		if ext-s.top >= seqWindow {
			s.seen = [seqWindow / 64]uint64{}
		} else {
			for e := s.top + 1; e < ext; e++ {
				s.clear(e)
			}
		}
		s.top = ext
	case s.top-ext >= seqWindow:
		s.unique++
		return ext, false // too old to tell; the reorder buffer judges it
	case s.seen[(uint64(ext)%seqWindow)/64]&(1<<(uint64(ext)%64)) != 0:
		return ext, true
	}
	s.base = min(s.base, ext)
	s.unique++
	s.mark(ext)
	return ext, false
}

// renumbered reports whether seq, the number of a packet that came gap
// samples of arrival time after the stream's newest one, cannot be the
// stream's own when its packets last frame samples each: the numbers
// between the two would not fit the time. Ahead of the newest, the packets
// it skips would have lasted longer than the gap and maxDrift (the most a
// packet may be placed from its arrival) together: they were never sent,
// and are no loss. Behind it, the packet would come more than maxDrift
// after its place. Either way the sender started its numbers again from
// another base. Before the first packet, nothing is renumbered.
func (s *seqTracker) renumbered(seq uint16, frame int, gap int64) bool {
	if !s.started {
		return false
	}
	d, f := int64(int16(seq-uint16(s.top))), int64(frame)
	if d > 0 {
		return (d-1)*f > gap+maxDrift
	}
	return -d*f > maxDrift
}

// behind reports whether seq is before the newest number seen.
func (s *seqTracker) behind(seq uint16) bool {
	return s.started && int16(seq-uint16(s.top)) < 0
}

// seenAll reports whether every sequence number in [from, to) was seen
// (packets that are not audio count as seen). Numbers too old to tell count
// as unseen.
func (s *seqTracker) seenAll(from, to int64) bool {
	if to-from > seqWindow || s.top-from >= seqWindow {
		return false
	}
	for e := from; e < to; e++ {
		i := uint64(e) % seqWindow
		if s.seen[i/64]&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

func (s *seqTracker) mark(ext int64) {
	i := uint64(ext) % seqWindow
	s.seen[i/64] |= 1 << (i % 64)
}

func (s *seqTracker) clear(ext int64) {
	i := uint64(ext) % seqWindow
	s.seen[i/64] &^= 1 << (i % 64)
}

const (
	// jitterSlots is the initial number of packets a reorder buffer holds
	// (a power of two) and jitterBytes the initial payload room per packet
	// (20 ms of G.711). Both grow, by reallocation, when a stream needs
	// more: a few times per leg at most, never per packet.
	jitterSlots = 32
	jitterBytes = 160
)

// jitter is a leg's reorder buffer. Packets wait in it, as payload bytes,
// until the mixer needs their audio, and leave in sequence-number order, so
// that a stateful decoder sees the stream in RTP order. A slot is indexed
// by the packet's extended sequence number modulo the number of slots.
type jitter struct {
	slots []jslot // power-of-two length
	data  []byte  // slot i's payload at data[i*size:][:slots[i].n]
	size  int     // payload bytes per slot
	limit int     // most slots it may grow to

	count    int   // packets held
	low      int64 // extended sequence number of the first packet held, when count > 0
	high     int64 // of the last
	done     int64 // of the last packet released, when released
	released bool
}

// jslot is one packet held in the reorder buffer.
type jslot struct {
	used    bool
	kind    payloadKind
	pt      uint8
	ext     int64 // extended sequence number
	rel     int64 // RTP timestamp relative to the stream's base timestamp
	samples int   // duration
	n       int   // payload bytes
}

// newJitter returns a reorder buffer that may grow to limit slots (a power
// of two, at least jitterSlots).
func newJitter(limit int) jitter {
	return jitter{
		slots: make([]jslot, jitterSlots),
		data:  make([]byte, jitterSlots*jitterBytes),
		size:  jitterBytes,
		limit: max(limit, jitterSlots),
	}
}

// late reports whether a packet numbered ext comes after the buffer
// released it or a packet after it: too late to decode in order.
func (j *jitter) late(ext int64) bool {
	return j.released && ext <= j.done
}

// fits reports whether a packet numbered ext can be stored without
// releasing any, growing the buffer when it may.
func (j *jitter) fits(ext int64) bool {
	for {
		if j.count == 0 {
			return true
		}
		lo, hi := min(j.low, ext), max(j.high, ext)
		if hi-lo < int64(len(j.slots)) {
			return true
		}
		if len(j.slots) >= j.limit {
			return false
		}
		j.resize(2*len(j.slots), j.size)
	}
}

// put stores a packet; the caller has checked that it fits and is neither
// late nor a duplicate. Only audio packets keep their payload.
func (j *jitter) put(ext int64, kind payloadKind, pt uint8, rel int64, samples int, payload []byte) {
	if kind != kindAudio {
		payload = nil // telephone-event digits are never kept
	}
	if len(payload) > j.size {
		j.resize(len(j.slots), (len(payload)+63)&^63)
	}
	i := int(ext & int64(len(j.slots)-1))
	j.slots[i] = jslot{used: true, kind: kind, pt: pt, ext: ext, rel: rel, samples: samples, n: len(payload)}
	copy(j.data[i*j.size:], payload)
	if j.count == 0 {
		j.low, j.high = ext, ext
	} else {
		j.low, j.high = min(j.low, ext), max(j.high, ext)
	}
	j.count++
}

// holds reports whether a packet numbered ext is held.
func (j *jitter) holds(ext int64) bool {
	s := &j.slots[ext&int64(len(j.slots)-1)]
	return j.count > 0 && s.used && s.ext == ext
}

// first returns the packet held with the lowest sequence number and its
// payload, or nil when the buffer is empty.
func (j *jitter) first() (*jslot, []byte) {
	if j.count == 0 {
		return nil, nil
	}
	i := int(j.low & int64(len(j.slots)-1))
	return &j.slots[i], j.data[i*j.size:][:j.slots[i].n]
}

// pop removes the first packet (it has been released).
func (j *jitter) pop() {
	s, _ := j.first()
	if s == nil {
		return
	}
	s.used = false
	j.done, j.released = s.ext, true
	j.count--
	if j.count > 0 {
		for j.low++; !j.holds(j.low); j.low++ {
		}
	}
	j.shrink()
}

// shrink halves a buffer that grew (a new stream's first second, held
// until it settles, needs 64 slots; a settled one about 20) once what it
// holds spans at most 3/8 of it, so that it can grow again before it
// would shrink again.
func (j *jitter) shrink() {
	n := len(j.slots)
	if n <= jitterSlots || (j.count > 0 && j.high-j.low >= int64(n*3/8)) {
		return
	}
	j.resize(n/2, j.size)
}

// skip counts the packets up to ext as released (they were lost and
// concealed): one that comes after all is late.
func (j *jitter) skip(ext int64) {
	if !j.released || ext > j.done {
		j.done, j.released = ext, true
	}
}

// restart forgets what was released: the next stream (a new SSRC, or the
// sender's numbers started again) has its own sequence numbers. The buffer
// must be empty.
func (j *jitter) restart() {
	j.released = false
}

// resize reallocates the buffer with n slots of size payload bytes each,
// keeping the packets held.
func (j *jitter) resize(n, size int) {
	old, oldData, oldSize := j.slots, j.data, j.size
	j.slots, j.data, j.size = make([]jslot, n), make([]byte, n*size), size
	for i := range old {
		if s := old[i]; s.used {
			k := int(s.ext & int64(n-1))
			j.slots[k] = s
			copy(j.data[k*size:], oldData[i*oldSize:][:s.n])
		}
	}
}
