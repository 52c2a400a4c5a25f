package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/sim/report"
)

// printRow writes one measurement's line as it finishes.
func printRow(w io.Writer, r row, lame float64) {
	fmt.Fprintf(w, "   %s\n", strings.Join(cells(r, lame), " | "))
}

// header is the table's columns.
var header = []string{"calls", "answered", "setup p50 / p99", "sent by the simulator", "lost at the recorder",
	"late at the recorder", "daemon CPU per call-second", "× LAME alone", "RSS per live call (peak)", "hang-up → searchable p99", "verified"}

// cells are a row's columns.
func cells(r row, lame float64) []string {
	st, sim := r.status, r.sim
	received := st.RTP.Packets
	lost := st.RTP.LostPackets
	c := []string{
		fmt.Sprint(r.calls),
		fmt.Sprintf("%d / %d%s%s", sim.Answered, sim.Attempted, failures(sim.Failures), refused(st.RejectedBy)),
		fmt.Sprintf("%.1f / %.1f ms", sim.SetupP50MS, sim.SetupP99MS),
		fmt.Sprintf("%.2f %% of %d", 100*sim.Packets.SentShare, sim.Packets.Intended),
		fmt.Sprintf("%d (%s)", lost, share(lost, received+lost)),
		fmt.Sprintf("%d (%s)", st.RTP.Late, share(st.RTP.Late, received)),
		"-", "-", "-", "-",
		verified(sim.Verify),
	}
	if r.cpuMS > 0 {
		c[6] = fmt.Sprintf("%.3f ms (over %s)", r.cpuMS, r.steady.Round(time.Second))
		if lame > 0 {
			c[7] = fmt.Sprintf("%.2f", r.cpuMS/lame)
		}
		c[8] = fmt.Sprintf("%.0f KiB (%d MiB)", r.rssPerCall, r.rssPeak/1024)
	}
	if l := st.SealLatency; l != nil {
		c[9] = fmt.Sprintf("%.0f ms", l.P99MS)
	}
	return c
}

// failures is the simulator's failed calls by status or cause.
func failures(f map[string]int) string {
	if len(f) == 0 {
		return ""
	}
	return " (" + counts(f) + ")"
}

// refused is the daemon's count of refusals by reason, when any.
func refused(by map[string]int64) string {
	if len(by) == 0 {
		return ""
	}
	return "; the daemon refused: " + counts(by)
}

// counts lists a count by name, "name ×n" sorted by name.
func counts[N int | int64](m map[string]N) string {
	parts := make([]string, 0, len(m))
	for k, n := range m {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func share(n, of uint64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f %%", 100*float64(n)/float64(of))
}

func verified(checks []report.Check) string {
	pass := 0
	for _, c := range checks {
		if c.Pass {
			pass++
		}
	}
	return fmt.Sprintf("%d / %d", pass, len(checks))
}

// writeTable writes the Markdown table of the runs, with how they were
// made.
func writeTable(w io.Writer, o options, rows []row, cps *row, lame float64) {
	srtp := ""
	if o.srtp {
		srtp = ", SRTP"
	}
	fmt.Fprintf(w, "Machine: %d cores, Go %s, %s. Simulator and daemon on the same box (loopback).\n",
		runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(w, "Calls: two %s legs%s, 50 packets/s each, %s SIP, %d new calls/s, each %s.\n",
		strings.ToUpper(o.codec), srtp, o.transport, o.rate, o.duration)
	fmt.Fprintf(w, "LAME alone on the same audio (mono mix, 32 kbps, q%d): %.3f ms CPU per call-second.\n\n", media.DefaultQuality, lame)
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells(r, lame), " | "))
	}
	if cps != nil {
		s := cps.sim
		fmt.Fprintf(w, "\nSetup rate: %d calls of %s at %d a second: %d answered, %d failed%s%s; setup p50 %.1f ms, p99 %.1f ms; hang-up → searchable p99 %s.\n",
			s.Attempted, cps.duration, cps.rate, s.Answered, s.Failed, failures(s.Failures), refused(cps.status.RejectedBy), s.SetupP50MS, s.SetupP99MS, p99(cps))
	}
}

func p99(r *row) string {
	if l := r.status.SealLatency; l != nil {
		return fmt.Sprintf("%.0f ms", l.P99MS)
	}
	return "-"
}
