package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/console/model"
	"github.com/callvault/callvault/daemon/control"
)

func TestSparkline(t *testing.T) {
	for _, c := range []struct {
		values []float64
		width  int
		top    float64
		want   string
	}{
		{nil, 10, 1, ""},
		{[]float64{0, 1, 2, 4, 8}, 5, 1, "▁▁▂▄█"},
		{[]float64{0, 0.5, 0}, 3, 1, "▁▄▁"}, // a quiet period stays low
		{[]float64{1, 9, 2, 2, 8, 1}, 3, 1, "█▂█"},
	} {
		if got := sparkline(c.values, c.width, c.top); got != c.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", c.values, c.width, got, c.want)
		}
	}
	if got := []rune(sparkline(make([]float64, 900), 24, 1)); len(got) != 24 {
		t.Errorf("900 points in 24 columns: %d columns", len(got))
	}
}

func TestConnectionLine(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		conn model.Connection
		want string
	}{
		{model.Connection{State: model.Connected}, "connected"},
		{model.Connection{State: model.Connecting, Stale: true}, "connecting"},
		{model.Connection{State: model.Retrying, RetryAt: now.Add(2500 * time.Millisecond), LastError: "connection refused [x]"},
			"disconnected, retrying in 3s: connection refused [x[]"},
		{model.Connection{State: model.Retrying, RetryAt: now.Add(-time.Second), LastError: "eof"}, "retrying in 0s: eof"},
	} {
		if got := connectionLine(c.conn, now); !strings.Contains(got, c.want) {
			t.Errorf("connectionLine(%+v) = %q, want it to contain %q", c.conn, got, c.want)
		}
	}
}

func TestLicenceText(t *testing.T) {
	got := licenceText(control.License{Model: "user", Count: 10, Used: 10, Customer: "Acme", Error: "signature invalid"}, 10)
	for _, want := range []string{"10 of 10[-] users", "██████████", "Acme, expires -", "refused: signature invalid"} {
		if !strings.Contains(got, want) {
			t.Errorf("licence text %q lacks %q", got, want)
		}
	}
}

func TestCalcText(t *testing.T) {
	in := calcInputs{Agents: "4", Hours: "6", Service: "8x6", Months: "6", BHCA: "3600", Duration: "180", GoS: "0.01"}
	got := calcText(in)
	for _, want := range []string{"disk [white::b]54 GB", "traffic 180.00 erlangs", "calls/s 1.00"} {
		if !strings.Contains(got, want) {
			t.Errorf("calcText = %q, want %q", got, want)
		}
	}
	if strings.Contains(got, "WARNING") {
		t.Errorf("warning at 1 call/s: %q", got)
	}
	in.BHCA = "36000"
	if got := calcText(in); !strings.Contains(got, "WARNING: above 3 calls/s") {
		t.Errorf("no warning at 10 calls/s: %q", got)
	}
	in.Hours, in.GoS = "25", "1"
	if got := calcText(in); !strings.Contains(got, "[red]disk:") || !strings.Contains(got, "[red]busy hour:") {
		t.Errorf("bad inputs answered: %q", got)
	}
}
