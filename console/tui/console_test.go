package tui

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
	"github.com/gdamore/tcell/v2"
)

var t0 = time.Now().Add(-90 * time.Second).Truncate(time.Second)

func liveBackend(calls ...control.Call) *controltest.Backend {
	b := controltest.New()
	b.SetStatus(control.Status{
		Version:        "1.0",
		CallsPerSecond: control.CallRate{Last1s: 2, Last5s: 1.25, Avg1m: 0.75, Avg15m: 0.5, Peak: 3, PeakAt: t0},
		License:        control.License{Customer: "Acme", Model: "channel", Count: 8, Used: 1, Expires: "2027-01-31"},
		Disk:           control.Disk{Path: "/var/lib/callvault", TotalBytes: 100 << 30, FreeBytes: 40 << 30, ReserveBytes: 5 << 30},
		Alarms:         []control.Alarm{{Name: control.AlarmDiskLow, Active: true, Since: t0, Message: "free space below the reserve"}},
	})
	b.SetCalls(calls)
	return b
}

func aliceCall() control.Call {
	return control.Call{ID: "a@gw", RecordID: "2026000000001", Start: t0, User: "alice", Extension: "2001",
		Remote: "+15558201320", Direction: control.DirectionIn, Mode: control.ModeAlways, State: control.StateRecording,
		Legs: []control.Leg{{Label: "1", Codec: "PCMA", Packets: 4500, LegCounters: control.LegCounters{Concealed: 3}},
			{Label: "2", Codec: "PCMA", Packets: 4498}}}
}

func TestDashboard(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			b := liveBackend(aliceCall())
			c := startConsole(t, controltest.Serve(t, b), size[0], size[1])
			c.waitFor("alice", "+15558201320", "1 of 8", "disk_low", "now 1.25", "0.75", "peak 3.00",
				"40.0 GiB free", "reserve 5.0 GiB", "stored: counting", "connected", "Live calls: 1", "1:4500/3")
			c.waitUntil("a ticking duration", func(s string) bool {
				return contains(s, "1:3") || contains(s, "1:4") || contains(s, "1:5") || contains(s, "2:")
			})

			legs := aliceCall().Legs
			legs[0].Packets, legs[1].Packets, legs[1].Concealed = 4550, 4548, 12
			b.Publish(control.Event{Type: control.EventStats, Time: time.Now(),
				Stats: &control.Stats{LiveCalls: 1, CallsPerSecond: control.CallRate{Last1s: 4, Last5s: 2.5, Avg1m: 1, Avg15m: 0.5, Peak: 4},
					Disk: &control.Disk{TotalBytes: 100 << 30, FreeBytes: 39 << 30, ReserveBytes: 5 << 30,
						Usage: &control.DiskUsage{RecordingsFiles: 900, RecordingsBytes: 30 << 30, GrowthBytesPerDay: 2 << 30, GrowthDays: 7, DaysUntilFull: new(17.0)}},
					Calls: []control.CallLegs{{ID: "a@gw", Legs: legs}}}})
			c.waitFor("now 2.50", "peak 4.00", "█", "39.0 GiB free", "stored 30.0 GiB (30%)", "+2.0 GiB/day", "full in 17 days", "1:4550/3", "2:4548/12")

			b.Publish(control.Event{Type: control.EventCallEnded, Time: time.Now(), Call: &control.Call{ID: "a@gw"}})
			c.waitGone("alice")
			c.waitFor("Live calls: 0")

			b.Publish(control.Event{Type: control.EventAlarm, Time: time.Now(), Alarm: &control.Alarm{Name: control.AlarmDiskLow}})
			c.waitFor("no alarm")
		})
	}
}

func contains(s, sub string) bool { return len(sub) > 0 && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestScreensByKey(t *testing.T) {
	b := liveBackend(aliceCall())
	b.AddUser(t.Context(), control.User{Username: "bob", FullName: "Bob B", Extensions: []string{"2002"}, Mode: control.ModeOnDemand})
	c := startConsole(t, controltest.Serve(t, b), 80, 24)
	c.waitFor("alice")
	for _, step := range []struct {
		press func()
		want  []string
	}{
		{func() { c.typeText("2") }, []string{"Search", "Export to"}},
		{func() { c.typeText("3") }, []string{"USERNAME", "bob", "2002", "on-demand"}},
		{func() { c.typeText("4") }, []string{"Licence in force", "1 of 8 (channel)", "Acme", "2027-01-31"}},
		{func() { c.typeText("5") }, []string{"Published examples", "Help Desk", "1620", "channels"}},
		{func() { c.typeText("6") }, []string{"SINCE", "disk_low", "free space below the reserve"}},
		{func() { c.key(tcell.KeyF1) }, []string{"Live calls: 1", "alice"}},
		{func() { c.key(tcell.KeyF5) }, []string{"Published examples"}},
		{func() { c.typeText("?") }, []string{"switch screens"}},
		{func() { c.key(tcell.KeyEsc) }, []string{"Published examples"}},
	} {
		step.press()
		c.waitFor(step.want...)
	}
	c.waitGone("switch screens")
	c.typeText("q")
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("Run after q: %v", err)
		}
		c.done <- nil // for the cleanup
	case <-time.After(limit):
		t.Fatal("q did not quit")
	}
}

func TestRecordingsSearch(t *testing.T) {
	b := liveBackend()
	for i := range 3 {
		b.AddRecording(control.Recording{ID: fmt.Sprintf("202600000000%d", i+1), Start: t0.Add(time.Duration(i) * time.Minute),
			DurationMS: 65000, User: "alice", Extension: "2001", Remote: fmt.Sprintf("+1555820%04d", i),
			Direction: control.DirectionOut, Status: control.RecordingComplete, Codec: "PCMA", Size: 1 << 20,
			CallID: fmt.Sprintf("call-%d@gw", i+1)}, []byte("mp3"))
	}
	b.AddRecording(control.Recording{ID: "2026000000009", Start: t0, User: "carol", Extension: "2003", Remote: "+4930123",
		Status: control.RecordingComplete}, nil)
	c := startConsole(t, controltest.Serve(t, b), 80, 24)
	c.waitFor("connected")
	c.typeText("/")
	c.waitFor("Export to")
	c.key(tcell.KeyTab) // To
	c.key(tcell.KeyTab) // User
	c.typeText("alice")
	for range 6 { // Ext, Remote, Dir, Min s, Export to, the Search button
		c.key(tcell.KeyTab)
	}
	c.key(tcell.KeyEnter)
	c.waitFor("page 1, 3", "+15558200002", "+15558200000", "1:05", "2026000000003")
	if q := b.LastQuery(); q.User != "alice" || q.Limit != pageSize+1 {
		t.Errorf("query = %+v, want user alice and a page of %d (and one more)", q, pageSize)
	}
	c.waitGone("+4930123")
	c.key(tcell.KeyDown)
	c.waitFor("2026000000002")

	// The details of 2026000000002 are longer than their pane at 80x24:
	// Tab gives them the focus, End scrolls to their last line, Tab
	// gives it back to the results.
	c.waitGone("call-2@gw")
	c.key(tcell.KeyTab)
	c.key(tcell.KeyEnd)
	c.waitFor("call-2@gw")
	c.key(tcell.KeyTab)
	c.key(tcell.KeyUp)
	c.waitFor("2026000000003")
	c.waitGone("call-2@gw") // a new selection shows its details from the top

	// v verifies the selected recording: the answer in a dialog and, once
	// it is closed, in the details.
	c.waitFor("not verified")
	c.typeText("v")
	c.waitFor("Recording 2026000000003:", "OK")
	c.key(tcell.KeyEnter)
	c.waitUntil("the details' integrity line", func(s string) bool {
		return contains(s, "integrity  "+control.CheckIntact) && !contains(s, "not verified")
	})
}

func TestErrorModal(t *testing.T) {
	b := liveBackend()
	b.AddUser(t.Context(), control.User{Username: "bob", Extensions: []string{"2002"}})
	c := startConsole(t, controltest.Serve(t, b), 80, 24)
	c.typeText("3")
	c.waitFor("bob")
	b.RemoveUser(t.Context(), "bob") // someone else was quicker
	c.typeText("d")
	c.waitFor("Delete user bob")
	c.key(tcell.KeyTab) // to Yes
	c.key(tcell.KeyEnter)
	c.waitFor("failed", "not found", "404")
	c.key(tcell.KeyEsc)
	c.waitGone("not found")
	c.waitFor("USERNAME")
}

func TestReconnects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	stop := serveAt(t, path, liveBackend(aliceCall()))
	c := startConsole(t, path, 80, 24)
	c.waitFor("connected", "alice")
	stop()
	c.waitFor("disconnected, retrying in")
	c.waitFor("alice") // the last known state stays on screen

	bob := aliceCall()
	bob.ID, bob.User = "b@gw", "bobby"
	serveAt(t, path, liveBackend(bob))
	c.waitUntil("connected again with the new daemon's call", func(s string) bool {
		return contains(s, "bobby") && !contains(s, "alice") && !contains(s, "disconnected") && contains(s, "connected")
	})
}

// The Users screen edits the selected user: e opens its form filled in,
// Save sends the change.
func TestEditUser(t *testing.T) {
	b := liveBackend()
	b.AddUser(t.Context(), control.User{Username: "bob", FullName: "Bob B", Extensions: []string{"2002"}, Mode: control.ModeOnDemand})
	c := startConsole(t, controltest.Serve(t, b), 80, 24)
	c.typeText("3")
	c.waitFor("bob", "2002", "on-demand")
	c.typeText("e")
	c.waitFor("Edit bob", "Bob B")
	c.typeText("ster") // the full name field has the focus: "Bob Bster"
	for range 3 {      // to Extensions, Mode, Save
		c.key(tcell.KeyTab)
	}
	c.key(tcell.KeyEnter)
	c.waitGone("Edit bob")
	c.waitFor("Bob Bster") // in the table, reloaded after the save
	users, err := b.Users(t.Context())
	if err != nil || len(users) != 1 || users[0].FullName != "Bob Bster" || users[0].Mode != control.ModeOnDemand || users[0].Extensions[0] != "2002" {
		t.Fatalf("after the edit: %+v, %v", users, err)
	}
}
