// Package pace sends the RTP of many call legs from a few goroutines: each
// leg's payloads are computed before the call (a cycle repeated), and a
// pacing goroutine per shard wakes every tick and sends, for each of its
// legs, the packets that have come due since - no goroutine, timer or
// allocation per packet. The schedule itself (Due, Plan) is pure, so it is
// tested without a clock.
package pace

import "time"

// Period is the packet interval of every leg: 20 ms, 50 packets a second.
const Period = 20 * time.Millisecond

// Due returns how many packets a leg that started at start has due at now:
// the first at start, then one every period.
func Due(start, now, period time.Duration) int64 {
	if now < start {
		return 0
	}
	return int64((now-start)/period) + 1
}

// Plan splits the packets a leg owes - due minus done, the ones already
// sent or given up - into those to send now and those given up as too
// late: a pacer that fell behind sends at most maxBurst at once (the
// recorder's reorder window still takes them) and skips the older ones,
// which then count as intended but not sent.
func Plan(due, done, maxBurst int64) (send, skip int64) {
	owed := due - done
	if owed <= 0 {
		return 0, 0
	}
	if owed > maxBurst {
		return maxBurst, owed - maxBurst
	}
	return owed, 0
}

// Stats counts a leg's packets, or the sum of many legs'.
type Stats struct {
	// Intended is the packets the schedule asked for; Sent those the
	// kernel took; Skipped those given up because the pacer was late;
	// Failed those the socket refused (buffer full, port unreachable).
	Intended, Sent, Skipped, Failed uint64
	// Late counts the packets sent more than LateAfter after they were
	// due: a recorder may take them for network jitter, or drop them as
	// too late for its reorder window.
	Late uint64
}

// LateAfter is how far behind its schedule a packet must go out to count
// as late: two packet intervals.
const LateAfter = 2 * Period

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Intended += o.Intended
	s.Sent += o.Sent
	s.Skipped += o.Skipped
	s.Failed += o.Failed
	s.Late += o.Late
}

// SentShare is Sent over Intended, 1 when nothing was intended.
func (s Stats) SentShare() float64 {
	if s.Intended == 0 {
		return 1
	}
	return float64(s.Sent) / float64(s.Intended)
}
