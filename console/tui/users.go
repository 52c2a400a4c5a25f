package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// usersScreen is screen 3: the recorded users; a adds one, d deletes the
// one selected (after a confirmation), r reloads.
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
	s.table.SetBorder(true).SetTitle(" Users: a add, d delete, r reload ")
	s.table.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch {
		case ev.Rune() == 'a':
			s.add()
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

// add opens the form of a new user.
func (s *usersScreen) add() {
	const name = "add user"
	f := tview.NewForm().
		AddInputField("Username", "", 20, nil, nil).
		AddInputField("Full name", "", 20, nil, nil).
		AddInputField("Extensions", "", 20, nil, nil).
		AddDropDown("Mode", modes, 0, nil)
	text := func(label string) string {
		return strings.TrimSpace(f.GetFormItemByLabel(label).(*tview.InputField).GetText())
	}
	f.AddButton("Add", func() {
		var exts listOf
		exts.add(text("Extensions"))
		_, mode := f.GetFormItemByLabel("Mode").(*tview.DropDown).GetCurrentOption()
		usr := control.User{Username: text("Username"), FullName: text("Full name"), Extensions: exts, Mode: mode}
		if usr.Username == "" || len(usr.Extensions) == 0 {
			s.u.dialog("error", "A user needs a username and at least one extension.", nil)
			return
		}
		s.u.closeDialog(name)
		s.u.request(func(ctx context.Context) error { return s.u.client.AddUser(ctx, usr) }, func(err error) {
			if err != nil {
				s.u.fail("Adding "+usr.Username, err)
				return
			}
			s.load()
		})
	})
	f.AddButton("Cancel", func() { s.u.closeDialog(name) })
	f.SetCancelFunc(func() { s.u.closeDialog(name) })
	f.SetBorder(true).SetTitle(" Add a user (Esc cancels) ")
	s.u.openDialog(name, centred(f, 40, 13))
	s.u.app.SetFocus(f)
}

func (s *usersScreen) remove() {
	row, _ := s.table.GetSelection()
	if row < 1 || row > len(s.list) {
		return
	}
	usr := s.list[row-1]
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
