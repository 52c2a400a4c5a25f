package phone

import (
	"context"
	"errors"

	"github.com/callvault/callvault/internal/vocab"
)

// Trigger is the recorder's side of the service: it applies action a to
// the live call of extension ext and says what happened. It is called
// with a context that ends after a few seconds, even when the phone
// gives up sooner, so an action is not cut short halfway.
//
// An error is shown on the phone as its message (the HTTP status stays
// 200: phones show only a generic failure for anything else). Return
// ErrNoCall, or ErrNotAllowed wrapped with the reason, for the expected
// refusals; they get their own wording and softkeys.
type Trigger func(ctx context.Context, ext string, a Action) (Result, error)

// Result is what an action did, in words the phone can show.
type Result struct {
	// Call names the call: the remote number, or the recording's id when
	// there is no number. Optional.
	Call string
	// State is the recording's state after the action, one of the State
	// words when it is known (others are shown as they are).
	State string
}

// States of a call's recording: the recorder's words (vocab), and
// StateStopped; the softkeys offered after an action follow from them.
const (
	StateRecording = vocab.StateRecording
	StateWaiting   = vocab.StateWaiting
	StateStopped   = "stopped" // the same as StateWaiting, in fewer words
	StatePaused    = vocab.StatePaused
	StateUnkept    = vocab.StateUnkept
	StateKept      = vocab.StateKept
)

var (
	// ErrNoCall: the extension has no live recorded call. The phone shows
	// "No call of extension EXT is being recorded." and offers a retry.
	ErrNoCall = errors.New("no call of this extension is being recorded")
	// ErrNotAllowed: the action means nothing for this user or call (keep
	// on an Always On user, start on a Live Keep one, ...). Wrap it with
	// the reason: the phone shows the whole message.
	ErrNotAllowed = errors.New("not allowed")
)
