package recorder

import (
	"errors"
	"fmt"

	"github.com/callvault/callvault/internal/vocab"
)

// Action is what a user asks of the recording of their live call, from
// `callvault record`, the control API or the phone.
type Action string

// The actions of `callvault record ACTION EXT|ID`.
const (
	ActionStart  Action = "start"  // On Demand: keep the audio from now on
	ActionStop   Action = "stop"   // On Demand: stop keeping it
	ActionKeep   Action = "keep"   // Live Keep: store the whole call
	ActionPause  Action = "pause"  // PCI: silence from now on, nothing written
	ActionResume Action = "resume" // PCI: audio again
)

// ParseAction returns the Action named s.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionStart, ActionStop, ActionKeep, ActionPause, ActionResume:
		return a, nil
	}
	return "", fmt.Errorf("%w: %q (want start, stop, keep, pause or resume)", ErrBadAction, s)
}

var (
	// ErrBadAction: not an action.
	ErrBadAction = errors.New("unknown record action")
	// ErrNotForMode: the action means nothing under the owner's mode (stop
	// on an Always On call, keep on an On Demand one).
	ErrNotForMode = errors.New("action not for this recording mode")
)

// States of a call's recording, as the control API and the phone show them.
const (
	StateRecording = "recording"         // audio is being kept
	StateWaiting   = "waiting for start" // On Demand, outside a start..stop window
	StatePaused    = "paused"            // PCI pause: silence is being written
	StateUnkept    = "waiting for keep"  // Live Keep, keep not pressed yet
	StateKept      = "kept"              // Live Keep, keep pressed
)

// modeState is where a call stands under its owner's recording mode. It
// is pure: apply says what to do, and the caller does it to the media and
// the file.
type modeState struct {
	mode    string // vocab.Mode*
	open    bool   // audio is being kept (On Demand: inside a window)
	windows int    // On Demand windows opened so far
	paused  bool
	kept    bool // Live Keep: keep was pressed
}

// effect is what an action asks of the call's media and file.
type effect int

const (
	effectNone   effect = iota // nothing changes (a repeated action)
	effectOpen                 // media Open: keep audio from now
	effectClose                // media Close: drop audio from now
	effectKeep                 // mark the file kept
	effectPause                // media Pause
	effectResume               // media Resume
)

// newModeState is the state of a new call of an owner in mode ("" and
// unknown modes record as Always On).
func newModeState(mode string) modeState {
	switch mode {
	case vocab.ModeOnDemand, vocab.ModeLiveKeep:
	default:
		mode = vocab.ModeAlways
	}
	return modeState{mode: mode, open: mode != vocab.ModeOnDemand}
}

// apply takes an action and returns its effect; ErrNotForMode when the
// mode has no use for it. Repeating an action is no error and no effect.
func (m *modeState) apply(a Action) (effect, error) {
	switch a {
	case ActionPause:
		if m.paused {
			return effectNone, nil
		}
		m.paused = true
		return effectPause, nil
	case ActionResume:
		if !m.paused {
			return effectNone, nil
		}
		m.paused = false
		return effectResume, nil
	case ActionStart, ActionStop:
		if m.mode != vocab.ModeOnDemand {
			return effectNone, fmt.Errorf("%w: %s calls are recorded whole; start and stop are for on-demand users", ErrNotForMode, m.mode)
		}
		if (a == ActionStart) == m.open {
			return effectNone, nil
		}
		m.open = a == ActionStart
		if m.open {
			m.windows++
			return effectOpen, nil
		}
		return effectClose, nil
	case ActionKeep:
		if m.mode != vocab.ModeLiveKeep {
			return effectNone, fmt.Errorf("%w: %s calls are kept as they are recorded; keep is for live-keep users", ErrNotForMode, m.mode)
		}
		if m.kept {
			return effectNone, nil
		}
		m.kept = true
		return effectKeep, nil
	}
	return effectNone, fmt.Errorf("%w: %q", ErrBadAction, a)
}

// state is the call's recording state in words.
func (m modeState) state() string {
	switch {
	case !m.open:
		return StateWaiting
	case m.paused:
		return StatePaused
	case m.mode == vocab.ModeLiveKeep && !m.kept:
		return StateUnkept
	case m.mode == vocab.ModeLiveKeep:
		return StateKept
	}
	return StateRecording
}

// holdsChannel reports whether the call counts against a channel licence:
// every call does, but an On Demand one only while it records.
func (m modeState) holdsChannel() bool { return m.open }

// keepPending reports whether the call, ended now, is to be destroyed
// unless keep comes within the grace.
func (m modeState) keepPending() bool { return m.mode == vocab.ModeLiveKeep && !m.kept }
