package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
)

// statusPart runs a command that prints a part of the daemon's status:
// part's value as JSON with --json, else what print writes.
func (c *cli) statusPart(ctx context.Context, name string, args []string, part func(control.Status) any, print func(control.Status) error) error {
	asJSON, err := c.jsonOnly(name, args)
	if err != nil {
		return err
	}
	st, err := c.client.Status(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.stdout, part(st))
	}
	return print(st)
}

func (c *cli) status(ctx context.Context, args []string) error {
	return c.statusPart(ctx, "status", args, func(st control.Status) any { return st }, c.printStatus)
}

// printStatus prints the status as a table, a line a figure.
func (c *cli) printStatus(st control.Status) error {
	tw := newTable(c.stdout)
	fmt.Fprintf(tw, "version\t%s\n", st.Version)
	fmt.Fprintf(tw, "uptime\t%s (since %s)\n", formatUptime(st.UptimeSeconds), formatLocal(st.Started))
	fmt.Fprintf(tw, "sip\t%s\n", st.Listen)
	if st.TLSListen != "" {
		fmt.Fprintf(tw, "sip tls\t%s\n", st.TLSListen)
	}
	fmt.Fprintf(tw, "live calls\t%d\n", st.LiveCalls)
	fmt.Fprintf(tw, "calls total\t%d\n", st.CallsTotal)
	fmt.Fprintf(tw, "rejected\t%d\n", st.Rejected)
	fmt.Fprintf(tw, "cps\t%.2f (5 s average)\n", st.CPS)
	if st.RTP.Packets > 0 {
		fmt.Fprintf(tw, "rtp\t%s\n", format.RTPLine(st.RTP))
	}
	if l := st.SealLatency; l != nil {
		fmt.Fprintf(tw, "searchable\t%.0f ms after hang-up (p50), p99 %.0f ms, max %.0f ms, last %d calls\n", l.P50MS, l.P99MS, l.MaxMS, l.Count)
	}
	if r := st.CallsPerSecond; r.Peak > 0 {
		fmt.Fprintf(tw, "cps averages\t%.2f over 1 min, %.2f over 15 min; peak %.0f at %s\n", r.Avg1m, r.Avg15m, r.Peak, formatLocal(r.PeakAt))
	}
	if l := st.License; l.Model != "" {
		fmt.Fprintf(tw, "licence\t%s\n", licenceLine(l))
	}
	fmt.Fprintf(tw, "disk\t%s free of %s, %s kept free (%s)\n",
		formatBytes(int64(st.Disk.FreeBytes)), formatBytes(int64(st.Disk.TotalBytes)),
		formatBytes(int64(st.Disk.ReserveBytes)), st.Disk.Path)
	if u := st.Disk.Usage; u != nil {
		fmt.Fprintf(tw, "on disk\t%s; %s, %s\n", format.RecordingsShare(u, st.Disk.TotalBytes), format.Growth(u), format.UntilFull(u))
	}
	if st.Storage != nil {
		fmt.Fprintf(tw, "copies\t%s\n", format.StorageLine(st.Storage))
	}
	if st.Recordings > 0 {
		fmt.Fprintf(tw, "recordings\t%d\n", st.Recordings)
	}
	if p := st.Process; p.Goroutines > 0 { // an older daemon leaves it out
		fmt.Fprintf(tw, "connections\t%s\n", connections(p, st.TLSListen != ""))
		fmt.Fprintf(tw, "process\t%d goroutines, %d open files, %.1f MiB resident\n",
			p.Goroutines, p.OpenFiles, float64(p.RSSBytes)/(1<<20))
	}
	if st.Config.Error != "" {
		fmt.Fprintf(tw, "CONFIG\t%s\n", configState(st.Config))
	} else {
		fmt.Fprintf(tw, "config\t%s\n", configState(st.Config))
	}
	fmt.Fprintf(tw, "draining\t%s\n", yesNo(st.Draining))
	if len(st.Alarms) == 0 {
		fmt.Fprintf(tw, "alarms\tnone\n")
	}
	for _, a := range st.Alarms {
		fmt.Fprintf(tw, "ALARM\t%s since %s: %s\n", a.Name, formatLocal(a.Since), a.Message)
	}
	return tw.Flush()
}

func (c *cli) calls(ctx context.Context, args []string) error {
	asJSON, err := c.jsonOnly("calls", args)
	if err != nil {
		return err
	}
	calls, err := c.client.Calls(ctx)
	if err != nil {
		return err
	}
	return printList(c, asJSON, calls, "no live calls",
		"CALL ID\tRECORD ID\tSTART\tUSER\tEXT\tREMOTE\tDIR\tSTATE\tSRTP\tPACKETS",
		func(call control.Call) string {
			legs := make([]string, 0, len(call.Legs))
			for _, l := range call.Legs {
				leg := fmt.Sprintf("%s:%d", l.Label, l.Packets)
				if dropped := l.ForeignSource + l.ForeignSSRC + l.AuthFailed; dropped > 0 {
					leg += fmt.Sprintf("(-%d)", dropped)
				}
				legs = append(legs, leg)
			}
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", shorten(call.ID, 16), dash(call.RecordID),
				formatLocal(call.Start), dash(call.User), dash(call.Extension), dash(call.Remote),
				dash(call.Direction), dash(call.State), srtpLegs(call.Legs), dash(strings.Join(legs, " ")))
		})
}

// connections describes the SIP connections (TCP and TLS): open now,
// refused since the start and, with a TLS listener or any failure, the
// failed TLS handshakes.
func connections(p control.Process, tls bool) string {
	s := fmt.Sprintf("%d open, %d refused", p.SIPConnections, p.SIPConnectionsRefused)
	if tls || p.TLSHandshakesFailed > 0 {
		s += fmt.Sprintf(", %d failed TLS %s", p.TLSHandshakesFailed,
			plural(p.TLSHandshakesFailed, "handshake", "handshakes"))
	}
	return s
}

// configState describes the configuration's reloads. A refused reload
// says so before anything else: the daemon runs on what it had before.
func configState(c control.ConfigState) string {
	reloads := fmt.Sprintf("%d %s", c.Reloads, plural(c.Reloads, "reload", "reloads"))
	switch {
	case c.Error != "":
		return fmt.Sprintf("reload at %s REFUSED, the previous configuration stays (%s): %s",
			formatLocal(c.ReloadedAt), reloads, c.Error)
	case c.Reloads == 0:
		return "as started (no reloads)"
	}
	return fmt.Sprintf("%s, the last applied at %s", reloads, formatLocal(c.ReloadedAt))
}

// formatUptime prints whole seconds, with days past 24 hours.
func formatUptime(sec int64) string {
	d := time.Duration(sec) * time.Second
	if days := sec / 86400; days > 0 {
		return fmt.Sprintf("%dd %s", days, d-time.Duration(days)*24*time.Hour)
	}
	return d.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// licenceLine is the licence in one line: "channel, 3 of 8 in use
// (evaluation)", "user, 40 of 50 in use, ACME, expires 2027-03-31".
func licenceLine(l control.License) string {
	s := fmt.Sprintf("%s, %d of %d in use", l.Model, l.Used, l.Count)
	if l.Evaluation {
		s += " (evaluation)"
	} else {
		s += ", " + l.Customer
	}
	if l.Expires != "" {
		s += ", expires " + l.Expires
	}
	if l.Error != "" {
		s += "; REFUSED: " + l.Error
	}
	return s
}
