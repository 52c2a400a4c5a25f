package model

// Change says what an event changed, so that a view redraws only that.
type Change uint

// The parts of a Model that change.
const (
	ChangeCalls      Change = 1 << iota // live calls
	ChangeStats                         // status figures and the call rate history
	ChangeAlarms                        // alarms on
	ChangeLicence                       // the licence in force and its use
	ChangeConnection                    // connected, retrying, stale
	ChangeRecent                        // recent recordings
)

// Has reports whether c includes every flag of what.
func (c Change) Has(what Change) bool { return c&what == what && what != 0 }

// Listener is told of each change of a Model. Changed runs on the
// goroutine that applied the change (the stream reader, under Follow),
// after the model's lock is released: it may read the model, and must
// return soon (a tview view queues a redraw). A Listener must be
// comparable (a pointer, say) for Unsubscribe to find it.
type Listener interface {
	Changed(what Change)
}
