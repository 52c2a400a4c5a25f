package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/callvault/callvault/console/calc"
	"github.com/callvault/callvault/console/format"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// calculator is screen 5: the sizing calculator (console/calc), offline.
// Each change of an input recomputes the answers.
type calculator struct {
	root   *tview.Flex
	form   *tview.Form
	answer *tview.TextView
	table  *tview.Table
}

// calcInputs are the calculator's inputs as typed.
type calcInputs struct {
	Agents, Hours, Service, Months string
	BHCA, Duration, GoS            string
}

var services = []string{calc.Service8x6.Name, calc.Service24x7.Name}

func newCalculator(focus func(tview.Primitive)) *calculator {
	c := &calculator{answer: pane("Answer")}
	c.answer.SetWrap(true)
	c.form = tview.NewForm()
	onChange := func(string) { c.recompute() }
	c.form.
		AddInputField("Agents", "10", 8, tview.InputFieldInteger, onChange).
		AddInputField("Hours/day", "6", 8, tview.InputFieldFloat, onChange).
		AddDropDown("Service", services, 0, func(string, int) { c.recompute() }).
		AddInputField("Months", "12", 8, tview.InputFieldInteger, onChange).
		AddInputField("BHCA", "3600", 8, tview.InputFieldInteger, onChange).
		AddInputField("Duration s", "180", 8, tview.InputFieldFloat, onChange).
		AddInputField("GoS", "0.01", 8, tview.InputFieldFloat, onChange)
	c.form.SetItemPadding(0).SetBorder(true).SetTitle(" Sizing ")
	c.form.SetCancelFunc(func() { focus(c.table) })

	table := tview.NewTable().SetFixed(1, 0).SetSelectable(true, false)
	table.SetBorder(true).SetTitle(" Published examples (Tab: the inputs) ")
	table.SetDoneFunc(func(tcell.Key) { focus(c.form) })
	c.table = table
	for j, h := range []string{"SCENARIO", "SERVICE", "AGENTS", "H/DAY", "MONTHS", "GB", "PUBLISHED"} {
		table.SetCell(0, j, tview.NewTableCell(h).SetTextColor(tcell.ColorYellow).SetSelectable(false))
	}
	for i, x := range calc.Examples {
		for j, t := range []string{x.Scenario, x.Service.Name, strconv.Itoa(x.Agents), format.Num(x.HoursPerDay),
			strconv.Itoa(x.Months), format.Num(x.GB()), format.Num(x.PublishedGB)} {
			table.SetCell(i+1, j, tview.NewTableCell(t))
		}
	}
	top := tview.NewFlex().
		AddItem(c.form, 26, 0, true).
		AddItem(c.answer, 0, 1, false)
	c.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(top, 11, 0, true).
		AddItem(table, 0, 1, false)
	c.recompute()
	return c
}

func (c *calculator) recompute() {
	if c.answer == nil || c.form.GetFormItemCount() < 7 {
		return // still being built
	}
	text := func(label string) string {
		return c.form.GetFormItemByLabel(label).(*tview.InputField).GetText()
	}
	_, service := c.form.GetFormItemByLabel("Service").(*tview.DropDown).GetCurrentOption()
	c.answer.SetText(calcText(calcInputs{Agents: text("Agents"), Hours: text("Hours/day"), Service: service,
		Months: text("Months"), BHCA: text("BHCA"), Duration: text("Duration s"), GoS: text("GoS")}))
}

// calcText answers the inputs: the disk, then the busy hour's erlangs,
// channels and call rate, warning above calc.MaxCPS. An input that does
// not read leaves its answer out and says which.
func calcText(in calcInputs) string {
	var b strings.Builder
	agents, e1 := strconv.Atoi(strings.TrimSpace(in.Agents))
	hours, e2 := strconv.ParseFloat(strings.TrimSpace(in.Hours), 64)
	months, e3 := strconv.Atoi(strings.TrimSpace(in.Months))
	svc, ok := calc.ServiceByName(in.Service)
	switch {
	case e1 != nil || agents < 0, e2 != nil || !(hours >= 0 && hours <= 24), e3 != nil || months < 0, !ok:
		b.WriteString("[red]disk: agents, hours (0 to 24) and months, please[-]\n")
	default:
		fmt.Fprintf(&b, "disk [white::b]%s GB[-::-]\n  %s recorded hours at %d MB an hour\n",
			format.Num(calc.DiskGB(agents, hours, svc.DaysPerMonth, months)),
			format.Num(calc.RecordedHours(agents, hours, svc.DaysPerMonth, months)), calc.MBPerHour)
	}
	bhca, e1 := strconv.Atoi(strings.TrimSpace(in.BHCA))
	dur, e2 := strconv.ParseFloat(strings.TrimSpace(in.Duration), 64)
	gos, e3 := strconv.ParseFloat(strings.TrimSpace(in.GoS), 64)
	if e1 != nil || bhca < 0 || e2 != nil || !(dur >= 0) || e3 != nil || !(gos > 0 && gos < 1) {
		b.WriteString("[red]busy hour: BHCA, duration and a GoS between 0 and 1, please[-]")
		return b.String()
	}
	erl := calc.Erlangs(bhca, dur)
	if erl > 100_000 {
		b.WriteString("[red]busy hour: too much traffic for this calculator[-]")
		return b.String()
	}
	ch := calc.Channels(erl, gos)
	rate := calc.CPS(bhca)
	fmt.Fprintf(&b, "traffic %.2f erlangs\nchannels [white::b]%d[-::-] (GoS %s)\ncalls/s %.2f (keep under %d)",
		erl, ch, format.Exact(gos), rate, calc.MaxCPS)
	if rate > calc.MaxCPS {
		fmt.Fprintf(&b, "\n[red]WARNING: above %d calls/s: size the hardware for the call rate[-]", calc.MaxCPS)
	}
	return b.String()
}
