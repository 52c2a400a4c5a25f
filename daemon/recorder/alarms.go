package recorder

import (
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// alarmBoard holds the alarms a part of the daemon raised and has not
// cleared, and publishes each change on the event stream.
type alarmBoard struct {
	log    *slog.Logger
	events *Hub
	now    func() time.Time

	mu     sync.Mutex
	alarms map[string]control.Alarm
	order  []string // names of the alarms on, in the order they were raised
}

func newAlarmBoard(log *slog.Logger, events *Hub, now func() time.Time) *alarmBoard {
	return &alarmBoard{log: log, events: events, now: now, alarms: make(map[string]control.Alarm)}
}

// raise activates an alarm and publishes it; raising one that is on
// already does nothing (it keeps its time and message).
func (b *alarmBoard) raise(name, msg string) {
	b.mu.Lock()
	if _, on := b.alarms[name]; on {
		b.mu.Unlock()
		return
	}
	a := control.Alarm{Name: name, Active: true, Since: b.now().UTC(), Message: msg}
	b.alarms[name] = a
	b.order = append(b.order, name)
	b.mu.Unlock()
	b.log.Error("alarm raised", "alarm", name, "message", msg)
	b.events.publish(control.Event{Type: control.EventAlarm, Time: a.Since, Alarm: &a})
}

// clear deactivates an alarm that is on and publishes that.
func (b *alarmBoard) clear(name string) {
	b.mu.Lock()
	a, on := b.alarms[name]
	delete(b.alarms, name)
	b.order = slices.DeleteFunc(b.order, func(n string) bool { return n == name })
	b.mu.Unlock()
	if !on {
		return
	}
	a.Active = false
	b.log.Info("alarm cleared", "alarm", name)
	b.events.publish(control.Event{Type: control.EventAlarm, Time: b.now().UTC(), Alarm: &a})
}

// active returns the alarms that are on, in the order they were raised.
func (b *alarmBoard) active() []control.Alarm {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]control.Alarm, 0, len(b.order))
	for _, name := range b.order {
		out = append(out, b.alarms[name])
	}
	return out
}
