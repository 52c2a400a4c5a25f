package recorder

import (
	"context"
	"errors"
	"testing"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/vocab"
	"github.com/callvault/callvault/vault"
)

func TestModeStates(t *testing.T) {
	type step struct {
		a      string
		effect effect
		err    error
		state  string
	}
	for _, tc := range []struct {
		mode  string
		start string
		steps []step
	}{
		{vocab.ModeAlways, vocab.StateRecording, []step{
			{vocab.ActionPause, effectPause, nil, vocab.StatePaused},
			{vocab.ActionPause, effectNone, nil, vocab.StatePaused},
			{vocab.ActionResume, effectResume, nil, vocab.StateRecording},
			{vocab.ActionStart, effectNone, ErrNotForMode, vocab.StateRecording},
			{vocab.ActionStop, effectNone, ErrNotForMode, vocab.StateRecording},
			{vocab.ActionKeep, effectNone, ErrNotForMode, vocab.StateRecording},
		}},
		{vocab.ModeOnDemand, vocab.StateWaiting, []step{
			{vocab.ActionStop, effectNone, nil, vocab.StateWaiting},
			{vocab.ActionStart, effectOpen, nil, vocab.StateRecording},
			{vocab.ActionStart, effectNone, nil, vocab.StateRecording},
			{vocab.ActionPause, effectPause, nil, vocab.StatePaused},
			{vocab.ActionStop, effectClose, nil, vocab.StateWaiting},
			{vocab.ActionResume, effectResume, nil, vocab.StateWaiting},
			{vocab.ActionStart, effectOpen, nil, vocab.StateRecording},
			{vocab.ActionKeep, effectNone, ErrNotForMode, vocab.StateRecording},
		}},
		{vocab.ModeLiveKeep, vocab.StateUnkept, []step{
			{vocab.ActionStart, effectNone, ErrNotForMode, vocab.StateUnkept},
			{vocab.ActionPause, effectPause, nil, vocab.StatePaused},
			{vocab.ActionResume, effectResume, nil, vocab.StateUnkept},
			{vocab.ActionKeep, effectKeep, nil, vocab.StateKept},
			{vocab.ActionKeep, effectNone, nil, vocab.StateKept},
		}},
		{"", vocab.StateRecording, nil},
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
	od.apply(vocab.ActionStart)
	if !od.holdsChannel() || od.windows != 1 {
		t.Errorf("on-demand after start: holds %t, windows %d", od.holdsChannel(), od.windows)
	}
	lk := newModeState(vocab.ModeLiveKeep)
	if !lk.holdsChannel() || !lk.keepPending() {
		t.Error("a live keep call holds a channel and waits for keep")
	}
	lk.apply(vocab.ActionKeep)
	if lk.keepPending() {
		t.Error("kept live keep call still pending")
	}
	if newModeState(vocab.ModeAlways).keepPending() {
		t.Error("an always-on call waits for keep")
	}
	if _, err := ParseAction("record"); !errors.Is(err, ErrBadAction) {
		t.Errorf("ParseAction(record) = %v", err)
	}
	if a, err := ParseAction("keep"); a != vocab.ActionKeep || err != nil {
		t.Errorf("ParseAction(keep) = %q, %v", a, err)
	}
}

// A Live Keep call that ends without a keep, and without the grace to
// wait for one, leaves nothing and is counted.
func TestLiveKeepWithoutKeepLeavesNothing(t *testing.T) {
	r := newTestRecorder(t, true)
	if err := r.users.add(user{Username: "lk", Extensions: []string{"2700"}, Mode: vocab.ModeLiveKeep}); err != nil {
		t.Fatal(err)
	}
	s := offer("lk@x", parts("sip:2700@gw", "sip:5552000@gw"))
	if _, err := r.Admit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if c := r.findLive("2700"); c == nil || c.mode.state() != vocab.StateUnkept {
		t.Fatal("the live keep call is not waiting for its keep")
	}
	r.End(s, "bye")
	if recs, err := r.store.Search(vault.Query{}); err != nil || len(recs) != 0 {
		t.Fatalf("recordings = %+v, %v; want none", recs, err)
	}
	if n := r.unkept.Load(); n != 1 {
		t.Errorf("live keep calls destroyed: %d, want 1", n)
	}
	if _, err := r.Record("2700", vocab.ActionKeep); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("keep after the call was destroyed: %v, want not found", err)
	}
}
