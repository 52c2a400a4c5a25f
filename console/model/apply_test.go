package model

import (
	"fmt"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func snapshot(seq uint64, calls ...control.Call) control.Event {
	return control.Event{Seq: seq, Type: control.EventSnapshot, Time: t0, Snapshot: &control.Snapshot{
		Status: control.Status{Version: "1.0", CallsTotal: 9, License: control.License{Model: "channel", Count: 8, Used: len(calls)},
			Disk:   control.Disk{Path: "/var/lib/callvault", FreeBytes: 40},
			Alarms: []control.Alarm{{Name: control.AlarmDiskLow, Active: true, Since: t0, Message: "low"}}},
		Calls: calls}}
}

func callEvent(seq uint64, typ string, c control.Call) control.Event {
	return control.Event{Seq: seq, Type: typ, Time: t0, Call: &c}
}

func stats(seq uint64, at time.Time, last1s float64) control.Event {
	return control.Event{Seq: seq, Type: control.EventStats, Time: at,
		Stats: &control.Stats{LiveCalls: 1, CallsPerSecond: control.CallRate{Last1s: last1s, Last5s: last1s / 2}}}
}

func ids(calls []control.Call) string {
	s := ""
	for _, c := range calls {
		s += c.ID + "(" + c.State + ") "
	}
	return s
}

func TestApplyCallLifecycle(t *testing.T) {
	m := New()
	if c := m.Connection(); !c.Stale || c.State != Connecting {
		t.Errorf("new model connection = %+v, want connecting and stale", c)
	}
	one := control.Call{ID: "one@gw", Start: t0, State: control.StateRecording}
	if got := m.Apply(snapshot(1, one)); !got.Has(ChangeCalls | ChangeStats | ChangeAlarms | ChangeLicence | ChangeConnection) {
		t.Errorf("snapshot changed %b, want everything it holds", got)
	}
	if m.Connection().Stale {
		t.Error("stale after the snapshot")
	}
	two := control.Call{ID: "two@gw", Start: t0.Add(time.Second), State: control.StateRecording}
	m.Apply(callEvent(2, control.EventCallStarted, two))
	two.State = control.StatePaused
	if got := m.Apply(callEvent(3, control.EventCallUpdated, two)); got != ChangeCalls {
		t.Errorf("update changed %b, want calls", got)
	}
	if got := ids(m.Calls()); got != "one@gw(recording) two@gw(paused) " {
		t.Errorf("calls = %s", got)
	}
	if got := m.Apply(callEvent(4, control.EventCallEnded, one)); got != ChangeCalls {
		t.Errorf("end changed %b, want calls", got)
	}
	if got := ids(m.Calls()); got != "two@gw(paused) " {
		t.Errorf("calls after end = %s", got)
	}
	if c, ok := m.Call("two@gw"); !ok || !c.Start.Equal(t0.Add(time.Second)) {
		t.Errorf("Call(two) = %+v, %v: want it with its start", c, ok)
	}
	st := m.Status()
	if st.LiveCalls != 1 || st.CallsTotal != 9 || st.Disk.FreeBytes != 40 || m.Licence().Count != 8 {
		t.Errorf("status = %+v", st)
	}
	if m.Connection().Stale {
		t.Error("stale after numbered events")
	}
}

// TestApplyOlderEventsAgain: events that happened just before the snapshot
// may follow it; applying them leaves the model as the stream's end says.
func TestApplyOlderEventsAgain(t *testing.T) {
	m := New()
	one := control.Call{ID: "one@gw", Start: t0, State: control.StateRecording}
	m.Apply(snapshot(1, one))
	m.Apply(stats(2, t0.Add(time.Second), 3))
	// Replayed: the start of a call the snapshot has, the end of a call it
	// lacks already, an alarm it shows on, a stats event seen.
	if got := m.Apply(callEvent(3, control.EventCallStarted, one)); got != ChangeCalls {
		t.Errorf("replayed start changed %b", got)
	}
	if got := m.Apply(callEvent(4, control.EventCallEnded, control.Call{ID: "gone@gw"})); got != 0 {
		t.Errorf("end of an unknown call changed %b, want nothing", got)
	}
	low := control.Alarm{Name: control.AlarmDiskLow, Active: true, Since: t0, Message: "low"}
	if got := m.Apply(control.Event{Seq: 5, Type: control.EventAlarm, Time: t0, Alarm: &low}); got != 0 {
		t.Errorf("alarm on again changed %b, want nothing", got)
	}
	m.Apply(stats(6, t0.Add(time.Second), 3))
	if got := ids(m.Calls()); got != "one@gw(recording) " {
		t.Errorf("calls = %s", got)
	}
	if a := m.Alarms(); len(a) != 1 || a[0] != low {
		t.Errorf("alarms = %+v", a)
	}
	if h := m.RateHistory(); len(h) != 1 || h[0].CPS != 3 {
		t.Errorf("history = %+v, want one point", h)
	}
	if m.Connection().Stale {
		t.Error("stale")
	}
}

func TestApplyAlarms(t *testing.T) {
	m := New()
	m.Apply(snapshot(1))
	full := control.Alarm{Name: control.AlarmDiskFull, Active: true, Since: t0, Message: "full"}
	if got := m.Apply(control.Event{Seq: 2, Type: control.EventAlarm, Alarm: &full}); got != ChangeAlarms {
		t.Errorf("raise changed %b", got)
	}
	if a := m.Alarms(); len(a) != 2 || a[0].Name != control.AlarmDiskLow || a[1].Name != control.AlarmDiskFull {
		t.Errorf("alarms = %+v, want disk_low then disk_full", a)
	}
	off := control.Alarm{Name: control.AlarmDiskLow}
	if got := m.Apply(control.Event{Seq: 3, Type: control.EventAlarm, Alarm: &off}); got != ChangeAlarms {
		t.Errorf("clear changed %b", got)
	}
	if got := m.Apply(control.Event{Seq: 4, Type: control.EventAlarm, Alarm: &off}); got != 0 {
		t.Errorf("clearing an alarm off changed %b", got)
	}
	if a := m.Status().Alarms; len(a) != 1 || a[0].Name != control.AlarmDiskFull {
		t.Errorf("status alarms = %+v, want disk_full", a)
	}
}

func TestApplyGapMakesStale(t *testing.T) {
	m := New()
	m.Apply(snapshot(1))
	m.Apply(stats(2, t0, 1))
	if got := m.Apply(stats(4, t0.Add(time.Second), 1)); !got.Has(ChangeConnection | ChangeStats) {
		t.Errorf("gap changed %b, want the connection (stale) and the stats", got)
	}
	if !m.Connection().Stale || m.Connection().Live() {
		t.Fatal("not stale after a gap in seq")
	}
	m.Apply(stats(5, t0.Add(2*time.Second), 1))
	if !m.Connection().Stale {
		t.Error("no longer stale before a snapshot")
	}
	m.Apply(snapshot(6))
	if m.Connection().Stale {
		t.Error("still stale after the snapshot")
	}
}

func TestApplyResync(t *testing.T) {
	m := New()
	one := control.Call{ID: "one@gw", Start: t0}
	m.Apply(snapshot(1, one))
	if got := m.Apply(control.Event{Seq: 2, Type: control.EventResync}); got != ChangeConnection {
		t.Errorf("resync changed %b, want the connection", got)
	}
	m.Apply(callEvent(3, control.EventCallUpdated, one))
	if !m.Connection().Stale {
		t.Fatal("an event after a resync cleared stale; only a snapshot may")
	}
	m.Apply(snapshot(4)) // one@gw ended meanwhile
	if m.Connection().Stale || len(m.Calls()) != 0 {
		t.Errorf("after the snapshot: stale %v, calls %s", m.Connection().Stale, ids(m.Calls()))
	}
}

func TestNewStreamNumbersFromOne(t *testing.T) {
	m := New()
	m.SetConnected(t0)
	m.Apply(snapshot(1))
	m.Apply(stats(2, t0, 1))
	m.SetRetrying(fmt.Errorf("connection reset"), t0, t0.Add(time.Second))
	m.SetConnected(t0.Add(time.Second))
	m.Apply(snapshot(1))
	m.Apply(stats(2, t0.Add(time.Second), 1))
	if c := m.Connection(); !c.Live() || c.LastError != "connection reset" || c.Failures != 0 {
		t.Errorf("connection = %+v, want live, the last error kept", c)
	}
}

func TestRateHistory(t *testing.T) {
	m := New()
	m.Apply(snapshot(1))
	for i := range 1000 {
		m.Apply(stats(uint64(i+2), t0.Add(time.Duration(i)*time.Second), float64(i)))
	}
	h := m.RateHistory()
	if len(h) != historyCap || h[0].CPS != 100 || h[len(h)-1].CPS != 999 {
		t.Fatalf("history: %d points from %v to %v, want %d from 100 to 999", len(h), h[0], h[len(h)-1], historyCap)
	}
	for i := 1; i < len(h); i++ {
		if !h[i].At.After(h[i-1].At) {
			t.Fatalf("point %d not after %d", i, i-1)
		}
	}
	if r := m.Rate(); r.Last1s != 999 || m.Status().CPS != 999.0/2 {
		t.Errorf("rate = %+v, cps %v", r, m.Status().CPS)
	}
	// After 20 minutes away, the old points are out of the window.
	m.Apply(stats(2000, t0.Add(time.Hour), 7))
	if h := m.RateHistory(); len(h) != 1 || h[0].CPS != 7 {
		t.Errorf("history after a long gap = %d points, want the new one alone", len(h))
	}
	m.Apply(snapshot(1))
	if len(m.RateHistory()) != 1 {
		t.Error("a snapshot wiped the history")
	}
}

func TestRecent(t *testing.T) {
	m := New()
	m.Apply(snapshot(1))
	rec := control.Recording{ID: "2026000000001", Status: control.RecordingComplete}
	sealed := control.Event{Seq: 2, Type: control.EventRecordingSealed, Time: t0, Recording: &rec}
	if got := m.Apply(sealed); got != ChangeRecent {
		t.Errorf("sealed changed %b", got)
	}
	failed := callEvent(3, control.EventRecordingFailed, control.Call{ID: "b@gw", RecordID: "2026000000002"})
	failed.Error = "disk full"
	m.Apply(failed)
	m.Apply(callEvent(4, control.EventRecordingDestroyed, control.Call{ID: "c@gw", RecordID: "2026000000003"}))
	sealed.Seq = 5
	m.Apply(sealed) // seen again
	r := m.Recent()
	if len(r) != 3 || r[0].Type != control.EventRecordingDestroyed || r[1].Error != "disk full" || r[2].Recording.ID != rec.ID {
		t.Fatalf("recent = %+v", r)
	}
	for i := range RecentMax + 5 {
		m.Apply(control.Event{Seq: uint64(6 + i), Type: control.EventRecordingSealed, Recording: &control.Recording{ID: fmt.Sprint(i)}})
	}
	if r := m.Recent(); len(r) != RecentMax || r[0].Recording.ID != fmt.Sprint(RecentMax+4) {
		t.Errorf("recent: %d, newest %+v", len(r), r[0])
	}
}

type flags struct{ got []Change }

func (f *flags) Changed(what Change) { f.got = append(f.got, what) }

func TestListeners(t *testing.T) {
	m := New()
	a, b := &flags{}, &flags{}
	m.Subscribe(a)
	m.Subscribe(b)
	m.Apply(snapshot(1))
	m.Apply(stats(2, t0, 1))
	m.Apply(callEvent(3, control.EventCallEnded, control.Call{ID: "none"})) // no change, no call
	m.Unsubscribe(b)
	m.SetRetrying(fmt.Errorf("eof"), t0, t0)
	want := []Change{ChangeCalls | ChangeStats | ChangeAlarms | ChangeLicence | ChangeConnection, ChangeStats, ChangeConnection}
	if fmt.Sprint(a.got) != fmt.Sprint(want) {
		t.Errorf("a got %v, want %v", a.got, want)
	}
	if fmt.Sprint(b.got) != fmt.Sprint(want[:2]) {
		t.Errorf("b got %v, want %v", b.got, want[:2])
	}
}

// A listener may read the model: it is called outside the lock.
type reader struct {
	m     *Model
	calls int
}

func (r *reader) Changed(Change) { r.calls = len(r.m.Calls()) }

func TestListenerReads(t *testing.T) {
	m := New()
	r := &reader{m: m}
	m.Subscribe(r)
	m.Apply(snapshot(1, control.Call{ID: "x"}))
	if r.calls != 1 {
		t.Errorf("listener read %d calls", r.calls)
	}
}

// The licence's use comes with every stats event, not only in snapshots.
func TestApplyStatsCarryLicenceUse(t *testing.T) {
	m := New()
	m.Apply(control.Event{Seq: 1, Type: control.EventSnapshot, Snapshot: &control.Snapshot{
		Status: control.Status{License: control.License{Model: "channel", Count: 8, Evaluation: true}}}})
	ev := control.Event{Seq: 2, Type: control.EventStats, Time: time.Now(), Stats: &control.Stats{LiveCalls: 1,
		License: control.License{Model: "channel", Count: 8, Used: 1, Evaluation: true}}}
	if what := m.Apply(ev); what&ChangeLicence == 0 || m.Licence().Used != 1 {
		t.Fatalf("stats with a licence in use: change %v, licence %+v", what, m.Licence())
	}
	ev.Seq = 3
	if what := m.Apply(ev); what&ChangeLicence != 0 {
		t.Errorf("the same licence again: change %v, want no licence change", what)
	}
}

// TestApplyStatsLegsAndDisk: the once-a-second stats event moves the live
// calls' packet counts and the disk figures, and leaves alone a call the
// model does not know.
func TestApplyStatsLegsAndDisk(t *testing.T) {
	m := New()
	one := control.Call{ID: "one@gw", Start: t0, Legs: []control.Leg{{Label: "1", Packets: 10}, {Label: "2", Packets: 9}}}
	m.Apply(snapshot(1, one))
	legs := []control.Leg{{Label: "1", Packets: 60}, {Label: "2", Packets: 58, LegCounters: control.LegCounters{Concealed: 2}}}
	ev := stats(2, t0.Add(time.Second), 1)
	ev.Stats.Calls = []control.CallLegs{{ID: "one@gw", Legs: legs}, {ID: "stranger@gw", Legs: legs}}
	ev.Stats.Disk = &control.Disk{FreeBytes: 30, TotalBytes: 100, Usage: &control.DiskUsage{RecordingsBytes: 50}}
	if got := m.Apply(ev); !got.Has(ChangeCalls | ChangeStats) {
		t.Errorf("stats changed %b, want calls and stats", got)
	}
	calls := m.Calls()
	if len(calls) != 1 || fmt.Sprint(calls[0].Legs) != fmt.Sprint(legs) {
		t.Errorf("calls after stats = %+v, want one@gw only, with the new legs", calls)
	}
	d := m.Status().Disk
	if d.FreeBytes != 30 || d.Path != "/var/lib/callvault" || d.Usage == nil || d.Usage.RecordingsBytes != 50 {
		t.Errorf("disk after stats = %+v, want the stats' figures and the snapshot's path", d)
	}
	ev = stats(3, t0.Add(2*time.Second), 1)
	ev.Stats.Calls = []control.CallLegs{{ID: "one@gw", Legs: legs}}
	if got := m.Apply(ev); got.Has(ChangeCalls) {
		t.Errorf("the same legs again changed %b, want no call change", got)
	}
}
