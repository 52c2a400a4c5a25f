// Package model is the console's picture of a running callvaultd: the live
// calls, the status figures (call rate, licence, disk), the alarms on, the
// recent recordings and the state of the connection, kept up to date from
// the control API's event stream.
//
// A [Model] is fed events with [Model.Apply] and read through accessors
// that return copies, from any goroutine. Views subscribe a [Listener] and
// redraw what the [Change] flags name. [Follow] connects a Model to the
// daemon and keeps it connected: when the stream breaks it marks the
// model "disconnected, retrying", waits, reconnects, and the new stream's
// snapshot brings the model back.
//
// The stream opens with a snapshot and numbers its events (seq). The model
// applies every event as a state to set, so an event older than the
// snapshot that follows it does no harm; a resync or a gap in the
// numbering makes the model stale until the next snapshot.
//
// The package draws nothing: it imports no terminal library, so the
// model is tested without a screen or a clock.
package model
