package tui

import (
	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// alarmsScreen is screen 6: the alarms on, with since when and why.
type alarmsScreen struct {
	root  *tview.Flex
	table *tview.Table
}

func newAlarms() *alarmsScreen {
	s := &alarmsScreen{table: tview.NewTable().SetFixed(1, 0).SetSelectable(true, false)}
	s.table.SetBorder(true).SetTitle(" Alarms ")
	s.root = tview.NewFlex().AddItem(s.table, 0, 1, true)
	s.update(nil)
	return s
}

func (s *alarmsScreen) update(alarms []control.Alarm) {
	s.table.Clear()
	for j, h := range []string{"ALARM", "SINCE", "MESSAGE"} {
		s.table.SetCell(0, j, tview.NewTableCell(h).SetTextColor(tcell.ColorYellow).SetSelectable(false))
	}
	if len(alarms) == 0 {
		s.table.SetCell(1, 0, tview.NewTableCell("no alarm").SetTextColor(tcell.ColorGreen))
		return
	}
	for i, a := range alarms {
		s.table.SetCell(i+1, 0, tview.NewTableCell(tview.Escape(a.Name)).SetTextColor(tcell.ColorRed))
		s.table.SetCell(i+1, 1, tview.NewTableCell(format.Local(a.Since)))
		s.table.SetCell(i+1, 2, tview.NewTableCell(tview.Escape(a.Message)).SetExpansion(1))
	}
}
