package control_test

import (
	"context"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
)

func streamSetup(t *testing.T) (*controltest.Backend, *control.EventStream) {
	t.Helper()
	b := controltest.New()
	b.SetStatus(control.Status{Version: "0.1.0", CallsTotal: 7,
		License: control.License{Model: "channel", Count: 8},
		Alarms:  []control.Alarm{{Name: control.AlarmDiskLow, Active: true, Message: "low"}}})
	b.SetCalls([]control.Call{{ID: "one@gw", RecordID: "2026000000001", Start: t0}})
	c := &control.Client{Socket: controltest.Serve(t, b)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s, err := c.Events(ctx)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return b, s
}

func next(t *testing.T, s *control.EventStream) control.Event {
	t.Helper()
	ev, err := s.Next()
	if err != nil {
		t.Fatalf("next event: %v", err)
	}
	return ev
}

func TestStreamOpensWithSnapshot(t *testing.T) {
	b, s := streamSetup(t)
	ev := next(t, s)
	if ev.Seq != 1 || ev.Type != control.EventSnapshot || ev.Snapshot == nil {
		t.Fatalf("first event = %+v, want the snapshot, seq 1", ev)
	}
	snap := ev.Snapshot
	if len(snap.Calls) != 1 || snap.Calls[0].ID != "one@gw" || !snap.Calls[0].Start.Equal(t0) {
		t.Errorf("snapshot calls = %+v, want one@gw", snap.Calls)
	}
	if snap.Status.CallsTotal != 7 || snap.Status.LiveCalls != 1 || snap.Status.License.Count != 8 ||
		len(snap.Status.Alarms) != 1 || snap.Status.Alarms[0].Name != control.AlarmDiskLow {
		t.Errorf("snapshot status = %+v", snap.Status)
	}
	go func() {
		b.Publish(control.Event{Type: control.EventCallStarted, Time: t0, Call: &control.Call{ID: "two@gw"}})
		b.Publish(control.Event{Type: control.EventStats, Time: t0, Stats: &control.Stats{LiveCalls: 2}})
	}()
	if ev := next(t, s); ev.Seq != 2 || ev.Type != control.EventCallStarted || ev.Call == nil || ev.Call.ID != "two@gw" {
		t.Errorf("second event = %+v, want call.started seq 2", ev)
	}
	if ev := next(t, s); ev.Seq != 3 || ev.Type != control.EventStats {
		t.Errorf("third event = %+v, want stats seq 3", ev)
	}
}

func TestStreamEmptySnapshot(t *testing.T) {
	b := controltest.New()
	c := &control.Client{Socket: controltest.Serve(t, b)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Events(ctx)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer s.Close()
	ev := next(t, s)
	if ev.Type != control.EventSnapshot || ev.Snapshot == nil || ev.Snapshot.Calls == nil || len(ev.Snapshot.Calls) != 0 {
		t.Errorf("snapshot = %+v, want one with an empty (not null) call list", ev)
	}
}

// TestStreamResync: where the backend dropped events for a slow reader
// (its resync marker), the stream says so and sends the state anew.
func TestStreamResync(t *testing.T) {
	b, s := streamSetup(t)
	next(t, s)
	b.SetCalls(nil) // one@gw ended while its events were lost
	b.Publish(control.Event{Type: control.EventResync, Time: t0})
	if ev := next(t, s); ev.Seq != 2 || ev.Type != control.EventResync {
		t.Fatalf("event = %+v, want resync seq 2", ev)
	}
	ev := next(t, s)
	if ev.Seq != 3 || ev.Type != control.EventSnapshot || ev.Snapshot == nil {
		t.Fatalf("event = %+v, want a snapshot seq 3", ev)
	}
	if len(ev.Snapshot.Calls) != 0 || ev.Snapshot.Status.LiveCalls != 0 {
		t.Errorf("fresh snapshot = %+v, want no live call", ev.Snapshot)
	}
	go b.Publish(control.Event{Type: control.EventStats, Time: t0, Stats: &control.Stats{}})
	if ev := next(t, s); ev.Seq != 4 || ev.Type != control.EventStats {
		t.Errorf("event = %+v, want stats seq 4: numbering goes on", ev)
	}
}
