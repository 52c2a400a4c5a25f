package media

import (
	"fmt"
	"sync"
	"time"
)

// frameSamples is the length of one MP3 frame of this package's Encoder
// (MPEG-2.5 Layer III), in samples per channel: 72 ms at 8000 Hz.
const frameSamples = 576

// frameBytes is the size of one such frame at 32 kbps: 576 / 8 x 32000 /
// 8000 bytes, never padded. 10 s of audio is 139 frames, 40 KB.
const frameBytes = frameSamples / 8 * 32 * 1000 / sampleRate

const (
	defaultWriteBuffer = 10 * time.Second
	maxWriteBuffer     = 10 * time.Minute
)

// queueFrames returns how many frames a write queue holding d of audio has:
// d in whole frames, rounded up.
func queueFrames(d time.Duration) int {
	per := time.Duration(frameSamples) * time.Second / sampleRate
	return int((d + per - 1) / per)
}

// frameSpan is a run of frames dropped from the write queue: first is the
// index of its first frame among all frames pushed (the LAME tag frame not
// counted), n how many.
type frameSpan struct{ first, n int64 }

// queueSlot is one frame waiting in the write queue, and the frames
// dropped just before it.
type queueSlot struct {
	frame []byte  // *buf while the slot waits
	buf   *[]byte // from frameBuffers, back there at pop
	gap   int64   // frames dropped just before this one
	tail  []byte  // the last of those dropped frames, whole
}

// frameBuffers hold the frames waiting in every recording's write queue:
// a queue holds a buffer only while its frame waits for the writer (a few
// at a time, normally), not one for each of its slots (139 of 288 bytes
// for the default 10 s: 40 KB a call).
var frameBuffers = sync.Pool{New: func() any { return new([]byte) }}

// frameQueue is the accounting of the queue between a recording's encoder
// and its writer: whole MP3 frames, up to a fixed number, in a ring of
// slots. When it is full, frames are dropped whole;
// dropping goes on until the writer has emptied it to half, so a writer that
// is slow for a while makes one gap rather than many short ones. Every frame
// dropped is counted in a span, and the frames dropped before a kept frame
// are noted in its slot, so the writer can put silence of the same length in
// their place (see silentFrame): the file keeps the call's timeline.
//
// It is pure: it neither locks nor waits. writeQueue locks it, and its
// writer reads a slot between front and pop.
type frameQueue struct {
	slots  []queueSlot
	head   int // first waiting slot
	n      int // slots waiting, head's included
	resume int // after a drop, frames are kept again once at most this many wait

	dropping bool
	pushed   int64 // frames pushed so far, kept or dropped
	pend     int64 // frames dropped since the last kept one
	pendTail []byte
	lost     []frameSpan
}

// newFrameQueue returns an empty queue of size frames (at least 2).
func newFrameQueue(size int) *frameQueue {
	size = max(size, 2)
	return &frameQueue{slots: make([]queueSlot, size), resume: size / 2}
}

// push adds frame at the back, copied, or drops it when the queue is full
// (or is being emptied after a drop). It reports whether the frame was kept
// and whether it began a new span of dropped frames.
func (q *frameQueue) push(frame []byte) (kept, newSpan bool) {
	idx := q.pushed
	q.pushed++
	if q.n == len(q.slots) {
		q.dropping = true
	}
	if q.dropping && q.n > q.resume {
		if q.pend == 0 {
			q.lost = append(q.lost, frameSpan{first: idx})
			newSpan = true
		}
		q.pend++
		q.lost[len(q.lost)-1].n++
		q.pendTail = append(q.pendTail[:0], frame...)
		return false, newSpan
	}
	q.dropping = false
	s := &q.slots[(q.head+q.n)%len(q.slots)]
	s.buf = frameBuffers.Get().(*[]byte)
	*s.buf = append((*s.buf)[:0], frame...)
	s.frame = *s.buf
	s.gap = q.pend
	if q.pend > 0 {
		s.tail, q.pendTail = q.pendTail, s.tail
		q.pend = 0
	}
	q.n++
	return true, false
}

// front returns the slot at the head of the queue, or nil when it is empty.
// The slot stays valid (push does not touch it) until pop.
func (q *frameQueue) front() *queueSlot {
	if q.n == 0 {
		return nil
	}
	return &q.slots[q.head]
}

// frontRun returns how many slots from the head, at most k, hold a frame
// with no gap before it, except that the head's own gap is allowed: the
// slots a writer may write in one go after the head's gap.
func (q *frameQueue) frontRun(k int) int {
	n := 0
	for n < min(k, q.n) {
		if n > 0 && q.slots[(q.head+n)%len(q.slots)].gap > 0 {
			break
		}
		n++
	}
	return n
}

// slot returns the i-th waiting slot from the head.
func (q *frameQueue) slot(i int) *queueSlot { return &q.slots[(q.head+i)%len(q.slots)] }

// pop removes k slots from the head.
func (q *frameQueue) pop(k int) {
	k = min(k, q.n)
	for i := range k {
		s := q.slot(i)
		frameBuffers.Put(s.buf)
		s.frame, s.buf, s.gap = nil, nil, 0
	}
	q.head = (q.head + k) % len(q.slots)
	q.n -= k
}

// takeTrailingGap returns the frames dropped after the last kept one (with
// the last of them), and forgets them: for the end of the stream, when no
// frame follows.
func (q *frameQueue) takeTrailingGap() (int64, []byte) {
	n := q.pend
	q.pend = 0
	return n, q.pendTail
}

// lostSpans returns the spans of frames dropped, as positions in the
// recording of total samples per channel. Frame i of the stream carries the
// recording's samples from i x frameSamples - EncoderDelay on; since the
// transform overlaps frames, the audio up to one frame before and after a
// span fades out and in.
func lostSpans(spans []frameSpan, total int64) []Span {
	var out []Span
	for _, s := range spans {
		from := max(s.first*frameSamples-EncoderDelay, 0)
		to := min((s.first+s.n)*frameSamples-EncoderDelay, total)
		if to <= from {
			continue
		}
		out = append(out, Span{At: samplesTime(from), Dur: samplesTime(to - from)})
	}
	return out
}

// samplesTime is n samples at 8000 Hz as time.
func samplesTime(n int64) time.Duration { return time.Duration(n) * time.Second / sampleRate }

// silentFrame writes into dst (len(dst) == the frame's size) an MP3 frame
// of the stream whose frame header is hdr that decodes as silence: the same
// header without CRC, all-zero side information (no main data, its own or
// borrowed: main_data_begin 0), and a data area that ends with the last
// bytes of tail, a frame of the same stream. The next frame of the stream
// may begin its main data in tail's data area (the bit reservoir, at most
// 255 bytes back in MPEG-2 and 2.5, less than one data area); with tail's
// bytes in place it decodes as it would have after tail. tail may be nil.
func silentFrame(dst []byte, hdr [4]byte, tail []byte) error {
	f, err := parseFrameHeader(hdr)
	if err != nil {
		return err
	}
	if len(dst) != f.size {
		return fmt.Errorf("silent frame: %d bytes for a frame of %d", len(dst), f.size)
	}
	clear(dst)
	copy(dst, hdr[:])
	dst[1] |= 1 // no CRC
	area := f.size - 4 - f.sideInfoLen()
	if len(tail) > 4 {
		t := tail[4:]
		k := min(area, len(t))
		copy(dst[f.size-k:], t[len(t)-k:])
	}
	return nil
}

// framer cuts an MPEG audio stream, fed in pieces of any size, into whole
// frames for emit; it drops the first frame (LAME's placeholder for the
// LAME/Info tag, which is only known after the flush; the caller puts the
// real tag in its place). Bytes that are not a frame are an error.
type framer struct {
	buf  []byte // the frame being collected
	need int    // its size, 0 until its header is in buf
	held int    // size of the first frame, dropped; 0 until it is
	emit func(frame []byte) error
}

// write feeds p to the framer, emitting every frame it completes.
func (f *framer) write(p []byte) error {
	for len(p) > 0 {
		if f.need == 0 {
			k := min(4-len(f.buf), len(p))
			f.buf = append(f.buf, p[:k]...)
			p = p[k:]
			if len(f.buf) < 4 {
				return nil
			}
			size, err := frameSize([4]byte(f.buf))
			if err != nil {
				f.buf = f.buf[:0]
				return fmt.Errorf("cut mp3 frames: %w", err)
			}
			f.need = size
		}
		k := min(f.need-len(f.buf), len(p))
		f.buf = append(f.buf, p[:k]...)
		p = p[k:]
		if len(f.buf) < f.need {
			return nil
		}
		frame := f.buf
		f.buf, f.need = f.buf[:0], 0
		if f.held == 0 {
			f.held = len(frame)
			continue
		}
		if err := f.emit(frame); err != nil {
			return err
		}
	}
	return nil
}

// partial returns the bytes of a frame begun but not complete.
func (f *framer) partial() []byte { return f.buf }
