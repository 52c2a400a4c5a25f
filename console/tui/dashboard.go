package tui

import (
	"fmt"
	"time"

	"github.com/callvault/callvault/console/model"
	"github.com/callvault/callvault/daemon/control"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// dashboard is screen 1: the call rate, licence and disk panes side by
// side, the alarms, and the live calls below.
type dashboard struct {
	root    *tview.Flex
	rate    *tview.TextView
	licence *tview.TextView
	disk    *tview.TextView
	alarms  *tview.TextView
	calls   *tview.Table
	content *callsContent
}

func newDashboard() *dashboard {
	d := &dashboard{
		rate:    pane("Calls/s"),
		licence: pane("Licence"),
		disk:    pane("Disk"),
		alarms:  pane("Alarms"),
		content: &callsContent{},
	}
	d.calls = tview.NewTable().SetContent(d.content).SetFixed(1, 0).SetSelectable(true, false)
	d.calls.SetBorder(true).SetTitle(" Live calls ")
	top := tview.NewFlex().
		AddItem(d.rate, 0, 1, false).
		AddItem(d.licence, 0, 1, false).
		AddItem(d.disk, 0, 1, false)
	d.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(top, 8, 0, false).
		AddItem(d.alarms, 3, 0, false).
		AddItem(d.calls, 0, 1, true)
	return d
}

// pane is a bordered text view.
func pane(title string) *tview.TextView {
	t := tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	t.SetBorder(true).SetTitle(" " + title + " ")
	return t
}

// innerWidth is the width inside a pane's border, once laid out.
func innerWidth(t *tview.TextView, fallback int) int {
	_, _, w, _ := t.GetInnerRect()
	if w <= 0 {
		return fallback
	}
	return w
}

// update sets the panes' content from m at now; the layout stays.
func (d *dashboard) update(m *model.Model, what model.Change, now time.Time) {
	if what&(model.ChangeStats|model.ChangeLicence|model.ChangeCalls) != 0 {
		st := m.Status()
		w := innerWidth(d.rate, 24)
		d.rate.SetText(rateText(st.CallsPerSecond, m.RateHistory(), w))
		d.licence.SetText(licenceText(st.License, innerWidth(d.licence, 24)))
		d.disk.SetText(diskText(st.Disk, innerWidth(d.disk, 24)))
	}
	if what&model.ChangeAlarms != 0 {
		alarms := m.Alarms()
		d.alarms.SetText(alarmsText(alarms))
		d.root.ResizeItem(d.alarms, min(max(len(alarms), 1), 4)+2, 0)
	}
	if what&model.ChangeCalls != 0 {
		d.content.set(m.Calls(), now)
		d.calls.SetTitle(fmt.Sprintf(" Live calls: %d ", d.content.rows()))
	} else if what&changeTick != 0 {
		d.content.tick(now)
	}
}

// callsContent is the live calls table's content: the model's calls as
// of the last change, formatted row by row only when the table draws them
// (a thousand calls cost only the rows on screen).
type callsContent struct {
	tview.TableContentReadOnly
	calls []control.Call
	now   time.Time
	cells [][]*tview.TableCell // formatted rows, nil until drawn
}

func (c *callsContent) set(calls []control.Call, now time.Time) {
	c.calls, c.now = calls, now
	c.cells = make([][]*tview.TableCell, len(calls))
}

// tick moves the clock: every duration is formatted again.
func (c *callsContent) tick(now time.Time) {
	c.now = now
	clear(c.cells)
}

func (c *callsContent) rows() int { return len(c.calls) }

func (c *callsContent) GetRowCount() int    { return len(c.calls) + 1 }
func (c *callsContent) GetColumnCount() int { return len(callColumns) }

func (c *callsContent) GetCell(row, col int) *tview.TableCell {
	if col < 0 || col >= len(callColumns) {
		return nil
	}
	if row == 0 {
		return tview.NewTableCell(callColumns[col]).SetTextColor(tcell.ColorYellow).SetSelectable(false)
	}
	i := row - 1
	if i < 0 || i >= len(c.calls) {
		return nil
	}
	if c.cells[i] == nil {
		texts := callRow(c.calls[i], c.now)
		cells := make([]*tview.TableCell, len(texts))
		for j, t := range texts {
			cells[j] = tview.NewTableCell(tview.Escape(t)).SetMaxWidth(maxCellWidth(j))
		}
		c.cells[i] = cells
	}
	return c.cells[i][col]
}

// maxCellWidth keeps the long columns (remote, legs) from pushing the
// others off an 80-column screen.
func maxCellWidth(col int) int {
	switch callColumns[col] {
	case "OWNER", "REMOTE":
		return 16
	}
	return 0
}
