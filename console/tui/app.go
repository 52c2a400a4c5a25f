package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/console/model"
	"github.com/callvault/callvault/daemon/control"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// requestTimeout bounds one request to the daemon made from a screen.
const requestTimeout = 30 * time.Second

// Run opens the console on screen (nil: the terminal) and returns when
// the user quits or ctx is done. It follows the daemon's event stream
// through client, reconnecting by itself, for as long as it runs.
func Run(ctx context.Context, client *control.Client, screen tcell.Screen) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := model.New()
	app := tview.NewApplication()
	if screen != nil {
		app.SetScreen(screen)
	}
	app.EnableMouse(true)
	u := newUI(ctx, app, client, m)
	m.Subscribe(u.refresh)
	defer m.Unsubscribe(u.refresh)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = model.Follow(ctx, client, m, model.DefaultBackoff)
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				app.Stop()
				return
			case <-t.C:
				u.refresh.Changed(changeTick)
			}
		}
	}()
	err := app.Run()
	cancel()
	wg.Wait()
	return err
}

// changeTick is the clock's change: durations and the retry countdown.
const changeTick model.Change = 1 << 30

// refresher is the model's listener: it gathers the changes and keeps at
// most one redraw queued, so a burst of events never fills the
// application's queue nor blocks the stream's goroutine.
type refresher struct {
	app     *tview.Application
	update  func(what model.Change, now time.Time)
	mu      sync.Mutex
	pending model.Change
	queued  bool
}

func (r *refresher) Changed(what model.Change) {
	r.mu.Lock()
	r.pending |= what
	if r.queued {
		r.mu.Unlock()
		return
	}
	r.queued = true
	r.mu.Unlock()
	r.app.QueueUpdateDraw(r.run)
}

func (r *refresher) run() {
	r.mu.Lock()
	what := r.pending
	r.pending, r.queued = 0, false
	r.mu.Unlock()
	r.update(what, time.Now())
}

// screen is one page of the console.
type screen struct {
	name  string
	key   rune
	fkey  tcell.Key
	page  tview.Primitive
	focus func() tview.Primitive // what takes the focus on showing it
	shown func()                 // called when it is shown (a reload), or nil
}

// ui holds the primitives, built once.
type ui struct {
	ctx     context.Context
	app     *tview.Application
	client  *control.Client
	m       *model.Model
	refresh *refresher

	pages   *tview.Pages
	header  *tview.TextView
	status  *tview.TextView
	screens []*screen
	current int
	dialogs int // dialogs open over the screens

	dash  *dashboard
	recs  *recordings
	users *usersScreen
	lic   *licenceScreen
	alarm *alarmsScreen
}

func newUI(ctx context.Context, app *tview.Application, client *control.Client, m *model.Model) *ui {
	setBasicStyles()
	u := &ui{ctx: ctx, app: app, client: client, m: m}
	u.refresh = &refresher{app: app, update: u.update}
	u.pages = tview.NewPages()
	u.header = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	u.status = tview.NewTextView().SetDynamicColors(true).SetWrap(false)

	u.dash = newDashboard()
	u.recs = newRecordings(u)
	u.users = newUsers(u)
	u.lic = newLicence(u)
	calc := newCalculator(func(p tview.Primitive) { app.SetFocus(p) })
	u.alarm = newAlarms()
	u.screens = []*screen{
		{name: "Dashboard", page: u.dash.root, focus: func() tview.Primitive { return u.dash.calls }},
		{name: "Recordings", page: u.recs.root, focus: func() tview.Primitive { return u.recs.table }},
		{name: "Users", page: u.users.root, focus: func() tview.Primitive { return u.users.table }, shown: u.users.load},
		{name: "Licence", page: u.lic.root, focus: func() tview.Primitive { return u.lic.info }},
		{name: "Calculator", page: calc.root, focus: func() tview.Primitive { return calc.table }},
		{name: "Alarms", page: u.alarm.root, focus: func() tview.Primitive { return u.alarm.table }},
	}
	for i, s := range u.screens {
		s.key, s.fkey = rune('1'+i), tcell.KeyF1+tcell.Key(i)
		u.pages.AddPage(s.name, s.page, true, i == 0)
	}
	root := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.header, 1, 0, false).
		AddItem(u.pages, 0, 1, true).
		AddItem(u.status, 1, 0, false)
	app.SetRoot(root, true).SetInputCapture(u.keys)
	u.show(0)
	u.update(^model.Change(0), time.Now())
	return u
}

// setBasicStyles keeps tview to the sixteen basic colours.
func setBasicStyles() {
	tview.Styles = tview.Theme{
		PrimitiveBackgroundColor:    tcell.ColorBlack,
		ContrastBackgroundColor:     tcell.ColorNavy,
		MoreContrastBackgroundColor: tcell.ColorGreen,
		BorderColor:                 tcell.ColorWhite,
		TitleColor:                  tcell.ColorWhite,
		GraphicsColor:               tcell.ColorWhite,
		PrimaryTextColor:            tcell.ColorWhite,
		SecondaryTextColor:          tcell.ColorYellow,
		TertiaryTextColor:           tcell.ColorGreen,
		InverseTextColor:            tcell.ColorNavy,
		ContrastSecondaryTextColor:  tcell.ColorAqua,
	}
}

// update redraws what changed, at now. It runs on the UI goroutine.
func (u *ui) update(what model.Change, now time.Time) {
	if what&(model.ChangeCalls|model.ChangeStats|model.ChangeAlarms|model.ChangeLicence|changeTick) != 0 {
		u.dash.update(u.m, what, now)
	}
	if what&model.ChangeLicence != 0 {
		u.lic.update(u.m.Licence())
	}
	if what&model.ChangeAlarms != 0 {
		u.alarm.update(u.m.Alarms())
	}
	if what&(model.ChangeConnection|changeTick) != 0 {
		u.status.SetText(connectionLine(u.m.Connection(), now) + "  [gray]? help  q quit[-]")
	}
}

// show switches to screen i.
func (u *ui) show(i int) {
	u.current = i
	s := u.screens[i]
	u.pages.SwitchToPage(s.name)
	var b strings.Builder
	for j, o := range u.screens {
		if j == i {
			fmt.Fprintf(&b, "[black:white] %d %s [-:-]", j+1, o.name)
		} else {
			fmt.Fprintf(&b, " [yellow]%d[-] %s ", j+1, o.name)
		}
	}
	u.header.SetText(b.String())
	u.app.SetFocus(s.focus())
	if s.shown != nil {
		s.shown()
	}
}

// typing reports whether the focus is in a field that takes characters.
func (u *ui) typing() bool {
	switch u.app.GetFocus().(type) {
	case *tview.InputField, *tview.TextArea, *tview.DropDown:
		return true
	}
	return false
}

// keys handles the console's keys before the focused primitive: screens,
// search, help and quit; a dialog keeps its keys, and a field its
// characters (F-keys still switch screens, Esc leaves the field).
func (u *ui) keys(ev *tcell.EventKey) *tcell.EventKey {
	if u.dialogs > 0 {
		return ev
	}
	if ev.Key() >= tcell.KeyF1 && ev.Key() <= tcell.KeyF6 {
		u.show(int(ev.Key() - tcell.KeyF1))
		return nil
	}
	if u.typing() {
		if ev.Key() == tcell.KeyEsc {
			u.app.SetFocus(u.screens[u.current].focus())
			return nil
		}
		return ev
	}
	if ev.Key() != tcell.KeyRune {
		return ev
	}
	switch r := ev.Rune(); {
	case r >= '1' && r <= '6':
		u.show(int(r - '1'))
	case r == '/':
		u.show(1)
		u.recs.focusSearch()
	case r == '?':
		u.help()
	case r == 'q':
		u.app.Stop()
	default:
		return ev
	}
	return nil
}

const helpText = `callvault console

F1-F6 or 1-6  switch screens
/             search recordings
?             this help
q             quit
Esc           close a dialog, leave a field
Tab           next field or pane
Enter         select, press a button

Recordings: arrows move in the results; v verify, e export
  (type the file, Enter), n next page, Tab to the details
  (arrows, PgUp/PgDn scroll; Tab back), Esc to the form
Users: a add, e (or Enter) edit, d delete, r reload
Licence, Calculator: Tab to the form`

// help shows the keys in a box; Esc, Enter or ? closes it.
func (u *ui) help() {
	const name = "help"
	t := tview.NewTextView().SetText(helpText)
	t.SetBorder(true).SetTitle(" Help (Esc closes) ")
	t.SetDoneFunc(func(tcell.Key) { u.closeDialog(name) })
	t.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Rune() == '?' || ev.Rune() == 'q' {
			u.closeDialog(name)
			return nil
		}
		return ev
	})
	u.openDialog(name, centred(t, 62, 20))
	u.app.SetFocus(t)
}

// dialog shows a modal with text and an OK button over the screens; Esc
// or OK closes it and calls then, when set.
func (u *ui) dialog(name, text string, then func()) {
	m := tview.NewModal().SetText(text).AddButtons([]string{"OK"})
	m.SetDoneFunc(func(int, string) {
		u.closeDialog(name)
		if then != nil {
			then()
		}
	})
	u.openDialog(name, m)
}

// confirm asks a yes/no question; yes calls do.
func (u *ui) confirm(text string, do func()) {
	const name = "confirm"
	m := tview.NewModal().SetText(text).AddButtons([]string{"Cancel", "Yes"})
	m.SetDoneFunc(func(_ int, label string) {
		u.closeDialog(name)
		if label == "Yes" {
			do()
		}
	})
	u.openDialog(name, m)
}

func (u *ui) openDialog(name string, p tview.Primitive) {
	if u.pages.HasPage(name) {
		u.pages.RemovePage(name)
		u.dialogs--
	}
	u.dialogs++
	u.pages.AddPage(name, p, true, true)
	u.app.SetFocus(p)
}

func (u *ui) closeDialog(name string) {
	if !u.pages.HasPage(name) {
		return
	}
	u.pages.RemovePage(name)
	u.dialogs--
	if u.dialogs == 0 {
		u.app.SetFocus(u.screens[u.current].focus())
	}
}

// fail shows a daemon's error in a modal: its message as the daemon put
// it (a NOC member's 403, a 404, ...).
func (u *ui) fail(what string, err error) {
	var ce *control.Error
	msg := err.Error()
	if errors.As(err, &ce) {
		msg = fmt.Sprintf("%s (HTTP %d)", ce.Message, ce.StatusCode)
		if strings.Contains(ce.Message, "(HTTP ") {
			msg = ce.Message
		}
	}
	u.dialog("error", what+" failed:\n"+msg, nil)
}

// request runs fn off the UI goroutine with a deadline, then done (on the
// UI goroutine) with its error.
func (u *ui) request(fn func(ctx context.Context) error, done func(err error)) {
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, requestTimeout)
		defer cancel()
		err := fn(ctx)
		if u.ctx.Err() != nil {
			return
		}
		u.app.QueueUpdateDraw(func() { done(err) })
	}()
}
