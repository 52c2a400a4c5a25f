package media

import (
	"errors"
	"sync"
	"testing"
)

// TestEncodeQueueOrder: batches are encoded in the order pushed, each
// once, whether a worker or wait encodes them; wait returns when all are.
func TestEncodeQueueOrder(t *testing.T) {
	var mu sync.Mutex
	var got []int16
	q := newEncodeQueue(func(pcm []int16) error {
		mu.Lock()
		got = append(got, pcm[0])
		mu.Unlock()
		return nil
	})
	pcm := make([]int16, 16)
	for i := range 500 {
		pcm[0] = int16(i)
		if err := q.push(pcm); err != nil {
			t.Fatal(err)
		}
		pcm[0] = -1 // push copied it
	}
	if err := q.wait(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 500 {
		t.Fatalf("%d batches encoded, want 500", len(got))
	}
	for i, v := range got {
		if int(v) != i {
			t.Fatalf("batch %d encoded as %d-th", v, i)
		}
	}
}

// TestEncodeQueueError: after the encoder fails, push and wait return its
// error and nothing more is encoded.
func TestEncodeQueueError(t *testing.T) {
	bad := errors.New("disk on fire")
	n := 0
	q := newEncodeQueue(func([]int16) error {
		n++
		if n == 3 {
			return bad
		}
		return nil
	})
	for range 5 {
		_ = q.push([]int16{1})
	}
	if err := q.wait(); !errors.Is(err, bad) {
		t.Fatalf("wait = %v, want %v", err, bad)
	}
	if err := q.push([]int16{1}); !errors.Is(err, bad) {
		t.Errorf("push after the failure = %v, want %v", err, bad)
	}
	if n != 3 {
		t.Errorf("%d batches encoded, want 3 (none after the failure)", n)
	}
}

// TestEncodeQueueWaitsForWorker: wait does not encode while a worker is
// encoding the queue's batch; it returns after that batch is done.
func TestEncodeQueueWaitsForWorker(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var order []string
	var mu sync.Mutex
	q := newEncodeQueue(func(pcm []int16) error {
		if pcm[0] == 0 {
			close(started)
			<-release
		}
		mu.Lock()
		order = append(order, map[int16]string{0: "first", 1: "second"}[pcm[0]])
		mu.Unlock()
		return nil
	})
	_ = q.push([]int16{0})
	<-started // a worker holds the queue
	_ = q.push([]int16{1})
	done := make(chan error)
	go func() { done <- q.wait() }()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != "first" || order[1] != "second" {
		t.Errorf("encoded %v, want first, second", order)
	}
}
