package tui

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/atomicfile"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// pageSize is how many recordings a search shows at a time.
const pageSize = 50

// recordings is screen 2: the search form, the results with paging, the
// selected recording's every field, verify and export.
type recordings struct {
	u      *ui
	root   *tview.Flex
	form   *tview.Form
	table  *tview.Table
	detail *tview.TextView

	results []control.Recording
	query   control.Query            // of the page shown
	next    string                   // cursor of the next page; "" on the last
	page    int                      // 1 for the first
	checked map[string]control.Check // verify's answers, by recording id
}

var directions = []string{"any", control.DirectionIn, control.DirectionOut}

func newRecordings(u *ui) *recordings {
	r := &recordings{u: u}
	r.form = tview.NewForm().
		AddInputField("From", "", 17, nil, nil).
		AddInputField("To", "", 17, nil, nil).
		AddInputField("User", "", 17, nil, nil).
		AddInputField("Ext", "", 17, nil, nil).
		AddInputField("Remote", "", 17, nil, nil).
		AddDropDown("Dir", directions, 0, nil).
		AddInputField("Min s", "", 6, tview.InputFieldInteger, nil).
		AddInputField("Export to", "", 17, nil, func(string) {}).
		AddButton("Search", r.search).
		AddButton("Next", r.nextPage)
	r.form.SetItemPadding(0).SetBorder(true).SetTitle(" Search ")
	r.form.SetCancelFunc(func() { u.app.SetFocus(r.table) })
	// Enter in "Export to" exports the selected recording (e in the
	// results comes here).
	r.form.GetFormItemByLabel("Export to").(*tview.InputField).SetDoneFunc(func(k tcell.Key) {
		if k == tcell.KeyEnter {
			r.export()
		}
	})

	r.table = tview.NewTable().SetFixed(1, 0).SetSelectable(true, false)
	r.table.SetBorder(true).SetTitle(" Recordings ")
	r.table.SetSelectionChangedFunc(func(row, _ int) { r.showDetail(row - 1) })
	// Tab goes on to the details, to scroll them; Esc and Backtab back
	// to the form.
	r.table.SetDoneFunc(func(k tcell.Key) {
		if k == tcell.KeyTab {
			u.app.SetFocus(r.detail)
			return
		}
		u.app.SetFocus(r.form)
	})
	r.table.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch ev.Rune() {
		case 'v':
			r.verify()
		case 'e':
			r.form.SetFocus(r.form.GetFormItemIndex("Export to"))
			u.app.SetFocus(r.form)
		case 'n':
			r.nextPage()
		default:
			return ev
		}
		return nil
	})
	// The details scroll (arrows, PgUp/PgDn, Home/End) while they have
	// the focus; Tab, Backtab or Esc give it back to the results.
	r.detail = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetScrollable(true)
	r.detail.SetBorder(true).SetTitle(" Recording (Tab to scroll) ")
	r.detail.SetDoneFunc(func(tcell.Key) { u.app.SetFocus(r.table) })
	r.detail.SetFocusFunc(func() { r.detail.SetBorderColor(tcell.ColorYellow) })
	r.detail.SetBlurFunc(func() { r.detail.SetBorderColor(tview.Styles.BorderColor) })
	r.setResults(nil)

	right := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(r.table, 0, 1, true).
		AddItem(r.detail, 0, 1, false)
	r.root = tview.NewFlex().
		AddItem(r.form, 28, 0, false).
		AddItem(right, 0, 1, true)
	return r
}

// focusSearch puts the cursor in the first field of the form.
func (r *recordings) focusSearch() {
	r.form.SetFocus(0)
	r.u.app.SetFocus(r.form)
}

func (r *recordings) text(label string) string {
	return strings.TrimSpace(r.form.GetFormItemByLabel(label).(*tview.InputField).GetText())
}

// formQuery reads the form into a query of the first page.
func (r *recordings) formQuery() (control.Query, error) {
	q := control.Query{User: r.text("User"), Extension: r.text("Ext"), Remote: r.text("Remote"), Limit: pageSize}
	var ok bool
	if s := r.text("From"); s != "" {
		if q.From, ok = format.ParseTime(s, false); !ok {
			return q, fmt.Errorf("bad From time %q: use 2006-01-02, 2006-01-02 15:04 or RFC 3339", s)
		}
	}
	if s := r.text("To"); s != "" {
		if q.To, ok = format.ParseTime(s, true); !ok {
			return q, fmt.Errorf("bad To time %q: use 2006-01-02, 2006-01-02 15:04 or RFC 3339", s)
		}
	}
	if _, d := r.form.GetFormItemByLabel("Dir").(*tview.DropDown).GetCurrentOption(); d != "any" {
		q.Direction = d
	}
	if s := r.text("Min s"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return q, fmt.Errorf("bad minimum duration %q: whole seconds", s)
		}
		q.MinDurationMS = n * 1000
	}
	return q, nil
}

func (r *recordings) search() {
	q, err := r.formQuery()
	if err != nil {
		r.u.dialog("error", err.Error(), nil)
		return
	}
	r.run(q, 1)
}

func (r *recordings) nextPage() {
	if r.next == "" {
		r.u.dialog("info", "This is the last page.", nil)
		return
	}
	q := r.query
	q.Cursor = r.next
	r.run(q, r.page+1)
}

// run asks the daemon for a page and shows it.
func (r *recordings) run(q control.Query, page int) {
	var recs []control.Recording
	var next string
	r.table.SetTitle(" Recordings: searching... ")
	r.u.request(func(ctx context.Context) (err error) {
		recs, next, err = r.u.client.SearchPage(ctx, q)
		return err
	}, func(err error) {
		if err != nil {
			r.table.SetTitle(" Recordings ")
			r.u.fail("Search", err)
			return
		}
		r.query, r.next, r.page = q, next, page
		r.setResults(recs)
		r.u.app.SetFocus(r.table)
	})
}

var recordingColumns = []string{"START", "TIME", "REMOTE", "USER", "EXT", "DIR", "STATUS"}

func (r *recordings) setResults(recs []control.Recording) {
	r.results = recs
	r.table.Clear()
	for j, h := range recordingColumns {
		r.table.SetCell(0, j, tview.NewTableCell(h).SetTextColor(tcell.ColorYellow).SetSelectable(false))
	}
	for i, rec := range recs {
		for j, t := range []string{format.Local(rec.Start), format.Duration(rec.DurationMS), format.Dash(rec.Remote),
			format.Dash(rec.User), format.Dash(rec.Extension), format.Dash(rec.Direction), format.Dash(rec.Status)} {
			r.table.SetCell(i+1, j, tview.NewTableCell(tview.Escape(t)))
		}
	}
	more := ""
	if r.next != "" {
		more = ", n: next page"
	}
	if r.page > 0 {
		r.table.SetTitle(fmt.Sprintf(" Recordings: page %d, %d%s ", r.page, len(recs), more))
	}
	r.table.Select(1, 0).ScrollToBeginning()
	r.showDetail(0)
}

// selected is the recording under the cursor.
func (r *recordings) selected() (control.Recording, bool) {
	row, _ := r.table.GetSelection()
	if row < 1 || row > len(r.results) {
		return control.Recording{}, false
	}
	return r.results[row-1], true
}

func (r *recordings) showDetail(i int) {
	if i < 0 || i >= len(r.results) {
		r.detail.SetText("[gray]/ to search; Enter on a result shows it here[-]")
		return
	}
	rec := r.results[i]
	ch, ok := r.checked[rec.ID]
	if !ok {
		ch = control.Check{Status: "not verified (v verifies)"}
	}
	r.detail.SetText(detailText(rec, ch)).ScrollToBeginning()
}

func (r *recordings) verify() {
	rec, ok := r.selected()
	if !ok {
		r.u.dialog("error", "Select a recording first.", nil)
		return
	}
	var ch control.Check
	r.u.request(func(ctx context.Context) (err error) {
		ch, err = r.u.client.Verify(ctx, rec.ID)
		return err
	}, func(err error) {
		if err != nil {
			r.u.fail("Verify", err)
			return
		}
		if r.checked == nil {
			r.checked = map[string]control.Check{}
		}
		r.checked[rec.ID] = ch
		if row, _ := r.table.GetSelection(); row > 0 {
			r.showDetail(row - 1)
		}
		msg := fmt.Sprintf("Recording %s: %s", ch.ID, ch.Status)
		if ch.Detail != "" {
			msg += "\n" + ch.Detail
		}
		r.u.dialog("info", msg, nil)
	})
}

// export writes the selected recording's audio to the path typed, whole
// or not at all (atomicfile), readable by its owner only.
func (r *recordings) export() {
	rec, ok := r.selected()
	if !ok {
		r.u.dialog("error", "Select a recording first.", nil)
		return
	}
	path := r.text("Export to")
	if path == "" {
		r.u.dialog("error", "Type the file to export to in \"Export to\", then Enter.", func() {
			r.form.SetFocus(r.form.GetFormItemIndex("Export to"))
			r.u.app.SetFocus(r.form)
		})
		return
	}
	var n int64
	r.u.request(func(ctx context.Context) error {
		return atomicfile.Write(path, 0o600, func(w io.Writer) error {
			cw := &counter{w: w}
			err := r.u.client.Export(ctx, rec.ID, cw)
			n = cw.n
			return err
		})
	}, func(err error) {
		if err != nil {
			r.u.fail("Export", err)
			return
		}
		r.u.dialog("info", fmt.Sprintf("Wrote %s (%s) to %s", rec.ID, format.Bytes(n), path), nil)
	})
}

// counter counts the bytes written through it.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// detailText is every field of a recording, and its integrity as
// verify last found it.
func detailText(rec control.Recording, ch control.Check) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "[yellow]%-10s[-] %s\n", k, tview.Escape(v)) }
	line("id", rec.ID)
	line("start", format.Local(rec.Start))
	line("duration", format.Duration(rec.DurationMS))
	line("status", format.Dash(rec.Status))
	line("integrity", strings.TrimSpace(ch.Status+" "+ch.Detail))
	line("user", format.Dash(rec.User))
	line("name", format.Dash(rec.FullName))
	line("extension", format.Dash(rec.Extension))
	line("remote", format.Dash(rec.Remote))
	line("direction", format.Dash(rec.Direction))
	line("ended", format.Dash(rec.EndReason))
	line("codec", format.Dash(rec.Codec))
	line("size", format.Bytes(rec.Size))
	line("file", format.Dash(rec.File))
	line("sha256", format.Dash(rec.SHA256))
	line("call id", format.Dash(rec.CallID))
	for _, p := range rec.Participants {
		line("party", strings.TrimSpace(p.Name+" "+p.AOR))
	}
	for _, l := range rec.Legs {
		v := fmt.Sprintf("%s %s, %d packets", l.Label, format.Dash(l.Codec), l.Packets)
		if c := format.LegCounts(l.LegCounters); c != "" {
			v += ", " + c
		}
		line("leg", v)
	}
	spans := func(k string, ss []control.Span) {
		for _, s := range ss {
			line(k, fmt.Sprintf("at %s for %s", format.Offset(s.AtMS), format.Seconds(s.DurMS)))
		}
	}
	spans("lost", rec.Lost)
	spans("paused", rec.Pauses)
	spans("kept", rec.Windows)
	for _, c := range rec.Copies {
		line("copy", format.CopyLine(c))
	}
	if !rec.Evicted.IsZero() {
		line("local", "removed "+format.Local(rec.Evicted)+" once copied")
	}
	return strings.TrimRight(b.String(), "\n")
}
