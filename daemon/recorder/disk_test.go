package recorder

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

func TestNextLevel(t *testing.T) {
	const r = 1600 // reserve; floor 800, margin 100
	cases := []struct {
		prev diskLevel
		free uint64
		want diskLevel
	}{
		{diskOK, 5000, diskOK},
		{diskOK, 1600, diskOK},
		{diskOK, 1599, diskLow},
		{diskOK, 799, diskFull},
		{diskLow, 1650, diskLow}, // inside the margin: stays low
		{diskLow, 1700, diskOK},
		{diskLow, 800, diskLow},
		{diskFull, 850, diskFull}, // inside the margin above the floor
		{diskFull, 900, diskLow},
		{diskFull, 1700, diskOK},
		{diskOK, 0, diskFull},
	}
	for _, c := range cases {
		if got := nextLevel(c.prev, c.free, r); got != c.want {
			t.Errorf("nextLevel(%v, %d, %d) = %v, want %v", c.prev, c.free, r, got, c.want)
		}
	}
}

func TestParseReserve(t *testing.T) {
	for in, want := range map[string]Reserve{
		"1GiB":        {bytes: 1 << 30},
		"512MiB":      {bytes: 512 << 20},
		"2GB":         {bytes: 2e9},
		"1048576":     {bytes: 1 << 20},
		"5%":          {percent: 5},
		"1GiB, 0.5 %": {bytes: 1 << 30, percent: 0.5},
		"2%,100 MiB":  {bytes: 100 << 20, percent: 2},
	} {
		got, err := ParseReserve(in)
		if err != nil || got != want {
			t.Errorf("ParseReserve(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1GiB,", "lots", "-1GiB", "60%", "1GiB, 2GiB", "1%, 2%", "x%"} {
		if _, err := ParseReserve(in); err == nil {
			t.Errorf("ParseReserve(%q) accepted", in)
		}
	}
	r := Reserve{bytes: 1 << 30, percent: 1}
	if got := r.of(10 << 30); got != 1<<30 {
		t.Errorf("1GiB,1%% of 10 GiB = %d", got)
	}
	if got := r.of(1000 << 30); got != 10<<30 {
		t.Errorf("1GiB,1%% of 1000 GiB = %d", got)
	}
}

// fakeSpace is a file system whose free space the test sets.
type fakeSpace struct {
	free, total uint64
	released    int
	restored    int
}

func (f *fakeSpace) Space() (uint64, uint64, error) { return f.free, f.total, nil }
func (f *fakeSpace) Preallocate() error             { return nil }
func (f *fakeSpace) ReleaseReserve() (bool, error)  { f.released++; return f.released == 1, nil }
func (f *fakeSpace) RestoreReserve() error          { f.restored++; return nil }

func TestDiskGuardLevelsAlarmsAndHangup(t *testing.T) {
	fs := &fakeSpace{free: 10 << 30, total: 20 << 30}
	events := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := events.subscribe(ctx)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	g := NewDiskGuard(fs, Reserve{bytes: 1 << 30}, discardLog(), events, func() time.Time { return now })
	var hangups []string
	g.hangup = func(reason string) { hangups = append(hangups, reason) }

	g.Check()
	if err := g.admit(); err != nil {
		t.Fatalf("admit with 10 GiB free: %v", err)
	}
	fs.free = 700 << 20 // below the reserve, above the 512 MiB floor
	g.Check()
	err := g.admit()
	if err == nil || !strings.Contains(err.Error(), "700 MiB free, 1024 MiB kept in reserve") {
		t.Errorf("admit below the reserve: %v", err)
	}
	if ev := <-sub; ev.Type != control.EventAlarm || ev.Alarm.Name != control.AlarmDiskLow || !ev.Alarm.Active {
		t.Errorf("event = %+v, want disk_low raised", ev)
	}
	if len(hangups) != 0 {
		t.Errorf("calls hung up above the floor: %v", hangups)
	}
	fs.free = 100 << 20
	g.Check()
	g.Check() // a second reading at the same level changes nothing
	if len(hangups) != 1 || hangups[0] != "disk_full" {
		t.Errorf("hangups = %v, want one disk_full", hangups)
	}
	if ev := <-sub; ev.Alarm == nil || ev.Alarm.Name != control.AlarmDiskFull || !ev.Alarm.Active {
		t.Errorf("event = %+v, want disk_full raised", ev)
	}
	if fs.released < 1 {
		t.Error("index reserve not released below the floor")
	}
	_, _, _, alarms := g.state()
	if len(alarms) != 2 {
		t.Errorf("alarms = %+v, want disk_low and disk_full", alarms)
	}
	fs.free = 5 << 30
	g.Check()
	if err := g.admit(); err != nil {
		t.Errorf("admit after space returned: %v", err)
	}
	cleared := map[string]bool{}
	for range 2 {
		ev := <-sub
		if ev.Alarm == nil || ev.Alarm.Active {
			t.Errorf("event = %+v, want an alarm cleared", ev)
			continue
		}
		cleared[ev.Alarm.Name] = true
	}
	if !cleared[control.AlarmDiskLow] || !cleared[control.AlarmDiskFull] {
		t.Errorf("cleared = %v", cleared)
	}
	if _, _, _, alarms := g.state(); len(alarms) != 0 || fs.restored != 1 {
		t.Errorf("after recovery: alarms %+v, reserve restored %d times", alarms, fs.restored)
	}
}
