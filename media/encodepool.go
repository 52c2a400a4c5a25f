package media

import (
	"runtime"
	"sync"
)

// maxPendingBatches is how many batches of a recording may wait for an
// encoding worker (16 × 288 ms, 4.6 s; 74 KB at most): a box that falls
// behind for a few seconds catches up without losing a packet. Beyond it
// the poller that mixes them waits, and the sockets' buffers take the
// rest.
const maxPendingBatches = 16

// encodeWorkers encode the recordings' batches, one goroutine per CPU Go
// runs on, started with the first recording and kept for the process's
// life. Encoding is most of a recording's CPU (LAME); done by the RTP
// pollers it would hold every other call's packets of that poller while
// it ran, and the pollers, a couple of goroutines, would get no more of
// the CPU than any other goroutine. The workers take a recording's
// batches back to back, one recording at a time.
var encodeWorkers struct {
	once  sync.Once
	ready chan *encodeQueue
}

func startEncodeWorkers() {
	encodeWorkers.ready = make(chan *encodeQueue, 1024)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for q := range encodeWorkers.ready {
				q.run()
			}
		}()
	}
}

// batchBuffers are the buffers of batches waiting for a worker, shared
// by every recording: most of the time a recording has none waiting.
var batchBuffers = sync.Pool{New: func() any { return new([]int16) }}

// encodeOutput are LAME's output buffers, shared by the recordings: the
// framer copies the frames out at once.
var encodeOutput = sync.Pool{New: func() any { return new([]byte) }}

// encodeQueue holds a recording's batches of mixed PCM on their way to
// its encoder, in order: push copies a batch in, and a worker encodes
// what is queued; only one worker at a time holds a queue. After an
// encoding error, batches are discarded and push returns the error.
type encodeQueue struct {
	encode func([]int16) error

	mu      sync.Mutex
	cond    sync.Cond  // a batch encoded, or the queue emptied
	pending []*[]int16 // from batchBuffers
	queued  bool       // on the workers' channel, or being encoded
	running bool       // a worker (or wait) is encoding
	err     error
}

func newEncodeQueue(encode func([]int16) error) *encodeQueue {
	encodeWorkers.once.Do(startEncodeWorkers)
	q := &encodeQueue{encode: encode}
	q.cond.L = &q.mu
	return q
}

// push queues a copy of pcm for encoding, waiting while the queue is
// full. It returns the encoder's error once there is one.
func (q *encodeQueue) push(pcm []int16) error {
	q.mu.Lock()
	for q.err == nil && len(q.pending) >= maxPendingBatches {
		q.cond.Wait()
	}
	if q.err != nil {
		q.mu.Unlock()
		return q.err
	}
	b := batchBuffers.Get().(*[]int16)
	*b = append((*b)[:0], pcm...)
	q.pending = append(q.pending, b)
	start := !q.queued
	q.queued = true
	q.mu.Unlock()
	if start {
		encodeWorkers.ready <- q
	}
	return nil
}

// run is a worker's turn on the queue: it encodes the batches queued
// until none is left, unless the recording's stop is encoding them.
func (q *encodeQueue) run() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running {
		return
	}
	q.encodeAll()
	q.queued = false
	q.cond.Broadcast()
}

// encodeAll encodes the batches queued, outside the lock. q.mu is held.
func (q *encodeQueue) encodeAll() {
	q.running = true
	for len(q.pending) > 0 {
		b := q.pending[0]
		if q.err == nil {
			q.mu.Unlock()
			err := q.encode(*b)
			q.mu.Lock()
			if err != nil {
				q.err = err
			}
		}
		batchBuffers.Put(b)
		n := copy(q.pending, q.pending[1:])
		q.pending[n] = nil
		q.pending = q.pending[:n]
		q.cond.Broadcast()
	}
	q.running = false
}

// wait returns once every batch queued is encoded, with the encoder's
// error. A recording stops with it: rather than wait for its turn behind
// other recordings' batches, it encodes its own itself (the worker that
// comes to the queue later finds nothing to do), so that a busy box does
// not hold the recording's seal back.
func (q *encodeQueue) wait() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.running {
		q.cond.Wait()
	}
	q.encodeAll()
	q.cond.Broadcast()
	return q.err
}
