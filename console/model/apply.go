package model

import (
	"slices"

	"github.com/callvault/callvault/daemon/control"
)

// Apply applies one event of the stream and tells the listeners what
// changed, which it also returns. Events are applied as states to set, so
// one seen again after a snapshot leaves the model as it was. Unknown
// event types change nothing (but count in the numbering).
func (m *Model) Apply(ev control.Event) Change {
	m.mu.Lock()
	what := m.applyLocked(ev)
	m.done(what)
	return what
}

func (m *Model) applyLocked(ev control.Event) Change {
	var what Change
	if ev.Type != control.EventSnapshot && ev.Seq != 0 && m.lastSeq != 0 && ev.Seq != m.lastSeq+1 && !m.conn.Stale {
		m.conn.Stale = true // events were missed: wait for a snapshot
		what |= ChangeConnection
	}
	if ev.Seq != 0 {
		m.lastSeq = ev.Seq
	}
	switch ev.Type {
	case control.EventSnapshot:
		if ev.Snapshot != nil {
			what |= m.replace(*ev.Snapshot)
		}
	case control.EventResync:
		if !m.conn.Stale {
			m.conn.Stale = true
			what |= ChangeConnection
		}
	case control.EventCallStarted, control.EventCallUpdated:
		if ev.Call != nil && ev.Call.ID != "" {
			m.calls[ev.Call.ID] = cloneCall(*ev.Call)
			what |= ChangeCalls
		}
	case control.EventCallEnded:
		if ev.Call != nil {
			if _, ok := m.calls[ev.Call.ID]; ok {
				delete(m.calls, ev.Call.ID)
				what |= ChangeCalls
			}
		}
	case control.EventRecordingSealed, control.EventRecordingFailed, control.EventRecordingDestroyed:
		r := Recent{Type: ev.Type, At: ev.Time, Error: ev.Error}
		if ev.Recording != nil {
			rec := *ev.Recording
			r.Recording = &rec
		}
		if ev.Call != nil {
			c := cloneCall(*ev.Call)
			r.Call = &c
		}
		if r.Recording != nil || r.Call != nil {
			m.recent = addRecent(m.recent, r)
			what |= ChangeRecent
		}
	case control.EventAlarm:
		if ev.Alarm != nil {
			what |= m.setAlarm(*ev.Alarm)
		}
	case control.EventStats:
		if ev.Stats != nil {
			m.status.CallsPerSecond = ev.Stats.CallsPerSecond
			m.status.CPS = ev.Stats.CallsPerSecond.Last5s
			m.rates.add(RatePoint{At: ev.Time, CPS: ev.Stats.CallsPerSecond.Last1s})
			what |= ChangeStats
			if l := ev.Stats.License; l.Model != "" && l != m.status.License {
				m.status.License = l
				what |= ChangeLicence
			}
			if d := ev.Stats.Disk; d != nil {
				path := m.status.Disk.Path
				m.status.Disk = *d
				m.status.Disk.Path = path // the stats leave it out
			}
			what |= m.setLegs(ev.Stats.Calls)
		}
	}
	return what
}

// setLegs takes the live calls' legs from a stats event; a call the
// model does not know (yet, or any more) is left to its own events.
func (m *Model) setLegs(calls []control.CallLegs) Change {
	var what Change
	for _, cl := range calls {
		c, ok := m.calls[cl.ID]
		if !ok || slices.Equal(c.Legs, cl.Legs) {
			continue
		}
		c.Legs = slices.Clone(cl.Legs)
		m.calls[cl.ID] = c
		what = ChangeCalls
	}
	return what
}

// replace takes a snapshot's state whole; the rate history and recent
// recordings, the console's own memory, stay.
func (m *Model) replace(s control.Snapshot) Change {
	m.calls = make(map[string]control.Call, len(s.Calls))
	for _, c := range s.Calls {
		m.calls[c.ID] = cloneCall(c)
	}
	m.status = s.Status
	m.alarms = nil
	for _, a := range s.Status.Alarms {
		if a.Active {
			m.alarms = append(m.alarms, a)
		}
	}
	m.status.Alarms = nil
	m.conn.Stale = false
	return ChangeCalls | ChangeStats | ChangeAlarms | ChangeLicence | ChangeConnection
}

// setAlarm raises or clears an alarm; raising one that is on updates it
// where it stands.
func (m *Model) setAlarm(a control.Alarm) Change {
	i := slices.IndexFunc(m.alarms, func(o control.Alarm) bool { return o.Name == a.Name })
	switch {
	case a.Active && i >= 0:
		if m.alarms[i] == a {
			return 0
		}
		m.alarms = slices.Clone(m.alarms)
		m.alarms[i] = a
	case a.Active:
		m.alarms = append(slices.Clone(m.alarms), a)
	case i >= 0:
		m.alarms = slices.Delete(slices.Clone(m.alarms), i, i+1)
	default:
		return 0
	}
	return ChangeAlarms
}
