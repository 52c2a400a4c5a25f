package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/metrics"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// richStatus is a status with every field set, each to a different number
// so that a metric showing the wrong field is caught.
func richStatus() control.Status {
	return control.Status{
		Version:       "1.4.2",
		Started:       time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
		UptimeSeconds: 86461,
		Listen:        "0.0.0.0:5060",
		TLSListen:     "0.0.0.0:5061",
		LiveCalls:     17,
		CallsTotal:    12345,
		Rejected:      50,
		CPS:           2.4,
		CallsPerSecond: control.CallRate{
			Last1s: 3, Last5s: 2.4, Avg1m: 1.75, Avg15m: 0.5, Peak: 41,
			PeakAt: time.Date(2026, 3, 1, 9, 15, 7, 0, time.UTC),
		},
		RejectedBy: map[string]int64{"licence": 7, "disk_full": 11, "unknown_user": 29, "max_cps": 3},
		Draining:   true,
		Disk: control.Disk{Path: "/var/lib/callvault", TotalBytes: 500 << 30, FreeBytes: 123 << 30, ReserveBytes: 2 << 30,
			Usage: &control.DiskUsage{RecordingsFiles: 9000, RecordingsBytes: 300 << 30, GrowthBytesPerDay: 2 << 30, GrowthDays: 7}},
		Sealed: map[string]int64{"complete": 12001, "recovered": 4, "failed": 2},
		Storage: &control.Storage{Node: "node-0", Backlog: 12, BacklogBytes: 12 << 20, OldestPending: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
			Targets: []control.StorageTarget{{Name: "nas", Kind: "dir", State: "up", Copied: 900, CopiedBytes: 900 << 20, BytesPerSecond: 1 << 20},
				{Name: "archive", Kind: "s3", State: "down", Error: "refused"}}},
		RTP: control.RTPTotals{Packets: 987654321, Late: 321, Lost: 4321, Dropped: 54321, LostPackets: 1234, Duplicates: 21},
		License: control.License{
			Customer: "ACME", Model: "channel", Count: 100, Used: 17,
			Expires: "2027-03-31", Issued: "2026-01-15T10:00:00Z",
		},
		LiveKeepDestroyed: 9,
		Recordings:        45678,
		Alarms: []control.Alarm{
			{Name: control.AlarmDiskLow, Active: true, Since: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), Message: "low"},
			{Name: "license_usage", Active: true, Message: "90 % of the licence in use"},
		},
		Process: control.Process{
			Goroutines: 211, OpenFiles: 96, RSSBytes: 73 << 20,
			SIPConnections: 5, SIPConnectionsRefused: 13, TLSHandshakesFailed: 8,
		},
		Config: control.ConfigState{Reloads: 3, ReloadedAt: time.Date(2026, 3, 2, 12, 30, 0, 500e6, time.UTC), Error: "line 4: bad listen"},
	}
}

// sample is the value of one line of an exposition, and its metric's
// type.
type sample struct {
	typ   dto.MetricType
	value float64
}

func unix(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// want is what the exposition of st must hold, written out field by field
// from the package doc's table.
func want(st control.Status) map[string]sample {
	g := func(v float64) sample { return sample{dto.MetricType_GAUGE, v} }
	c := func(v float64) sample { return sample{dto.MetricType_COUNTER, v} }
	w := map[string]sample{
		`callvault_build_info{version="` + st.Version + `"}`: g(1),
		`callvault_uptime_seconds`:                           g(float64(st.UptimeSeconds)),
		`callvault_draining`:                                 g(b2f(st.Draining)),
		`callvault_live_calls`:                               g(float64(st.LiveCalls)),
		`callvault_calls_total`:                              c(float64(st.CallsTotal)),
		`callvault_calls_per_second{window="1s"}`:            g(st.CallsPerSecond.Last1s),
		`callvault_calls_per_second{window="5s"}`:            g(st.CallsPerSecond.Last5s),
		`callvault_calls_per_second{window="1m"}`:            g(st.CallsPerSecond.Avg1m),
		`callvault_calls_per_second{window="15m"}`:           g(st.CallsPerSecond.Avg15m),
		`callvault_calls_per_second_peak`:                    g(st.CallsPerSecond.Peak),
		`callvault_live_keep_destroyed_total`:                c(float64(st.LiveKeepDestroyed)),
		`callvault_rtp_packets_received_total`:               c(float64(st.RTP.Packets)),
		`callvault_rtp_packets_late_total`:                   c(float64(st.RTP.Late)),
		`callvault_rtp_packets_dropped_total`:                c(float64(st.RTP.Dropped)),
		`callvault_rtp_lost_frames_total`:                    c(float64(st.RTP.Lost)),
		`callvault_rtp_packets_lost_total`:                   c(float64(st.RTP.LostPackets)),
		`callvault_disk_free_bytes`:                          g(float64(st.Disk.FreeBytes)),
		`callvault_disk_size_bytes`:                          g(float64(st.Disk.TotalBytes)),
		`callvault_disk_reserve_bytes`:                       g(float64(st.Disk.ReserveBytes)),
		`callvault_process_goroutines`:                       g(float64(st.Process.Goroutines)),
		`callvault_process_open_fds`:                         g(float64(st.Process.OpenFiles)),
		`callvault_process_resident_memory_bytes`:            g(float64(st.Process.RSSBytes)),
		`callvault_sip_connections`:                          g(float64(st.Process.SIPConnections)),
		`callvault_sip_connections_refused_total`:            c(float64(st.Process.SIPConnectionsRefused)),
		`callvault_tls_handshakes_failed_total`:              c(float64(st.Process.TLSHandshakesFailed)),
		`callvault_config_reloads_total`:                     c(float64(st.Config.Reloads)),
		`callvault_config_last_reload_successful`:            g(b2f(st.Config.Error == "")),
	}
	var placed int64
	for reason, n := range st.RejectedBy {
		w[`callvault_calls_rejected_total{reason="`+reason+`"}`] = c(float64(n))
		placed += n
	}
	if rest := st.Rejected - placed; rest > 0 {
		w[`callvault_calls_rejected_total{reason="other"}`] = c(float64(w[`callvault_calls_rejected_total{reason="other"}`].value) + float64(rest))
	}
	for _, s := range []string{"complete", "recovered", "failed"} {
		w[`callvault_recordings_sealed_total{status="`+s+`"}`] = c(float64(st.Sealed[s]))
	}
	for _, a := range []string{"disk_low", "disk_full"} {
		w[`callvault_alarm_active{name="`+a+`"}`] = g(0)
	}
	for _, a := range st.Alarms {
		if a.Active {
			w[`callvault_alarm_active{name="`+a.Name+`"}`] = g(1)
		}
	}
	if !st.Started.IsZero() {
		w[`callvault_start_time_seconds`] = g(unix(st.Started))
	}
	if !st.CallsPerSecond.PeakAt.IsZero() {
		w[`callvault_calls_per_second_peak_timestamp_seconds`] = g(unix(st.CallsPerSecond.PeakAt))
	}
	if st.Recordings > 0 {
		w[`callvault_recordings_indexed`] = g(float64(st.Recordings))
	}
	if s := st.Storage; s != nil {
		w[`callvault_storage_backlog`] = g(float64(s.Backlog))
		w[`callvault_storage_backlog_bytes`] = g(float64(s.BacklogBytes))
		if !s.OldestPending.IsZero() {
			w[`callvault_storage_oldest_pending_timestamp_seconds`] = g(unix(s.OldestPending))
		}
		for _, t := range s.Targets {
			w[`callvault_storage_copied_total{target="`+t.Name+`"}`] = c(float64(t.Copied))
			w[`callvault_storage_copied_bytes_total{target="`+t.Name+`"}`] = c(float64(t.CopiedBytes))
			w[`callvault_storage_target_up{target="`+t.Name+`"}`] = g(b2f(t.State == "up"))
			w[`callvault_storage_copy_bytes_per_second{target="`+t.Name+`"}`] = g(t.BytesPerSecond)
		}
	}
	if u := st.Disk.Usage; u != nil {
		w[`callvault_recordings_bytes`] = g(float64(u.RecordingsBytes))
		w[`callvault_recordings_growth_bytes_per_day`] = g(float64(u.GrowthBytesPerDay))
	}
	if l := st.License; l.Model != "" {
		w[`callvault_license_limit{model="`+l.Model+`"}`] = g(float64(l.Count))
		w[`callvault_license_used{model="`+l.Model+`"}`] = g(float64(l.Used))
		w[`callvault_license_evaluation`] = g(b2f(l.Evaluation))
		w[`callvault_license_refused`] = g(b2f(l.Error != ""))
		if l.Expires != "" {
			day, err := time.Parse("2006-01-02", l.Expires)
			if err != nil {
				panic(err)
			}
			w[`callvault_license_expiry_timestamp_seconds`] = g(unix(day.AddDate(0, 0, 1)))
		}
	}
	if !st.Config.ReloadedAt.IsZero() {
		w[`callvault_config_last_reload_timestamp_seconds`] = g(unix(st.Config.ReloadedAt))
	}
	return w
}

// server runs Serve on a loopback port with the handler over status; stop
// ends it and returns what Serve returned.
type server struct {
	url  string
	stop func() error
}

func start(t *testing.T, status func(context.Context) (control.Status, error)) server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.Serve(ctx, ln, metrics.NewHandler(status, nil)) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(30 * time.Second):
				serveErr = errors.New("Serve did not return 30 s after its context ended")
			}
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return server{url: "http://" + ln.Addr().String(), stop: stop}
}

func fixed(st control.Status) func(context.Context) (control.Status, error) {
	return func(context.Context) (control.Status, error) { return st, nil }
}

var client = &http.Client{Timeout: 30 * time.Second}

// fetch asks url with method and returns the status code, body and
// header.
func fetch(c *http.Client, method, url string) (int, string, http.Header, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, "", nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header, err
}

func get(t *testing.T, c *http.Client, method, url string) (int, string, http.Header) {
	t.Helper()
	code, body, hdr, err := fetch(c, method, url)
	if err != nil {
		t.Fatal(err)
	}
	return code, body, hdr
}

// scrape fetches /metrics and parses it into one sample per metric and
// label set, keyed as in want.
func scrape(c *http.Client, base string) (map[string]sample, error) {
	code, body, hdr, err := fetch(c, http.MethodGet, base+"/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("Content-Type %q, want the text format", ct)
	}
	return parse(body)
}

func mustScrape(t *testing.T, base string) map[string]sample {
	t.Helper()
	got, err := scrape(client, base)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// parse reads an exposition in the text format, strictly (legacy metric
// names), into samples keyed as in want.
func parse(body string) (map[string]sample, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %v\n%s", err, body)
	}
	got := map[string]sample{}
	for name, f := range families {
		if f.GetHelp() == "" {
			return nil, fmt.Errorf("%s has no HELP", name)
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			var v float64
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			default:
				return nil, fmt.Errorf("%s: type %v, want counter or gauge", name, f.GetType())
			}
			if _, dup := got[key]; dup {
				return nil, fmt.Errorf("%s appears twice", key)
			}
			got[key] = sample{f.GetType(), v}
		}
	}
	return got, nil
}

// compare reports every difference between the scraped samples and those
// wanted.
func compare(t *testing.T, got, want map[string]sample) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s missing", k)
		case g != want[k]:
			t.Errorf("%s = %v (%v), want %v (%v)", k, g.value, g.typ, want[k].value, want[k].typ)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s = %v: not in the package doc's table", k, got[k].value)
		}
	}
}

// TestMetricsAreTheStatus: every metric scraped is the status field the
// package doc names, and nothing else is shown.
func TestMetricsAreTheStatus(t *testing.T) {
	refused := richStatus()
	refused.License = control.License{Customer: "evaluation", Model: "channel", Count: 8, Used: 8,
		Evaluation: true, Error: "licence.json: signature does not verify"}
	refused.Config = control.ConfigState{}
	users := richStatus()
	users.License = control.License{Customer: "Bank", Model: "user", Count: 250, Used: 249, Issued: "2026-01-15T10:00:00Z"}
	users.Draining = false
	users.Alarms = []control.Alarm{}
	for name, st := range map[string]control.Status{"rich": richStatus(), "refused licence": refused, "user licence": users} {
		t.Run(name, func(t *testing.T) {
			s := start(t, fixed(st))
			got := mustScrape(t, s.url)
			compare(t, got, want(st))

			// The reasons add up to rejected, and the rate's 5 s window is
			// cps.
			var sum float64
			for k, v := range got {
				if strings.HasPrefix(k, "callvault_calls_rejected_total{") {
					sum += v.value
				}
			}
			if sum != float64(st.Rejected) {
				t.Errorf("rejected reasons add up to %v, want rejected = %d", sum, st.Rejected)
			}
			if v := got[`callvault_calls_per_second{window="5s"}`].value; v != st.CPS {
				t.Errorf(`calls_per_second{window="5s"} = %v, want cps = %v`, v, st.CPS)
			}
		})
	}
}

// TestSparseStatus: a status with little in it shows the fixed set at 0,
// no licence, no timestamps that are not there, and the rejections
// rejected_by leaves out under "other".
func TestSparseStatus(t *testing.T) {
	st := control.Status{
		Version:    "dev",
		Rejected:   5,
		RejectedBy: map[string]int64{"licence": 2, "other": 1},
		Alarms:     []control.Alarm{{Name: control.AlarmDiskFull, Active: false}},
	}
	s := start(t, fixed(st))
	got := mustScrape(t, s.url)
	compare(t, got, want(st))
	if v := got[`callvault_calls_rejected_total{reason="other"}`].value; v != 3 {
		t.Errorf(`rejected{reason="other"} = %v, want 1 + the 2 rejected_by leaves out`, v)
	}
	for k := range got {
		if strings.HasPrefix(k, "callvault_license_") || strings.HasSuffix(k, "_timestamp_seconds") ||
			k == "callvault_start_time_seconds" || k == "callvault_recordings_indexed" {
			t.Errorf("%s shown for a status without it", k)
		}
	}
}

func TestStatusFails(t *testing.T) {
	s := start(t, func(context.Context) (control.Status, error) {
		return control.Status{}, errors.New("backend is gone")
	})
	code, body, _ := get(t, client, http.MethodGet, s.url+"/metrics")
	if code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", code)
	}
	if !strings.Contains(body, "backend is gone") {
		t.Errorf("body %q does not carry the error", body)
	}
	if strings.Contains(body, "callvault_") {
		t.Errorf("body %q shows metrics of a failed status", body)
	}
}

// TestStatusGetsTheScrapeContext: status is asked with a context bounded
// to a few seconds, which ends when the scrape is abandoned.
func TestStatusGetsTheScrapeContext(t *testing.T) {
	asked := make(chan context.Context, 1)
	s := start(t, func(ctx context.Context) (control.Status, error) {
		asked <- ctx
		<-ctx.Done()
		return control.Status{}, ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/metrics", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	var sctx context.Context
	select {
	case sctx = <-asked:
	case <-time.After(30 * time.Second):
		t.Fatal("status not asked")
	}
	if dl, ok := sctx.Deadline(); !ok || time.Until(dl) > 5*time.Second {
		t.Errorf("status context deadline %v (set %v), want at most 5 s ahead", dl, ok)
	}
	cancel()
	select {
	case <-sctx.Done():
	case <-time.After(30 * time.Second):
		t.Error("status context not ended when the scrape was abandoned")
	}
	<-errc
}

// TestConcurrentScrapes: scrapes at once each get a whole status, asked
// once per scrape.
func TestConcurrentScrapes(t *testing.T) {
	var asked atomic.Int64
	s := start(t, func(context.Context) (control.Status, error) {
		n := asked.Add(1)
		st := richStatus()
		st.LiveCalls = int(n)
		st.CallsTotal = 1000 * n
		return st, nil
	})
	const workers, each = 8, 5
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				got := mustScrape(t, s.url)
				live := got["callvault_live_calls"].value
				if total := got["callvault_calls_total"].value; total != 1000*live {
					t.Errorf("calls_total %v with live_calls %v: figures from two statuses", total, live)
				}
			}
		})
	}
	wg.Wait()
	if n := asked.Load(); n != workers*each {
		t.Errorf("status asked %d times for %d scrapes", n, workers*each)
	}
}

func TestRoutes(t *testing.T) {
	s := start(t, fixed(richStatus()))
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/metrics", http.StatusOK},
		{http.MethodHead, "/metrics", http.StatusOK},
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/metrics/x", http.StatusNotFound},
	} {
		if code, _, _ := get(t, client, tc.method, s.url+tc.path); code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, code, tc.code)
		}
	}
}
