package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// TestCallsPerSecond: sipp sets up 5 calls a second; once it has done so
// for more than 5 s, status says 5 calls a second now (within 10 %), and
// once it is done, every call is counted and sealed.
func TestCallsPerSecond(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true, channels: 50, tables: "[metrics]\nlisten = \"127.0.0.1:0\""})
	const rate, calls = 5, 40
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", "-sf", filepath.Join("testdata", "sipp", "load-call.xml"), "-t", "u1", "-nostdin",
		"-i", "127.0.0.1", "-p", fmt.Sprint(testaudio.SIPPort(t)), "-r", fmt.Sprint(rate), "-l", fmt.Sprint(calls), "-m", fmt.Sprint(calls), "-d", "1000",
		"-key", "fromtag", "cps", "-key", "caller", "5551000", "-key", "callee", "5552000", "-key", "codecpt", "0", "-key", "codecname", "PCMU",
		"-timeout", "100s", "-timeout_error", fmt.Sprintf("127.0.0.1:%d", d.sipPort))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// sipp sends for 8 s; look between 6 and 7.5 s, when the last 5 whole
	// seconds are all inside its run.
	time.Sleep(time.Until(start.Add(6500 * time.Millisecond)))
	var st control.Status
	d.cliJSON(&st, "status")
	scraped := scrape(t, st.MetricsListen)
	if r := st.CallsPerSecond; r.Last5s < rate*0.9 || r.Last5s > rate*1.1 || st.CPS != r.Last5s || r.Peak < rate {
		t.Errorf("%v into 5 calls a second: calls_per_second %+v, cps %g; want last_5s within 10 %% of 5", time.Since(start).Round(time.Millisecond), r, st.CPS)
	}
	if v := scraped[`callvault_calls_per_second{window="5s"}`]; v < rate*0.9 || v > rate*1.1 {
		t.Errorf("metrics: 5 s rate %g, want within 10 %% of 5", v)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, tail(out.String(), 2000))
	}
	d.until(30*time.Second, "every call sealed", func() bool {
		d.cliJSON(&st, "status")
		return st.Sealed["complete"]+st.Sealed["failed"] == calls
	})
	if st.CallsTotal != calls || st.Rejected != 0 || st.LiveCalls != 0 {
		t.Errorf("after %d calls: calls_total %d, rejected %d, live %d", calls, st.CallsTotal, st.Rejected, st.LiveCalls)
	}
	// The metrics endpoint says what status says.
	scraped = scrape(t, st.MetricsListen)
	for name, want := range map[string]float64{
		"callvault_calls_total":                                float64(st.CallsTotal),
		"callvault_live_calls":                                 float64(st.LiveCalls),
		`callvault_recordings_sealed_total{status="complete"}`: float64(st.Sealed["complete"]),
		`callvault_recordings_sealed_total{status="failed"}`:   float64(st.Sealed["failed"]),
		`callvault_license_limit{model="channel"}`:             float64(st.License.Count),
		`callvault_calls_per_second_peak`:                      st.CallsPerSecond.Peak,
		"callvault_rtp_packets_received_total":                 float64(st.RTP.Packets),
		"callvault_license_evaluation":                         0,
	} {
		if got, ok := scraped[name]; !ok || got != want {
			t.Errorf("metrics: %s = %g (listed %t), status says %g", name, got, ok, want)
		}
	}
}

// scrape reads the Prometheus endpoint at addr: each sample line's value
// by its name and labels.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	if addr == "" {
		t.Fatal("status has no metrics_listen")
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}
