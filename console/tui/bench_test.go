package tui

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/console/model"
	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// BenchmarkDashboardRedraw1000 is one redraw of the dashboard with 1,000
// live calls on a 200x60 screen: the model's calls into the view (as on
// a call change) and the draw, as the one-second tick and each change
// cost the UI goroutine. The model is fed by a real event stream from a
// synthetic daemon.
func BenchmarkDashboardRedraw1000(b *testing.B) {
	calls := make([]control.Call, 1000)
	start := time.Now().Add(-time.Hour)
	for i := range calls {
		calls[i] = control.Call{ID: fmt.Sprintf("c%04d@gw", i), RecordID: fmt.Sprintf("2026%09d", i),
			Start: start.Add(time.Duration(i) * time.Second), User: fmt.Sprintf("agent%04d", i),
			Extension: fmt.Sprint(2000 + i), Remote: fmt.Sprintf("+1555%07d", i), Direction: control.DirectionIn,
			Mode: control.ModeAlways, State: control.StateRecording,
			Legs: []control.Leg{{Label: "1", Codec: "PCMA", Packets: 90000}, {Label: "2", Codec: "PCMA", Packets: 89990}}}
	}
	be := liveBackend(calls...)
	client := &control.Client{Socket: controltest.Serve(b, be)}
	m := model.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = model.Follow(ctx, client, m, model.DefaultBackoff) }()
	for deadline := time.Now().Add(limit); len(m.Calls()) < len(calls); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the model did not get the calls")
		}
	}

	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		b.Fatal(err)
	}
	s.SetSize(200, 60)
	app := tview.NewApplication().SetScreen(presized{s, &sync.Mutex{}})
	u := newUI(ctx, app, client, m)
	app.ForceDraw()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		u.update(model.ChangeCalls|model.ChangeStats|changeTick, start.Add(time.Duration(i)*time.Second))
		app.ForceDraw()
	}
	b.StopTimer()
	cells, w, _ := s.GetContents()
	row := ""
	for x := range w {
		if r := cells[2*w+x].Runes; len(r) > 0 {
			row += string(r[0])
		}
	}
	if len(row) == 0 {
		b.Fatal("nothing drawn")
	}
}
