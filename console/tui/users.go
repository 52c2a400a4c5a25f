package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// usersScreen is screen 3: the recorded users; a adds one, e edits the
// one selected, d deletes it (after a confirmation), r reloads.
type usersScreen struct {
	u     *ui
	root  *tview.Flex
	table *tview.Table
	list  []control.User
}

var userColumns = []string{"USERNAME", "NAME", "EXTENSIONS", "MODE", "DIRECTION", "EXTERNAL"}

var modes = []string{control.ModeAlways, control.ModeOnDemand, control.ModeLiveKeep}

func newUsers(u *ui) *usersScreen {
	s := &usersScreen{u: u}
	s.table = tview.NewTable().SetFixed(1, 0).SetSelectable(true, false)
	s.table.SetBorder(true).SetTitle(" Users: a add, e edit, d delete, r reload ")
	s.table.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch {
		case ev.Rune() == 'a':
			s.form(nil)
		case ev.Rune() == 'e' || ev.Key() == tcell.KeyEnter:
			if usr, ok := s.selected(); ok {
				s.form(&usr)
			}
		case ev.Rune() == 'd' || ev.Key() == tcell.KeyDelete:
			s.remove()
		case ev.Rune() == 'r':
			s.load()
		default:
			return ev
		}
		return nil
	})
	s.root = tview.NewFlex().AddItem(s.table, 0, 1, true)
	s.set(nil)
	return s
}

func (s *usersScreen) load() {
	var list []control.User
	s.u.request(func(ctx context.Context) (err error) {
		list, err = s.u.client.Users(ctx)
		return err
	}, func(err error) {
		if err != nil {
			s.u.fail("Listing the users", err)
			return
		}
		s.set(list)
	})
}

func (s *usersScreen) set(list []control.User) {
	s.list = list
	row, _ := s.table.GetSelection()
	s.table.Clear()
	for j, h := range userColumns {
		s.table.SetCell(0, j, tview.NewTableCell(h).SetTextColor(tcell.ColorYellow).SetSelectable(false))
	}
	for i, usr := range list {
		for j, t := range []string{usr.Username, format.Dash(usr.FullName), format.Dash(strings.Join(usr.Extensions, ",")),
			format.Dash(usr.Mode), format.Dash(usr.Direction), format.Dash(usr.External)} {
			s.table.SetCell(i+1, j, tview.NewTableCell(tview.Escape(t)))
		}
	}
	s.table.Select(min(max(row, 1), max(len(list), 1)), 0)
}

// selected is the user on the selected row.
func (s *usersScreen) selected() (control.User, bool) {
	row, _ := s.table.GetSelection()
	if row < 1 || row > len(s.list) {
		return control.User{}, false
	}
	return s.list[row-1], true
}

// form opens the form of a new user (old nil) or of an edit of old: its
// name, extensions and mode (its filters stay as they are).
func (s *usersScreen) form(old *control.User) {
	const name = "user form"
	usr := control.User{Mode: control.ModeAlways}
	if old != nil {
		usr = *old
	}
	f := tview.NewForm()
	if old == nil {
		f.AddInputField("Username", "", 20, nil, nil)
	}
	f.AddInputField("Full name", usr.FullName, 20, nil, nil).
		AddInputField("Extensions", strings.Join(usr.Extensions, ","), 20, nil, nil).
		AddDropDown("Mode", modes, max(slices.Index(modes, usr.Mode), 0), nil)
	text := func(label string) string {
		return strings.TrimSpace(f.GetFormItemByLabel(label).(*tview.InputField).GetText())
	}
	verb, title := "Add", " Add a user (Esc cancels) "
	if old != nil {
		verb, title = "Save", " Edit "+usr.Username+" (Esc cancels) "
	}
	f.AddButton(verb, func() {
		var exts listOf
		exts.add(text("Extensions"))
		_, usr.Mode = f.GetFormItemByLabel("Mode").(*tview.DropDown).GetCurrentOption()
		usr.FullName, usr.Extensions = text("Full name"), exts
		if old == nil {
			usr.Username = text("Username")
		}
		if usr.Username == "" || len(usr.Extensions) == 0 {
			s.u.dialog("error", "A user needs a username and at least one extension.", nil)
			return
		}
		s.u.closeDialog(name)
		save, what := s.u.client.AddUser, "Adding "
		if old != nil {
			save, what = s.u.client.UpdateUser, "Saving "
		}
		s.u.request(func(ctx context.Context) error { return save(ctx, usr) }, func(err error) {
			if err != nil {
				s.u.fail(what+usr.Username, err)
				return
			}
			s.load()
		})
	})
	f.AddButton("Cancel", func() { s.u.closeDialog(name) })
	f.SetCancelFunc(func() { s.u.closeDialog(name) })
	f.SetBorder(true).SetTitle(title)
	s.u.openDialog(name, centred(f, 40, 13))
	s.u.app.SetFocus(f)
}

func (s *usersScreen) remove() {
	usr, ok := s.selected()
	if !ok {
		return
	}
	s.u.confirm(fmt.Sprintf("Delete user %s (%s)?", usr.Username, strings.Join(usr.Extensions, ",")), func() {
		s.u.request(func(ctx context.Context) error { return s.u.client.RemoveUser(ctx, usr.Username) }, func(err error) {
			if err != nil {
				s.u.fail("Deleting "+usr.Username, err)
				return
			}
			s.load()
		})
	})
}

// listOf collects comma-separated values.
type listOf []string

func (l *listOf) add(s string) {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
}

// centred places p of w x h in the middle of the screen.
func centred(p tview.Primitive, w, h int) tview.Primitive {
	return tview.NewFlex().
		AddItem(nil, 0, 1, false).
		AddItem(tview.NewFlex().SetDirection(tview.FlexRow).
			AddItem(nil, 0, 1, false).
			AddItem(p, h, 0, true).
			AddItem(nil, 0, 1, false), w, 0, true).
		AddItem(nil, 0, 1, false)
}
