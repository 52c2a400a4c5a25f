package recorder

import (
	"sync"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/media"
)

// totals count what the calls that ended since the start did: recordings
// sealed by status, and their RTP packets.
type totals struct {
	mu     sync.Mutex
	sealed map[string]int64
	rtp    control.RTPTotals
	seal   latencies // hang-up to indexed, recent calls
}

// ended adds the RTP of a call whose media stopped.
func (t *totals) ended(legs []media.LegStats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	addRTP(&t.rtp, legs)
}

// sealedAs counts a recording sealed with status.
func (t *totals) sealedAs(status string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sealed == nil {
		t.sealed = make(map[string]int64)
	}
	t.sealed[status]++
}

// snapshot returns the sealed counts (a copy) and the RTP of the ended
// calls.
func (t *totals) snapshot() (map[string]int64, control.RTPTotals) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sealed := make(map[string]int64, len(t.sealed))
	for k, v := range t.sealed {
		sealed[k] = v
	}
	return sealed, t.rtp
}

// addRTP adds legs' counters to sum: every packet received, the late ones,
// the frames lost on the way, and those dropped (duplicates, foreign
// source or SSRC, failed SRTP authentication).
func addRTP(sum *control.RTPTotals, legs []media.LegStats) {
	for _, l := range legs {
		sum.Packets += l.Packets
		sum.Late += l.Late
		sum.Lost += l.Concealed
		sum.LostPackets += l.Lost
		sum.Duplicates += l.Duplicates
		sum.Dropped += l.Duplicates + l.ForeignSource + l.ForeignSSRC + l.AuthFailed
	}
}

// rtpNow is the RTP of every call since the start: the ended ones' and
// the live ones' so far.
func (r *Recorder) rtpNow() control.RTPTotals {
	_, sum := r.totals.snapshot()
	for _, c := range r.live() {
		addRTP(&sum, c.rec.Stats())
	}
	return sum
}
