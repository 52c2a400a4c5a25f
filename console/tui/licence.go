package tui

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/callvault/callvault/console/format"
	"github.com/callvault/callvault/daemon/control"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// licenceScreen is screen 4: the licence in force, and the installation
// of a licence file.
type licenceScreen struct {
	u    *ui
	root *tview.Flex
	info *tview.TextView
	form *tview.Form
}

func newLicence(u *ui) *licenceScreen {
	s := &licenceScreen{u: u}
	s.info = pane("Licence in force")
	s.info.SetWrap(true)
	s.info.SetDoneFunc(func(tcell.Key) { u.app.SetFocus(s.form) })
	s.form = tview.NewForm().AddInputField("Licence file", "", 40, nil, nil)
	s.form.AddButton("Install", s.install)
	s.form.SetBorder(true).SetTitle(" Install a licence (Tab) ")
	s.form.SetCancelFunc(func() { u.app.SetFocus(s.info) })
	s.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(s.info, 0, 1, false).
		AddItem(s.form, 7, 0, true)
	return s
}

func (s *licenceScreen) update(l control.License) {
	s.info.SetText(licenceDetail(l))
}

// licenceDetail is every field of the licence.
func licenceDetail(l control.License) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "[yellow]%-10s[-] %s\n", k, tview.Escape(v)) }
	line("in use", fmt.Sprintf("%d of %d (%s)", l.Used, l.Count, l.Model))
	if l.Evaluation {
		line("customer", "evaluation licence")
	} else {
		line("customer", l.Customer)
	}
	line("issued", format.Dash(l.Issued))
	line("expires", format.Dash(l.Expires))
	if l.Error != "" {
		fmt.Fprintf(&b, "[red]%-10s %s[-]\n", "refused", tview.Escape(l.Error))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *licenceScreen) install() {
	path := strings.TrimSpace(s.form.GetFormItemByLabel("Licence file").(*tview.InputField).GetText())
	if path == "" {
		s.u.dialog("error", "Type the path of the licence file.", nil)
		return
	}
	var lic control.License
	s.u.request(func(ctx context.Context) error {
		file, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lic, err = s.u.client.InstallLicense(ctx, file)
		return err
	}, func(err error) {
		if err != nil {
			s.u.fail("Installing the licence", err)
			return
		}
		s.update(lic)
		s.u.dialog("info", fmt.Sprintf("Licence installed: %d %s for %s, expires %s.", lic.Count, lic.Model, lic.Customer, format.Dash(lic.Expires)), nil)
	})
}
