package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := Percentile(d, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
	one := []time.Duration{7 * time.Millisecond}
	if Percentile(one, 99) != 7*time.Millisecond {
		t.Error("p99 of one value is not that value")
	}
}

func TestTextAndJSON(t *testing.T) {
	r := Report{Target: "127.0.0.1:5060", Transport: "tcp", Codec: "PCMU", Attempted: 20, Answered: 7, Failed: 13,
		Failures: map[string]int{"503": 12, "timeout": 1},
		Packets:  Packets{Intended: 1000, Sent: 930, Skipped: 70, SentShare: 0.93}, WallSeconds: 12.5,
		Verify: []Check{{ID: "2026000000001", Pass: true, DurationMS: 5000, ExpectedMS: 5020, Tones: []Tone{{Hz: 400, Presence: 0.98}}},
			{ID: "2026000000002", Why: []string{"leg 2: 1000 Hz in 10% of the windows"}}}}
	r.SetSetup([]time.Duration{3 * time.Millisecond, 4 * time.Millisecond, 40 * time.Millisecond})
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"13 failed: 503 x12, timeout x1", "p50 4.0 ms, p99 40.0 ms", "930 sent of 1000 scheduled (93.00%)",
		"2026000000001  5.0 s of 5.0 s, 400 Hz 98%  pass", "FAIL leg 2: 1000 Hz"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if r.Passed() {
		t.Error("a run with a failed check passed")
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back["setup_p99_ms"] != 40.0 || back["failures"].(map[string]any)["503"] != 12.0 {
		t.Errorf("JSON: %s", b.String())
	}
}
