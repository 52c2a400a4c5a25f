package model

import "time"

// LinkState is where the model's connection to the daemon stands.
type LinkState int

const (
	// Connecting: not connected yet (the first attempt).
	Connecting LinkState = iota
	// Connected: the event stream is open.
	Connected
	// Retrying: the stream broke or could not open; Follow tries again at
	// RetryAt.
	Retrying
)

func (s LinkState) String() string {
	switch s {
	case Connected:
		return "connected"
	case Retrying:
		return "disconnected, retrying"
	default:
		return "connecting"
	}
}

// Connection is the state of the model's link to the daemon.
type Connection struct {
	State LinkState
	// Since is when State began.
	Since time.Time
	// LastError is why the stream last broke or failed to open; kept
	// after reconnecting, "" if it never did.
	LastError string
	// Failures counts the attempts failed in a row (0 once connected).
	Failures int
	// RetryAt is when the next attempt is due, while Retrying.
	RetryAt time.Time
	// Stale is true while the model may lack changes: before the first
	// snapshot, and after a resync or a gap in the stream's numbering
	// until the snapshot that follows.
	Stale bool
}

// Live reports whether the model shows the daemon as it is now: connected
// and not stale.
func (c Connection) Live() bool { return c.State == Connected && !c.Stale }
