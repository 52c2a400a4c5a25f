package metrics

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/prometheus/client_golang/prometheus"
)

// statusFunc returns the daemon's status, the control API's (GET
// /v1/status): the one source of every figure served.
type statusFunc func(ctx context.Context) (control.Status, error)

// collector is the Collector of one scrape: Collect asks status once, with
// the scrape's context, and turns the answer into constant metrics. When
// status fails it emits nothing and keeps the error in err for the
// handler.
type collector struct {
	ctx    context.Context
	status statusFunc
	d      *descs
	err    error
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.d.all() {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.status(c.ctx)
	if err != nil {
		c.err = err
		return
	}
	emit(st, c.d, func(m prometheus.Metric) { ch <- m })
}

// The windows of Status.CallsPerSecond, as the label window names them.
const (
	window1s  = "1s"
	window5s  = "5s"
	window1m  = "1m"
	window15m = "15m"
)

// otherReason is the rejection reason given to the calls Status.Rejected
// counts and Status.RejectedBy does not place.
const otherReason = "other"

// expiresLayout is the layout of License.Expires, a day in UTC.
const expiresLayout = "2006-01-02"

// emit sends the metrics of st to out: a pure step, the same Status always
// giving the same metrics.
func emit(st control.Status, d *descs, out func(prometheus.Metric)) {
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		out(constMetric(desc, prometheus.GaugeValue, v, labels))
	}
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		out(constMetric(desc, prometheus.CounterValue, v, labels))
	}

	gauge(d.buildInfo, 1, st.Version)
	if !st.Started.IsZero() {
		gauge(d.startTime, seconds(st.Started))
	}
	gauge(d.uptime, float64(st.UptimeSeconds))
	gauge(d.draining, boolean(st.Draining))

	gauge(d.liveCalls, float64(st.LiveCalls))
	counter(d.callsTotal, float64(st.CallsTotal))
	for reason, n := range rejections(st) {
		counter(d.rejected, float64(n), reason)
	}
	r := st.CallsPerSecond
	gauge(d.rate, r.Last1s, window1s)
	gauge(d.rate, r.Last5s, window5s)
	gauge(d.rate, r.Avg1m, window1m)
	gauge(d.rate, r.Avg15m, window15m)
	gauge(d.ratePeak, r.Peak)
	if !r.PeakAt.IsZero() {
		gauge(d.ratePeakTime, seconds(r.PeakAt))
	}

	sealed := map[string]int64{control.RecordingComplete: 0, control.RecordingRecovered: 0, control.RecordingFailed: 0}
	maps.Copy(sealed, st.Sealed)
	for status, n := range sealed {
		counter(d.sealed, float64(n), status)
	}
	if st.Recordings > 0 {
		gauge(d.indexed, float64(st.Recordings))
	}
	counter(d.liveKeepDestroyed, float64(st.LiveKeepDestroyed))

	counter(d.rtpReceived, float64(st.RTP.Packets))
	counter(d.rtpLate, float64(st.RTP.Late))
	counter(d.rtpDropped, float64(st.RTP.Dropped))
	counter(d.rtpLost, float64(st.RTP.Lost))
	counter(d.rtpLostPackets, float64(st.RTP.LostPackets))

	gauge(d.diskFree, float64(st.Disk.FreeBytes))
	gauge(d.diskSize, float64(st.Disk.TotalBytes))
	gauge(d.diskReserve, float64(st.Disk.ReserveBytes))
	if u := st.Disk.Usage; u != nil { // absent until counted
		gauge(d.recordingsBytes, float64(u.RecordingsBytes))
		gauge(d.recordingsGrowth, float64(u.GrowthBytesPerDay))
	}
	for name, on := range alarms(st.Alarms) {
		gauge(d.alarm, boolean(on), name)
	}

	if l := st.License; l.Model != "" {
		gauge(d.licenseLimit, float64(l.Count), l.Model)
		gauge(d.licenseUsed, float64(l.Used), l.Model)
		gauge(d.licenseEvaluation, boolean(l.Evaluation))
		gauge(d.licenseRefused, boolean(l.Error != ""))
		if day, err := time.Parse(expiresLayout, l.Expires); err == nil {
			gauge(d.licenseExpiry, seconds(day.AddDate(0, 0, 1)))
		}
	}

	if s := st.Storage; s != nil {
		gauge(d.storageBacklog, float64(s.Backlog))
		gauge(d.storageBacklogBytes, float64(s.BacklogBytes))
		if !s.OldestPending.IsZero() {
			gauge(d.storageOldest, seconds(s.OldestPending))
		}
		for _, t := range s.Targets {
			counter(d.storageCopied, float64(t.Copied), t.Name)
			counter(d.storageCopiedBytes, float64(t.CopiedBytes), t.Name)
			gauge(d.storageUp, boolean(t.State == "up"), t.Name)
			gauge(d.storageRate, t.BytesPerSecond, t.Name)
		}
	}

	p := st.Process
	gauge(d.goroutines, float64(p.Goroutines))
	gauge(d.openFDs, float64(p.OpenFiles))
	gauge(d.rss, float64(p.RSSBytes))
	gauge(d.sipConnections, float64(p.SIPConnections))
	counter(d.sipRefused, float64(p.SIPConnectionsRefused))
	counter(d.tlsHandshakesFailed, float64(p.TLSHandshakesFailed))

	counter(d.configReloads, float64(st.Config.Reloads))
	gauge(d.configReloadOK, boolean(st.Config.Error == ""))
	if !st.Config.ReloadedAt.IsZero() {
		gauge(d.configReloadTime, seconds(st.Config.ReloadedAt))
	}
}

// rejections are the refused calls by reason: Status.RejectedBy, plus
// under "other" those of Status.Rejected it leaves out, so that the
// reasons always add up to Status.Rejected.
func rejections(st control.Status) map[string]int64 {
	by := maps.Clone(st.RejectedBy)
	if by == nil {
		by = map[string]int64{}
	}
	var sum int64
	for _, n := range by {
		sum += n
	}
	if rest := st.Rejected - sum; rest > 0 {
		by[otherReason] += rest
	}
	return by
}

// alarms says which alarms are raised: the known ones (disk_low,
// disk_full) always appear, cleared unless listed active; an alarm
// listed twice is raised if either says so.
func alarms(list []control.Alarm) map[string]bool {
	on := map[string]bool{control.AlarmDiskLow: false, control.AlarmDiskFull: false}
	for _, a := range list {
		on[a.Name] = on[a.Name] || a.Active
	}
	return on
}

// constMetric is a metric of desc. A label value that is not UTF-8 (a
// reason or alarm name is free text) has its bad bytes replaced rather
// than failing the scrape.
func constMetric(desc *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	for i, l := range labels {
		labels[i] = strings.ToValidUTF8(l, "\uFFFD")
	}
	m, err := prometheus.NewConstMetric(desc, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

// seconds is t in seconds since the Unix epoch, to the millisecond.
func seconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }

func boolean(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
