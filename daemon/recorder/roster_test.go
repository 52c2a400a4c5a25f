package recorder

import (
	"context"
	"testing"
	"time"

	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

func TestRosterKeepsEveryParticipant(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 17, 10, 11, 0, time.UTC)
	p := func(id, aor string) siprec.Participant { return siprec.Participant{ID: id, AOR: aor} }
	var r roster
	r.note(&siprec.Metadata{Participants: []siprec.Participant{p("a", "sip:2501@gw"), p("b", "sip:5552000@gw")}}, t0)
	// A complete document after a blind transfer: b is gone, c came.
	r.note(&siprec.Metadata{Participants: []siprec.Participant{p("a", "sip:2501@gw"), p("c", "sip:5553000@gw")}}, t0.Add(5*time.Second))
	// A partial one merged: c disassociated at the client's time, b back.
	left := t0.Add(9 * time.Second)
	c := p("c", "sip:5553000@gw")
	c.Disassociated = left
	b := p("b", "")
	b.Associated = t0.Add(10 * time.Second)
	r.note(&siprec.Metadata{Participants: []siprec.Participant{p("a", "sip:2501@gw"), b, c}}, t0.Add(11*time.Second))
	want := []vault.Participant{
		{AOR: "sip:2501@gw", Joined: t0},
		{AOR: "sip:5552000@gw", Joined: t0},
		{AOR: "sip:5553000@gw", Joined: t0.Add(5 * time.Second), Left: left},
	}
	got := r.participants()
	if len(got) != len(want) {
		t.Fatalf("roster = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("participant %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A recording lists every participant of the call with its times, those
// a transfer took away included.
func TestRecordingListsTransferredParties(t *testing.T) {
	r := newTestRecorder(t, true)
	t0 := time.Now().UTC().Truncate(time.Second)
	s := offer("transfer@x", parts("sip:2501@gw", "sip:5552000@gw"))
	if _, err := r.Admit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	s2 := offer("transfer@x", parts("sip:2501@gw", "sip:5553000@gw"))
	if _, err := r.Update(context.Background(), s2); err != nil {
		t.Fatal(err)
	}
	r.End(s2, "bye")
	recs, err := r.store.Search(vault.Query{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings = %+v, %v", recs, err)
	}
	ps := recs[0].Participants
	if len(ps) != 3 || ps[1].AOR != "sip:5552000@gw" || ps[1].Left.IsZero() || ps[2].AOR != "sip:5553000@gw" ||
		ps[2].Joined.Before(t0) || !ps[2].Left.IsZero() {
		t.Errorf("participants = %+v; want the transferred party with a leaving time and the new one with its joining time", ps)
	}
}
