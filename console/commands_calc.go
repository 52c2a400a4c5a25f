package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/callvault/callvault/console/calc"
	"github.com/callvault/callvault/console/format"
)

// calcHelp is the help of callvault calc.
const calcHelp = `usage:
  callvault calc disk --agents N --hours H [--service 8x6|24x7 | --days D] --months M [--json]
  callvault calc channels --bhca N --duration SECONDS [--gos 0.01] [--json]
  callvault calc table [--json]
`

// Bounds of the calculator's inputs: beyond them the figures mean nothing
// (more hours than a day has) or the search would be needlessly long.
const (
	maxAgents  = 1_000_000
	maxMonths  = 1200 // a hundred years
	maxErlangs = 100_000
)

// calc is the sizing calculator. It works offline: it never dials the
// daemon.
func (c *cli) calc(_ context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("calc: missing subcommand (disk, channels, table)")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "disk":
		return c.calcDisk(rest)
	case "channels":
		return c.calcChannels(rest)
	case "table":
		return c.calcTable(rest)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.stdout, calcHelp)
		return nil
	default:
		return usagef("calc: unknown subcommand %q (disk, channels, table)", sub)
	}
}

// calcFlags is a flag set for a calc subcommand. Unlike c.flags it has no
// -socket: calc talks to no daemon.
func (c *cli) calcFlags(name, synopsis string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, synopsis: synopsis, c: c}
}

// parseCalc parses a calc subcommand's flags, refuses positional
// arguments and flags missing from required, and returns which flags were
// given.
func parseCalc(fs *flags, args []string, required ...string) (map[string]bool, error) {
	pos, err := fs.parse(args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, r := range required {
		if !set[r] {
			return nil, usagef("%s: missing --%s", fs.Name(), r)
		}
	}
	return set, nil
}

// diskResult is calc disk's answer, also its JSON.
type diskResult struct {
	Agents        int     `json:"agents"`
	HoursPerDay   float64 `json:"hours_per_day"`
	Service       string  `json:"service,omitempty"`
	DaysPerMonth  float64 `json:"days_per_month"`
	Months        int     `json:"months"`
	RecordedHours float64 `json:"recorded_hours"`
	MBPerHour     float64 `json:"mb_per_hour"`
	GB            float64 `json:"gb"`
}

func (c *cli) calcDisk(args []string) error {
	const name = "calc disk"
	fs := c.calcFlags(name, name+" --agents N --hours H [--service 8x6|24x7 | --days D] --months M [--json]")
	agents := fs.Int("agents", 0, "simultaneously recorded agents (conversations)")
	hours := fs.Float64("hours", 0, "recorded `hours` a day per agent")
	service := fs.String("service", calc.Service8x6.Name, "8x6 (24 days a month) or 24x7 (30 days a month)")
	days := fs.Float64("days", 0, "working `days` a month, instead of --service")
	months := fs.Int("months", 0, "retention in months")
	asJSON := fs.Bool("json", false, "print JSON")
	set, err := parseCalc(fs, args, "agents", "hours", "months")
	if err != nil {
		return err
	}
	if set["service"] && set["days"] {
		return usagef("%s: give --service or --days, not both", name)
	}
	if *agents < 0 || *agents > maxAgents {
		return usagef("%s: bad --agents value %d (0 to %d)", name, *agents, maxAgents)
	}
	if !(*hours >= 0 && *hours <= 24) {
		return usagef("%s: bad --hours value %s (0 to 24 a day)", name, num(*hours))
	}
	if *months < 0 || *months > maxMonths {
		return usagef("%s: bad --months value %d (0 to %d)", name, *months, maxMonths)
	}
	r := diskResult{Agents: *agents, HoursPerDay: *hours, Months: *months, MBPerHour: calc.MBPerHour}
	if set["days"] {
		if !(*days >= 0 && *days <= 31) {
			return usagef("%s: bad --days value %s (0 to 31 a month)", name, num(*days))
		}
		r.DaysPerMonth = *days
	} else {
		s, ok := calc.ServiceByName(*service)
		if !ok {
			return usagef("%s: bad --service value %q (8x6 or 24x7)", name, *service)
		}
		r.Service, r.DaysPerMonth = s.Name, s.DaysPerMonth
	}
	r.RecordedHours = calc.RecordedHours(r.Agents, r.HoursPerDay, r.DaysPerMonth, r.Months)
	r.GB = calc.DiskGB(r.Agents, r.HoursPerDay, r.DaysPerMonth, r.Months)
	if *asJSON {
		return writeJSON(c.stdout, r)
	}
	tw := newTable(c.stdout)
	fmt.Fprintf(tw, "agents\t%d\n", r.Agents)
	fmt.Fprintf(tw, "hours a day\t%s per agent\n", num(r.HoursPerDay))
	perMonth := num(r.DaysPerMonth) + " a month"
	if r.Service != "" {
		perMonth += " (" + r.Service + ")"
	}
	fmt.Fprintf(tw, "days\t%s\n", perMonth)
	fmt.Fprintf(tw, "retention\t%d months\n", r.Months)
	fmt.Fprintf(tw, "recorded\t%s hours, at %d MB an hour\n", num(r.RecordedHours), calc.MBPerHour)
	fmt.Fprintf(tw, "disk\t%s GB\n", num(r.GB))
	return tw.Flush()
}

// channelsResult is calc channels' answer, also its JSON.
type channelsResult struct {
	BHCA            int     `json:"bhca"`
	DurationSeconds float64 `json:"duration_seconds"`
	GoS             float64 `json:"gos"`
	Erlangs         float64 `json:"erlangs"`
	Channels        int     `json:"channels"`
	Blocking        float64 `json:"blocking"` // at Channels
	CPS             float64 `json:"cps"`
	MaxCPS          float64 `json:"max_cps"`
	Warning         string  `json:"warning,omitempty"`
}

func (c *cli) calcChannels(args []string) error {
	const name = "calc channels"
	fs := c.calcFlags(name, name+" --bhca N --duration SECONDS [--gos 0.01] [--json]")
	bhca := fs.Int("bhca", 0, "call attempts in the busy hour")
	duration := fs.Float64("duration", 0, "average call duration in `seconds`")
	gos := fs.Float64("gos", 0.01, "grade of service: the share of calls that may be blocked")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseCalc(fs, args, "bhca", "duration"); err != nil {
		return err
	}
	if *bhca < 0 {
		return usagef("%s: bad --bhca value %d (0 or more)", name, *bhca)
	}
	if !(*duration >= 0) || math.IsInf(*duration, 1) {
		return usagef("%s: bad --duration value %s (0 or more seconds)", name, num(*duration))
	}
	if !(*gos > 0 && *gos < 1) {
		return usagef("%s: bad --gos value %s (between 0 and 1, e.g. 0.01 for 1%% of calls blocked)", name, exact(*gos))
	}
	r := channelsResult{BHCA: *bhca, DurationSeconds: *duration, GoS: *gos,
		Erlangs: calc.Erlangs(*bhca, *duration), CPS: calc.CPS(*bhca), MaxCPS: calc.MaxCPS}
	if r.Erlangs > maxErlangs {
		return usagef("%s: %s erlangs of traffic is beyond this calculator (at most %d)", name, num(r.Erlangs), maxErlangs)
	}
	r.Channels = calc.Channels(r.Erlangs, r.GoS)
	r.Blocking = calc.ErlangB(r.Erlangs, r.Channels)
	if r.CPS > calc.MaxCPS {
		r.Warning = fmt.Sprintf("%.2f calls per second is above %d: size the recorder's hardware for this call rate, not only for its channels",
			r.CPS, calc.MaxCPS)
	}
	if *asJSON {
		return writeJSON(c.stdout, r)
	}
	tw := newTable(c.stdout)
	fmt.Fprintf(tw, "busy hour\t%d call attempts of %s s on average\n", r.BHCA, num(r.DurationSeconds))
	fmt.Fprintf(tw, "traffic\t%.2f erlangs\n", r.Erlangs)
	fmt.Fprintf(tw, "grade of service\t%s (at most %s%% of calls blocked)\n", exact(r.GoS), exact(r.GoS*100))
	fmt.Fprintf(tw, "channels\t%d (blocking %.3g)\n", r.Channels, r.Blocking)
	fmt.Fprintf(tw, "calls per second\t%.2f (keep under %d)\n", r.CPS, calc.MaxCPS)
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Warning != "" {
		fmt.Fprintln(c.stdout, "WARNING:", r.Warning)
	}
	return nil
}

// tableRow is one row of calc table, also its JSON.
type tableRow struct {
	Scenario     string  `json:"scenario"`
	Service      string  `json:"service"`
	Agents       int     `json:"agents"`
	HoursPerDay  float64 `json:"hours_per_day"`
	DaysPerMonth float64 `json:"days_per_month"`
	Months       int     `json:"months"`
	GB           float64 `json:"gb"`
	PublishedGB  float64 `json:"published_gb"`
}

func (c *cli) calcTable(args []string) error {
	fs := c.calcFlags("calc table", "calc table [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseCalc(fs, args); err != nil {
		return err
	}
	rows := make([]tableRow, 0, len(calc.Examples))
	for _, x := range calc.Examples {
		rows = append(rows, tableRow{Scenario: x.Scenario, Service: x.Service.Name, Agents: x.Agents,
			HoursPerDay: x.HoursPerDay, DaysPerMonth: x.Service.DaysPerMonth, Months: x.Months,
			GB: x.GB(), PublishedGB: x.PublishedGB})
	}
	if *asJSON {
		return writeJSON(c.stdout, rows)
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "SCENARIO\tSERVICE\tAGENTS\tHOURS/DAY\tDAYS/MONTH\tMONTHS\tGB\tPUBLISHED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", r.Scenario, r.Service, r.Agents,
			num(r.HoursPerDay), num(r.DaysPerMonth), r.Months, num(r.GB), num(r.PublishedGB))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "GB = agents x hours/day x days/month x months x %d MB / 1024\n", calc.MBPerHour)
	return nil
}

// num and exact print the calculator's figures (console/format).
var (
	num   = format.Num
	exact = format.Exact
)
