package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/vault"
)

// targetState is what the archiver knows of a target since its start.
type targetState struct {
	kind      string
	prepared  bool
	downUntil time.Time
	failures  int // in a row
	lastErr   string
	copied    int64
	bytes     int64
	lastCopy  time.Time
	recent    []sample // the copies of the last minute, for the throughput
}

// sample is one copy's size and time.
type sample struct {
	at    time.Time
	bytes int64
}

// throughputWindow is the time the throughput is the mean of.
const throughputWindow = time.Minute

// up reports whether target name may be tried at now.
func (a *Archiver) up(name string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !now.Before(a.targets[name].downUntil)
}

// prepare readies t once; a failure puts it down.
func (a *Archiver) prepare(ctx context.Context, t *Target) error {
	a.mu.Lock()
	done := a.targets[t.Name()].prepared
	a.mu.Unlock()
	if done {
		return nil
	}
	if err := t.Prepare(ctx); err != nil {
		a.down(t.Name(), err, a.o.Now())
		a.o.Log.Warn("target not ready", "target", t.Name(), "err", err)
		return err
	}
	a.mu.Lock()
	a.targets[t.Name()].prepared = true
	a.mu.Unlock()
	return nil
}

// down leaves target name alone for a back-off after a failure.
func (a *Archiver) down(name string, err error, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.targets[name]
	s.failures++
	s.lastErr = err.Error()
	s.downUntil = now.Add(backoff(s.failures))
}

// copied counts a copy of size bytes to target name.
func (a *Archiver) copied(name string, size int64, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.targets[name]
	s.failures, s.lastErr, s.downUntil = 0, "", time.Time{}
	s.copied++
	s.bytes += size
	s.lastCopy = now
	s.recent = append(trim(s.recent, now), sample{now, size})
}

// trim drops the samples older than the throughput window.
func trim(ss []sample, now time.Time) []sample {
	i := 0
	for i < len(ss) && now.Sub(ss[i].at) > throughputWindow {
		i++
	}
	return append(ss[:0], ss[i:]...)
}

// backlog is the copy queue as the last pass found it.
type backlog struct {
	count  int
	bytes  int64
	oldest time.Time // start of the oldest recording waiting
}

func (b *backlog) add(rec vault.Recording) {
	b.count++
	b.bytes += rec.Size
	if b.oldest.IsZero() || rec.Start.Before(b.oldest) {
		b.oldest = rec.Start
	}
}

// setBacklog keeps the pass's backlog and raises or clears the backlog
// alarm.
func (a *Archiver) setBacklog(b backlog) {
	now := a.o.Now()
	raise := b.count > backlogCount || (!b.oldest.IsZero() && now.Sub(b.oldest) > backlogAge)
	a.mu.Lock()
	a.backlog = b
	changed := raise != a.alarm.Active
	if raise && !a.alarm.Active {
		a.alarm = control.Alarm{Name: AlarmBacklog, Active: true, Since: now.UTC(),
			Message: fmt.Sprintf("%d recordings wait to be copied, the oldest since %s", b.count, b.oldest.UTC().Format(time.RFC3339))}
	} else if !raise && a.alarm.Active {
		a.alarm = control.Alarm{Name: AlarmBacklog, Since: now.UTC()}
	}
	alarm := a.alarm
	a.mu.Unlock()
	if changed && a.o.Alarm != nil {
		a.o.Alarm(alarm)
	}
}

// Alarms are the archiver's active alarms.
func (a *Archiver) Alarms() []control.Alarm {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.alarm.Active {
		return []control.Alarm{a.alarm}
	}
	return nil
}

// Status is the storage part of the daemon's status.
func (a *Archiver) Status() *control.Storage {
	now := a.o.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &control.Storage{Node: a.o.Node, Backlog: a.backlog.count, BacklogBytes: a.backlog.bytes,
		OldestPending: a.backlog.oldest.UTC(), KeepLocalSeconds: -1}
	if a.backlog.oldest.IsZero() {
		st.OldestPending = time.Time{}
	}
	if a.o.KeepLocal >= 0 {
		st.KeepLocalSeconds = int64(a.o.KeepLocal / time.Second)
	}
	for i := range a.o.Targets {
		name := a.o.Targets[i].Name()
		s := a.targets[name]
		s.recent = trim(s.recent, now)
		var recent int64
		for _, x := range s.recent {
			recent += x.bytes
		}
		t := control.StorageTarget{Name: name, Kind: s.kind, State: "up", Copied: s.copied, CopiedBytes: s.bytes,
			BytesPerSecond: float64(recent) / throughputWindow.Seconds(), LastCopy: s.lastCopy.UTC(), Error: s.lastErr}
		if s.lastCopy.IsZero() {
			t.LastCopy = time.Time{}
		}
		if now.Before(s.downUntil) {
			t.State, t.RetryAt = "down", s.downUntil.UTC()
		}
		st.Targets = append(st.Targets, t)
	}
	return st
}
