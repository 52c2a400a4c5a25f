package recorder

import (
	"errors"
	"testing"

	"github.com/callvault/callvault/internal/vocab"
)

func TestModeStates(t *testing.T) {
	type step struct {
		a      Action
		effect effect
		err    error
		state  string
	}
	for _, tc := range []struct {
		mode  string
		start string
		steps []step
	}{
		{vocab.ModeAlways, StateRecording, []step{
			{ActionPause, effectPause, nil, StatePaused},
			{ActionPause, effectNone, nil, StatePaused},
			{ActionResume, effectResume, nil, StateRecording},
			{ActionStart, effectNone, ErrNotForMode, StateRecording},
			{ActionStop, effectNone, ErrNotForMode, StateRecording},
			{ActionKeep, effectNone, ErrNotForMode, StateRecording},
		}},
		{vocab.ModeOnDemand, StateWaiting, []step{
			{ActionStop, effectNone, nil, StateWaiting},
			{ActionStart, effectOpen, nil, StateRecording},
			{ActionStart, effectNone, nil, StateRecording},
			{ActionPause, effectPause, nil, StatePaused},
			{ActionStop, effectClose, nil, StateWaiting},
			{ActionResume, effectResume, nil, StateWaiting},
			{ActionStart, effectOpen, nil, StateRecording},
			{ActionKeep, effectNone, ErrNotForMode, StateRecording},
		}},
		{vocab.ModeLiveKeep, StateUnkept, []step{
			{ActionStart, effectNone, ErrNotForMode, StateUnkept},
			{ActionPause, effectPause, nil, StatePaused},
			{ActionResume, effectResume, nil, StateUnkept},
			{ActionKeep, effectKeep, nil, StateKept},
			{ActionKeep, effectNone, nil, StateKept},
		}},
		{"", StateRecording, nil},
	} {
		m := newModeState(tc.mode)
		if got := m.state(); got != tc.start {
			t.Errorf("%q: new call is %q, want %q", tc.mode, got, tc.start)
		}
		for i, s := range tc.steps {
			eff, err := m.apply(s.a)
			if eff != s.effect || !errors.Is(err, s.err) || (s.err == nil) != (err == nil) || m.state() != s.state {
				t.Errorf("%s step %d %s: effect %d, err %v, state %q; want %d, %v, %q", tc.mode, i, s.a, eff, err, m.state(), s.effect, s.err, s.state)
			}
		}
	}
}

func TestModeChannelsAndKeep(t *testing.T) {
	od := newModeState(vocab.ModeOnDemand)
	if od.holdsChannel() {
		t.Error("an on-demand call holds a channel before start")
	}
	od.apply(ActionStart)
	if !od.holdsChannel() || od.windows != 1 {
		t.Errorf("on-demand after start: holds %t, windows %d", od.holdsChannel(), od.windows)
	}
	lk := newModeState(vocab.ModeLiveKeep)
	if !lk.holdsChannel() || !lk.keepPending() {
		t.Error("a live keep call holds a channel and waits for keep")
	}
	lk.apply(ActionKeep)
	if lk.keepPending() {
		t.Error("kept live keep call still pending")
	}
	if newModeState(vocab.ModeAlways).keepPending() {
		t.Error("an always-on call waits for keep")
	}
	if _, err := ParseAction("record"); !errors.Is(err, ErrBadAction) {
		t.Errorf("ParseAction(record) = %v", err)
	}
	if a, err := ParseAction("keep"); a != ActionKeep || err != nil {
		t.Errorf("ParseAction(keep) = %q, %v", a, err)
	}
}
