package recorder

import (
	"errors"
	"fmt"
	"slices"

	"github.com/callvault/callvault/internal/vocab"
)

// ParseAction checks that s names a record action (vocab.Actions): what a
// user asks of the recording of their live call, from `callvault record`,
// the control API or the phone.
func ParseAction(s string) (string, error) {
	if slices.Contains(vocab.Actions(), s) {
		return s, nil
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
func (m *modeState) apply(a string) (effect, error) {
	switch a {
	case vocab.ActionPause:
		if m.paused {
			return effectNone, nil
		}
		m.paused = true
		return effectPause, nil
	case vocab.ActionResume:
		if !m.paused {
			return effectNone, nil
		}
		m.paused = false
		return effectResume, nil
	case vocab.ActionStart, vocab.ActionStop:
		if m.mode != vocab.ModeOnDemand {
			return effectNone, fmt.Errorf("%w: %s calls are recorded whole; start and stop are for on-demand users", ErrNotForMode, m.mode)
		}
		if (a == vocab.ActionStart) == m.open {
			return effectNone, nil
		}
		m.open = a == vocab.ActionStart
		if m.open {
			m.windows++
			return effectOpen, nil
		}
		return effectClose, nil
	case vocab.ActionKeep:
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
		return vocab.StateWaiting
	case m.paused:
		return vocab.StatePaused
	case m.mode == vocab.ModeLiveKeep && !m.kept:
		return vocab.StateUnkept
	case m.mode == vocab.ModeLiveKeep:
		return vocab.StateKept
	}
	return vocab.StateRecording
}

// holdsChannel reports whether the call counts against a channel licence:
// every call does, but an On Demand one only while it records.
func (m modeState) holdsChannel() bool { return m.open }

// keepPending reports whether the call, ended now, is to be destroyed
// unless keep comes within the grace.
func (m modeState) keepPending() bool { return m.mode == vocab.ModeLiveKeep && !m.kept }
