package recorder

import (
	"net/netip"
	"sync"

	"github.com/callvault/callvault/siprec"
)

// maxStreams is the most audio streams one session records; the rest
// are answered with port 0. Two are a call's two sides; a conference or
// a transfer's consultation leg adds some, never dozens.
const maxStreams = 4

// portBudget counts the RTP ports each source address (a gateway) holds,
// so that one source cannot take the whole pool and lock every other
// gateway out.
type portBudget struct {
	limit int // ports one source may hold; 0: no limit

	mu   sync.Mutex
	held map[netip.Addr]int
}

func newPortBudget(limit int) *portBudget {
	return &portBudget{limit: limit, held: make(map[netip.Addr]int)}
}

// take reserves n ports for src; false when that would exceed its budget.
func (b *portBudget) take(src netip.Addr, n int) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.held[src]+n > b.limit {
		return false
	}
	b.held[src] += n
	return true
}

// give returns n ports of src.
func (b *portBudget) give(src netip.Addr, n int) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held[src] -= n; b.held[src] <= 0 {
		delete(b.held, src)
	}
}

// capStreams keeps the first maxStreams streams to open (Port -1) and
// rejects the rest (port 0); it returns the legs kept.
func capStreams(answers []siprec.MediaAnswer, legs []leg) []leg {
	kept := 0
	for i := range answers {
		if answers[i].Port != -1 {
			continue
		}
		if kept == maxStreams {
			answers[i] = siprec.MediaAnswer{}
			continue
		}
		kept++
	}
	return legs[:min(len(legs), maxStreams)]
}
