package recorder

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/siprec"
)

const (
	// statsWindow is how many seconds of per-second admissions are kept:
	// the longest average, 15 minutes.
	statsWindow = 900
	// statsRing is the seconds the ring holds: the window and the second
	// still counting.
	statsRing = statsWindow + 1
	// statsStepBack is the largest step back of the clock, in seconds,
	// that is absorbed by counting into the newest second; a larger one
	// starts the per-second history afresh (the totals and the peak stay).
	statsStepBack = 2
	// statsReasons caps the distinct rejection reasons kept; any further
	// one is counted as "other".
	statsReasons = 32
)

// CPS is the rate of admitted calls at one instant. Every figure is over
// complete seconds: the second now falls in is still counting.
//
// Avg1m and Avg15m divide by the seconds the daemon has been up within
// their window, not by the whole window: 5 calls a second for the first
// 10 s read 5, not 0.83. Those seconds are whole ones: the second the
// daemon started in (or the clock stepped back in) is left out of the
// averages, calls and time alike, unless it started on the second.
type CPS struct {
	// Last1s is the admissions in the last complete second.
	Last1s float64
	// Last5s is the average over the last 5 complete seconds.
	Last5s float64
	// Avg1m and Avg15m are the averages over the last 60 and 900
	// complete seconds (or the whole seconds of uptime, if fewer).
	Avg1m, Avg15m float64
	// Peak is the most admissions in one second since start, and PeakAt
	// the start of that second (UTC); zero before the first admission.
	Peak   float64
	PeakAt time.Time
}

// callStats counts admitted and rejected calls and keeps per-second
// admissions for the last 15 minutes. It is pure bookkeeping: callers pass
// the time, so it needs no clock, and it allocates nothing per call (the
// history is a fixed ring).
type callStats struct {
	mu      sync.Mutex
	started time.Time // set by the creator; never changed

	total    int64
	rejects  int64
	byReason map[string]int64

	// ring[sec%statsRing] is the admissions in unix second sec, for sec
	// in (head-statsRing, head]; older seconds are zero.
	ring  [statsRing]int64
	head  int64
	from  int64 // first second the averages count
	ready bool  // head and from are set

	peak   int64
	peakAt int64 // unix second of peak
}

func (s *callStats) admitted(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.advance(now)
	i := sec % statsRing
	s.ring[i]++
	if s.ring[i] > s.peak {
		s.peak, s.peakAt = s.ring[i], sec
	}
	s.total++
}

// rejected counts a refused call; reason is a short word such as
// "disk_full" (see refusalReason); "" counts as "other".
func (s *callStats) rejected(reason string) {
	if reason == "" {
		reason = "other"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects++
	if s.byReason == nil {
		s.byReason = make(map[string]int64)
	}
	if _, ok := s.byReason[reason]; !ok && len(s.byReason) >= statsReasons {
		reason = "other"
	}
	s.byReason[reason]++
}

// rejectedBy returns the refused calls by reason (a copy).
func (s *callStats) rejectedBy() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int64, len(s.byReason))
	for k, v := range s.byReason {
		m[k] = v
	}
	return m
}

func (s *callStats) counts() (total, rejected int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total, s.rejects
}

// snapshot returns the rates at now.
func (s *callStats) snapshot(now time.Time) CPS {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.advance(now) // the second now is in: not complete
	c := CPS{
		Last1s: float64(s.sum(cur-1, cur-1)),
		Last5s: float64(s.sum(cur-5, cur-1)) / 5,
		Avg1m:  s.average(cur, 60),
		Avg15m: s.average(cur, statsWindow),
		Peak:   float64(s.peak),
	}
	if s.peak > 0 {
		c.PeakAt = time.Unix(s.peakAt, 0).UTC()
	}
	return c
}

// average is the admissions per second over the w seconds before cur,
// counting only those from s.from on; 0 when there are none.
func (s *callStats) average(cur int64, w int64) float64 {
	lo := max(cur-w, s.from)
	if lo >= cur {
		return 0
	}
	return float64(s.sum(lo, cur-1)) / float64(cur-lo)
}

// sum is the admissions in the seconds lo to hi, both included.
func (s *callStats) sum(lo, hi int64) int64 {
	lo = max(lo, s.head-statsRing+1, 0)
	hi = min(hi, s.head)
	var n int64
	for sec := lo; sec <= hi; sec++ {
		n += s.ring[sec%statsRing]
	}
	return n
}

// advance moves the ring on to now's second, clearing the seconds it
// skips, and returns the second to count now in. A clock that steps back
// a little counts into the newest second; one that steps back further
// starts the history afresh from now. Unix seconds before 1970 are taken
// as 0, so no index is ever negative.
func (s *callStats) advance(now time.Time) int64 {
	sec := max(now.Unix(), 0)
	if !s.ready {
		s.ready = true
		s.head = sec
		s.from = min(wholeSecondFrom(s.started), sec+1)
		return sec
	}
	switch {
	case sec > s.head:
		for x := s.head + 1; x <= min(sec, s.head+statsRing); x++ {
			s.ring[x%statsRing] = 0
		}
		s.head = sec
	case sec < s.head-statsStepBack:
		s.ring = [statsRing]int64{}
		s.head = sec
		s.from = sec + 1
	case sec < s.head:
		sec = s.head
	}
	return sec
}

// wholeSecondFrom is the first unix second that starts at or after t.
func wholeSecondFrom(t time.Time) int64 {
	sec := max(t.Unix(), 0)
	if t.Unix() >= 0 && t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

// refusalReasons names the recorder's refusals for the rejection counts.
// A refusal missing here counts as "other" (a test checks none is).
var refusalReasons = []struct {
	refusal siprec.Refusal
	reason  string
}{
	{refuseUnknown, "unknown_user"},
	{refuseFiltered, "filtered"},
	{refuseUnlicensed, "licence_user"},
	{refuseChannels, "licence_channels"},
	{refuseNoSession, "no_session"},
	{refuseExists, "exists"},
	{refuseCodec, "codec"},
	{refuseNoCrypto, "no_crypto"},
	{refuseSuite, "crypto_suite"},
	{refuseMedia, "media"},
	{refuseDiskFull, "disk_full"},
	{refuseSourcePorts, "source_ports"},
	{refuseNoPort, "no_port"},
	{refuseStorage, "storage"},
}

// refusalReason is the short word a refusal of Admit is counted under:
// the refusal whose status and text pattern match err's, or "other".
func refusalReason(err error) string {
	var se *siprec.StatusError
	if !errors.As(err, &se) {
		return "other"
	}
	for _, r := range refusalReasons {
		if r.refusal.Code == se.Code && matchesPattern(se.Reason, r.refusal.Text) {
			return r.reason
		}
	}
	return "other"
}

// matchesPattern reports whether text could be pattern with its verbs
// (%s, %d, %g, %v) filled in: the literal pieces in order, the first at
// the start and the last at the end.
func matchesPattern(text, pattern string) bool {
	var pieces []string
	rest := pattern
	for {
		i := strings.IndexByte(rest, '%')
		if i < 0 || i+1 >= len(rest) {
			pieces = append(pieces, rest)
			break
		}
		pieces = append(pieces, rest[:i])
		rest = rest[i+2:]
	}
	if len(pieces) == 1 {
		return text == pattern
	}
	if !strings.HasPrefix(text, pieces[0]) {
		return false
	}
	text = text[len(pieces[0]):]
	last := pieces[len(pieces)-1]
	for _, p := range pieces[1 : len(pieces)-1] {
		i := strings.Index(text, p)
		if i < 0 {
			return false
		}
		text = text[i+len(p):]
	}
	return strings.HasSuffix(text, last)
}

// wireRate is the control API's picture of a snapshot.
func wireRate(c CPS) control.CallRate {
	return control.CallRate{Last1s: c.Last1s, Last5s: c.Last5s, Avg1m: c.Avg1m, Avg15m: c.Avg15m, Peak: c.Peak, PeakAt: c.PeakAt}
}
