package media

import (
	"io"
	"log/slog"
	"sync"
)

// maxWriteRun is the most frames the writer hands to the writer in one
// Write: 64 frames, 18 KB, 4.6 s of audio.
const maxWriteRun = 64

// writeQueue carries a recording's MP3 frames to its writer on a goroutine
// of its own, so that the RTP readers, which encode and push, never wait
// for the disk. Its accounting is a frameQueue; a full queue drops frames
// (push never blocks the readers) and the writer puts silence of the same
// length in their place when it catches up. After the writer fails, frames
// are discarded and push returns the error.
type writeQueue struct {
	w   io.Writer
	log *slog.Logger

	mu       sync.Mutex
	cond     sync.Cond // push, pop, close and failure broadcast on it
	q        *frameQueue
	blocking bool  // push waits for room instead of dropping (Stop's drain)
	closed   bool  // no more pushes: the writer ends when the queue is empty
	err      error // the writer's first error
	done     chan struct{}

	// The writer goroutine's own.
	gap []byte
}

// newWriteQueue starts a writer of a queue of size frames to w; close ends
// it.
func newWriteQueue(w io.Writer, size int, log *slog.Logger) *writeQueue {
	wq := &writeQueue{w: w, log: log, q: newFrameQueue(size), done: make(chan struct{})}
	wq.cond.L = &wq.mu
	go wq.run()
	return wq
}

// push queues one whole MP3 frame (copied), or drops it when the queue is
// full, unless the queue is blocking: then it waits for room. It returns
// the writer's error once there is one.
func (wq *writeQueue) push(frame []byte) error {
	wq.mu.Lock()
	defer wq.mu.Unlock()
	for wq.blocking && wq.err == nil && wq.full() {
		wq.cond.Wait()
	}
	if wq.err != nil {
		return wq.err
	}
	kept, newSpan := wq.q.push(frame)
	if newSpan {
		wq.log.Warn("writer behind: audio dropped until it catches up",
			"at", samplesTime(max(wq.q.lost[len(wq.q.lost)-1].first*frameSamples-EncoderDelay, 0)),
			"queue_frames", len(wq.q.slots))
	}
	if kept {
		wq.cond.Broadcast()
	}
	return nil
}

// full reports whether a push would drop its frame.
func (wq *writeQueue) full() bool {
	return wq.q.n == len(wq.q.slots) || (wq.q.dropping && wq.q.n > wq.q.resume)
}

// block makes push wait for room from now on: once the readers are gone,
// nothing is lost to a slow writer.
func (wq *writeQueue) block() {
	wq.mu.Lock()
	wq.blocking = true
	wq.mu.Unlock()
}

// close waits until the writer has written (or, after an error, discarded)
// every frame queued, and returns its error.
func (wq *writeQueue) close() error {
	wq.mu.Lock()
	wq.closed = true
	wq.cond.Broadcast()
	wq.mu.Unlock()
	<-wq.done
	return wq.err
}

// lost returns the spans of frames dropped. Call it after close.
func (wq *writeQueue) lost() []frameSpan {
	wq.mu.Lock()
	defer wq.mu.Unlock()
	return append([]frameSpan(nil), wq.q.lost...)
}

// run is the writer goroutine: it writes the frames at the head of the
// queue (silence first for any dropped before them) outside the lock, then
// frees their slots.
func (wq *writeQueue) run() {
	defer close(wq.done)
	wq.mu.Lock()
	defer wq.mu.Unlock()
	for {
		for wq.q.n == 0 && !wq.closed {
			wq.cond.Wait()
		}
		if wq.q.n == 0 {
			n, tail := wq.q.takeTrailingGap()
			if n > 0 && wq.err == nil && len(tail) >= 4 {
				wq.mu.Unlock()
				err := wq.writeGap(n, [4]byte(tail), tail)
				wq.mu.Lock()
				wq.fail(err)
			}
			return
		}
		k := wq.q.frontRun(maxWriteRun)
		if wq.err != nil {
			wq.q.pop(k)
			wq.cond.Broadcast()
			continue
		}
		head := wq.q.front()
		// The k slots from the head stay as they are until pop: push
		// writes only behind them.
		wq.mu.Unlock()
		var err error
		if head.gap > 0 {
			err = wq.writeGap(head.gap, [4]byte(head.frame), head.tail)
		}
		if err == nil {
			err = wq.writeRun(k)
		}
		wq.mu.Lock()
		wq.fail(err)
		wq.q.pop(k)
		wq.cond.Broadcast()
	}
}

// writeRun writes the k frames from the head in one Write, through a
// buffer shared by every recording's writer (it is needed only during
// the Write: one kept per writer was up to 18 KB a call).
func (wq *writeQueue) writeRun(k int) error {
	bp := writeBuffers.Get().(*[]byte)
	defer writeBuffers.Put(bp)
	b := (*bp)[:0]
	for i := range k {
		b = append(b, wq.q.slot(i).frame...)
	}
	*bp = b
	_, err := wq.w.Write(b)
	return err
}

// writeBuffers are the writers' buffers.
var writeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// fail keeps the writer's first error. wq.mu is held.
func (wq *writeQueue) fail(err error) {
	if err != nil && wq.err == nil {
		wq.err = err
	}
}

// writeGap writes n silent frames of the stream of hdr, the last one
// carrying tail's bit reservoir for the frame after it (silentFrame), in
// runs of at most maxWriteRun frames.
func (wq *writeQueue) writeGap(n int64, hdr [4]byte, tail []byte) error {
	f, err := parseFrameHeader(hdr)
	if err != nil {
		return err
	}
	for n > 0 {
		k := int(min(n, maxWriteRun))
		wq.gap = growLenBytes(wq.gap, k*f.size)
		for i := range k {
			var t []byte
			if n == int64(k) && i == k-1 {
				t = tail
			}
			if err := silentFrame(wq.gap[i*f.size:(i+1)*f.size], hdr, t); err != nil {
				return err
			}
		}
		if _, err := wq.w.Write(wq.gap); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// growLenBytes returns b with length n, reusing its array when it can.
func growLenBytes(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
