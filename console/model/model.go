package model

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// Model is what the console knows of the daemon. Its methods are safe for
// concurrent use: Apply and the connection setters from the stream's
// goroutine, the accessors from the UI's. The zero value is not ready:
// use New.
type Model struct {
	mu        sync.Mutex
	calls     map[string]control.Call
	status    control.Status
	alarms    []control.Alarm // on, in the order raised
	rates     history
	recent    []Recent
	conn      Connection
	lastSeq   uint64
	listeners []Listener
}

// New returns an empty model, connecting and stale.
func New() *Model {
	return &Model{calls: make(map[string]control.Call), conn: Connection{Stale: true}}
}

// Subscribe adds l to the listeners told of each change.
func (m *Model) Subscribe(l Listener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.listeners = append(m.listeners, l)
}

// Unsubscribe removes l; it may still be told of a change being
// announced as it returns.
func (m *Model) Unsubscribe(l Listener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.listeners = slices.DeleteFunc(slices.Clone(m.listeners), func(o Listener) bool { return o == l })
}

// done releases the lock taken by a change, then tells the listeners
// (outside the lock, so they may read the model).
func (m *Model) done(what Change) {
	ls := m.listeners
	m.mu.Unlock()
	if what == 0 {
		return
	}
	for _, l := range ls {
		l.Changed(what)
	}
}

// Calls returns the live calls, oldest first.
func (m *Model) Calls() []control.Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]control.Call, 0, len(m.calls))
	for _, c := range m.calls {
		out = append(out, cloneCall(c))
	}
	slices.SortFunc(out, func(a, b control.Call) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Call returns the live call of that id (the recording session's
// Call-ID).
func (m *Model) Call(id string) (control.Call, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[id]
	return cloneCall(c), ok
}

// Status returns the daemon's status as last known: the snapshot's,
// brought up to date by stats and alarm events (LiveCalls counts the
// model's live calls).
func (m *Model) Status() control.Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.status
	st.RejectedBy = maps.Clone(st.RejectedBy)
	st.Sealed = maps.Clone(st.Sealed)
	st.Alarms = slices.Clone(m.alarms)
	st.LiveCalls = len(m.calls)
	return st
}

// Alarms returns the alarms on, in the order they were raised.
func (m *Model) Alarms() []control.Alarm {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.alarms)
}

// Licence returns the licence in force and its use, as of the last
// snapshot or stats event.
func (m *Model) Licence() control.License {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status.License
}

// Rate returns the call rate of the last stats event (or snapshot).
func (m *Model) Rate() control.CallRate {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status.CallsPerSecond
}

// RateHistory returns the call rate of each stats event over the last
// HistoryWindow, oldest first: one point a second, for a sparkline. It
// survives reconnections and snapshots (it is the console's memory, not
// the daemon's).
func (m *Model) RateHistory() []RatePoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rates.since()
}

// Recent returns the recordings sealed, failed or destroyed lately, newest
// first (at most RecentMax).
func (m *Model) Recent() []Recent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.recent)
}

// Connection returns the state of the link to the daemon.
func (m *Model) Connection() Connection {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conn
}

// SetConnected records that a stream opened at at. The model stays stale
// until the stream's snapshot.
func (m *Model) SetConnected(at time.Time) {
	m.mu.Lock()
	m.conn.State, m.conn.Since = Connected, at
	m.conn.Failures, m.conn.RetryAt = 0, time.Time{}
	m.lastSeq = 0 // a new stream numbers from 1
	m.done(ChangeConnection)
}

// SetRetrying records that the stream broke, or failed to open, at at
// with err, and that the next attempt is due at retryAt. What the model
// holds stays, to be shown as the last known state.
func (m *Model) SetRetrying(err error, at, retryAt time.Time) {
	m.mu.Lock()
	if m.conn.State != Retrying {
		m.conn.Since = at
	}
	m.conn.State = Retrying
	if err != nil {
		m.conn.LastError = err.Error()
	}
	m.conn.Failures++
	m.conn.RetryAt = retryAt
	m.done(ChangeConnection)
}

func cloneCall(c control.Call) control.Call {
	c.Participants = slices.Clone(c.Participants)
	c.Legs = slices.Clone(c.Legs)
	return c
}
