package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/console/model"
	"github.com/callvault/callvault/daemon/control"
	"github.com/rivo/tview"
)

// The panes' text is built here from the model's figures and a time, with
// tview colour tags (basic colours only); the daemon's strings are
// escaped.

// connectionLine is the status line: "connected", "connecting", or
// "disconnected, retrying in Ns: <error>".
func connectionLine(c model.Connection, now time.Time) string {
	switch c.State {
	case model.Connected:
		if c.Stale {
			return "[yellow]connected, catching up[-]"
		}
		return "[green]connected[-]"
	case model.Retrying:
		wait := max(0, int(math.Ceil(c.RetryAt.Sub(now).Seconds())))
		return fmt.Sprintf("[red]disconnected, retrying in %ds: %s[-]", wait, tview.Escape(c.LastError))
	}
	return "[yellow]connecting[-]"
}

// rateText is the call rate pane: now (5 s), the last second, the 1 and
// 15 minute averages, the peak, and a sparkline of the history width
// columns wide.
func rateText(r control.CallRate, history []model.RatePoint, width int) string {
	values := make([]float64, len(history))
	for i, p := range history {
		values[i] = p.CPS
	}
	peak := "-"
	if !r.PeakAt.IsZero() {
		peak = r.PeakAt.Local().Format("15:04:05")
	}
	return fmt.Sprintf("now [white::b]%s[-::-]  1s %s\n1m %s  15m %s\npeak %s at %s\n[green]%s[-]",
		cps(r.Last5s), cps(r.Last1s), cps(r.Avg1m), cps(r.Avg15m), cps(r.Peak), peak,
		sparkline(values, width, 1))
}

// cps prints a call rate to two decimals.
func cps(x float64) string { return fmt.Sprintf("%.2f", x) }

// licenceText is the licence pane: "1 of 8 channels" with a gauge of
// width cells, the customer, expiry, and why an installed licence was
// refused.
func licenceText(l control.License, width int) string {
	var b strings.Builder
	unit := "channels"
	if l.Model == "user" {
		unit = "users"
	}
	colour := "green"
	switch {
	case l.Count > 0 && l.Used >= l.Count:
		colour = "red"
	case l.Count > 0 && l.Used*10 >= l.Count*8:
		colour = "yellow"
	}
	fmt.Fprintf(&b, "[%s]%d of %d[-] %s\n[%s]%s[-]\n", colour, l.Used, l.Count, unit, colour, gauge(l.Used, l.Count, width))
	who := tview.Escape(format.Dash(l.Customer))
	if l.Evaluation {
		who = "evaluation"
	}
	fmt.Fprintf(&b, "%s, expires %s", who, tview.Escape(format.Dash(l.Expires)))
	if l.Error != "" {
		fmt.Fprintf(&b, "\n[red]refused: %s[-]", tview.Escape(l.Error))
	}
	return b.String()
}

// gauge is a bar of width cells, full in the proportion used/total.
func gauge(used, total, width int) string {
	if width <= 0 {
		return ""
	}
	full := 0
	if total > 0 {
		full = min(width, int(math.Round(float64(used)/float64(total)*float64(width))))
	}
	return strings.Repeat("█", max(full, 0)) + strings.Repeat("░", width-max(full, 0))
}

// diskText is the disk pane: free of total, with a gauge of the used
// share, the reserve below which calls are refused, what the recordings
// take, how fast they grow and when the disk is full at that rate.
func diskText(d control.Disk, width int) string {
	colour := "green"
	if d.FreeBytes < d.ReserveBytes {
		colour = "red"
	} else if d.FreeBytes < 2*d.ReserveBytes {
		colour = "yellow"
	}
	used := 0
	if d.TotalBytes > 0 {
		used = int(math.Round(float64(d.TotalBytes-min(d.FreeBytes, d.TotalBytes)) / float64(d.TotalBytes) * 100))
	}
	text := fmt.Sprintf("[%s]%s free[-] of %s\n[%s]%s[-]\nreserve %s\n",
		colour, format.Bytes(int64(d.FreeBytes)), format.Bytes(int64(d.TotalBytes)),
		colour, gauge(used, 100, width), format.Bytes(int64(d.ReserveBytes)))
	u := d.Usage
	if u == nil {
		return text + "stored: counting"
	}
	share := ""
	if d.TotalBytes > 0 {
		share = " (" + format.Percent(float64(u.RecordingsBytes)/float64(d.TotalBytes)) + ")"
	}
	return text + fmt.Sprintf("stored %s%s\n+%s\n%s", format.Bytes(u.RecordingsBytes), share, format.GrowthShort(u), format.UntilFull(u))
}

// alarmsText lists the alarms on, one a line: since when, name, message.
func alarmsText(alarms []control.Alarm) string {
	if len(alarms) == 0 {
		return "[green]no alarm[-]"
	}
	var b strings.Builder
	for i, a := range alarms {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[red]%s[-] %s  %s", tview.Escape(a.Name), format.Local(a.Since), tview.Escape(a.Message))
	}
	return b.String()
}

// callColumns head the live calls table.
var callColumns = []string{"OWNER", "EXT", "REMOTE", "DIR", "CODEC", "TIME", "MODE", "STATE", "LEGS (packets/lost)"}

// callRow is a live call's row at now: its duration ticks from its start.
// Each leg shows its packets and the audio frames it lost (concealed).
func callRow(c control.Call, now time.Time) []string {
	owner := c.User
	if owner == "" {
		owner = c.FullName
	}
	codec := ""
	var legs []string
	for _, l := range c.Legs {
		if codec == "" {
			codec = l.Codec
		}
		legs = append(legs, fmt.Sprintf("%s:%d/%d", l.Label, l.Packets, l.Concealed))
	}
	dur := "-"
	if !c.Start.IsZero() {
		dur = format.Duration(max(0, now.Sub(c.Start).Milliseconds()))
	}
	return []string{format.Dash(owner), format.Dash(c.Extension), format.Dash(c.Remote), format.Dash(c.Direction),
		format.Dash(codec), dur, format.Dash(c.Mode), format.Dash(c.State), format.Dash(strings.Join(legs, " "))}
}
