// Package report gathers what a simulator run measured - calls placed and
// how they failed, setup latency, packets sent against the schedule, the
// checks of sampled recordings - and prints it for a person or as JSON
// for a script. It is pure: the run hands it numbers.
package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Report is one run's outcome. Durations in the JSON are milliseconds.
type Report struct {
	Target    string `json:"target"`
	Transport string `json:"transport"`
	Codec     string `json:"codec"`
	SRTP      bool   `json:"srtp"`
	// Attempted calls sent an INVITE; Answered got a 200 OK; Failed did
	// not, or could not be set up after it; Failures counts them by SIP
	// status ("503") or by what went wrong ("timeout", "transport",
	// "answer", "rtp").
	Attempted int            `json:"attempted"`
	Answered  int            `json:"answered"`
	Failed    int            `json:"failed"`
	Failures  map[string]int `json:"failures,omitempty"`
	// Setup is INVITE sent to 200 OK received, of the answered calls.
	SetupP50MS float64 `json:"setup_p50_ms"`
	SetupP99MS float64 `json:"setup_p99_ms"`
	SetupMaxMS float64 `json:"setup_max_ms"`
	// ByeFailed counts answered calls whose BYE got no 200.
	ByeFailed int     `json:"bye_failed,omitempty"`
	Packets   Packets `json:"packets"`
	// WallSeconds is the whole run, first INVITE to last BYE answered.
	WallSeconds float64 `json:"wall_seconds"`
	// Verify holds the sampled recordings' checks, when asked for.
	Verify []Check `json:"verify,omitempty"`
}

// Packets are the RTP packets of every leg, against the schedule of 50
// a second per leg while the call was up.
type Packets struct {
	Intended uint64 `json:"intended"`
	Sent     uint64 `json:"sent"`
	Skipped  uint64 `json:"skipped"` // the pacer was late: given up
	Failed   uint64 `json:"failed"`  // the socket refused them
	// Late were sent over 40 ms behind their schedule (the box was busy).
	Late uint64 `json:"late"`
	// SentShare is Sent over Intended: under 1 when the box was saturated.
	SentShare float64 `json:"sent_share"`
}

// Check is the verdict on one sampled recording.
type Check struct {
	ID     string `json:"id"`
	CallID string `json:"call_id"`
	Pass   bool   `json:"pass"`
	// Why lists what was wrong; empty on a pass.
	Why []string `json:"why,omitempty"`
	// DurationMS is the decoded audio's length, ExpectedMS the call's.
	DurationMS int64 `json:"duration_ms"`
	ExpectedMS int64 `json:"expected_ms"`
	// Tones is, per leg, its frequency and the share of the recording's
	// windows that carry it.
	Tones []Tone `json:"tones"`
}

// Tone is one leg's tone in a recording.
type Tone struct {
	Hz       float64 `json:"hz"`
	Presence float64 `json:"presence"`
}

// Percentile returns the p-th percentile (0-100, nearest rank) of d, 0
// for none. d is sorted in place.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	rank := int(math.Ceil(p / 100 * float64(len(d))))
	return d[min(max(rank, 1), len(d))-1]
}

// SetSetup fills the setup latency figures from the answered calls'.
func (r *Report) SetSetup(d []time.Duration) {
	ms := func(x time.Duration) float64 { return math.Round(float64(x)/1e4) / 100 }
	r.SetupP50MS = ms(Percentile(d, 50))
	r.SetupP99MS = ms(Percentile(d, 99))
	r.SetupMaxMS = ms(Percentile(d, 100))
}

// Passed reports whether every sampled recording passed (true with none).
func (r *Report) Passed() bool {
	for _, c := range r.Verify {
		if !c.Pass {
			return false
		}
	}
	return true
}

// WriteJSON writes r as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for a person.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	srtp := ""
	if r.SRTP {
		srtp = " SRTP"
	}
	fmt.Fprintf(&b, "target     %s over %s, %s%s\n", r.Target, r.Transport, r.Codec, srtp)
	fmt.Fprintf(&b, "calls      %d attempted, %d answered, %d failed%s\n", r.Attempted, r.Answered, r.Failed, failureText(r.Failures))
	if r.ByeFailed > 0 {
		fmt.Fprintf(&b, "bye        %d BYEs not answered 200\n", r.ByeFailed)
	}
	fmt.Fprintf(&b, "setup      p50 %.1f ms, p99 %.1f ms, max %.1f ms (INVITE to 200 OK)\n", r.SetupP50MS, r.SetupP99MS, r.SetupMaxMS)
	p := r.Packets
	fmt.Fprintf(&b, "packets    %d sent of %d scheduled (%.2f%%), %d of them over 40 ms late; %d skipped as too late, %d refused by the socket\n",
		p.Sent, p.Intended, 100*p.SentShare, p.Late, p.Skipped, p.Failed)
	fmt.Fprintf(&b, "wall time  %.1f s\n", r.WallSeconds)
	for _, c := range r.Verify {
		verdict := "pass"
		if !c.Pass {
			verdict = "FAIL " + strings.Join(c.Why, "; ")
		}
		var tones []string
		for _, t := range c.Tones {
			tones = append(tones, fmt.Sprintf("%.0f Hz %.0f%%", t.Hz, 100*t.Presence))
		}
		fmt.Fprintf(&b, "verify     %s  %.1f s of %.1f s, %s  %s\n", c.ID, float64(c.DurationMS)/1000, float64(c.ExpectedMS)/1000,
			strings.Join(tones, ", "), verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// failureText is ": 503 x12, timeout x1", the most frequent first.
func failureText(f map[string]int) string {
	if len(f) == 0 {
		return ""
	}
	keys := slices.SortedFunc(maps.Keys(f), func(a, b string) int {
		return cmp.Or(cmp.Compare(f[b], f[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s x%d", k, f[k])
	}
	return ": " + strings.Join(parts, ", ")
}
