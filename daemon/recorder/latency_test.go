package recorder

import (
	"testing"
	"time"
)

func TestLatencies(t *testing.T) {
	var l latencies
	if l.summary() != nil {
		t.Fatal("a summary before the first duration")
	}
	for i := 1; i <= 100; i++ {
		l.add(time.Duration(i) * time.Millisecond)
	}
	s := l.summary()
	if s.Count != 100 || s.P50MS != 50 || s.P99MS != 99 || s.MaxMS != 100 {
		t.Errorf("1..100 ms: %+v", s)
	}
	// The window keeps the newest: after latencyWindow more of 1 s, the
	// old ones are gone.
	for range latencyWindow {
		l.add(time.Second)
	}
	if s := l.summary(); s.Count != latencyWindow || s.P50MS != 1000 || s.MaxMS != 1000 {
		t.Errorf("after the window turned over: %+v", s)
	}
}
