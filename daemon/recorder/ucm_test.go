package recorder

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/license"
	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

// ucmHalf is one of UCM's two recording calls as the SIP side hands it
// over: near end nearNum (2501 is john_doe), far end farNum; refci 11
// below farendrefci 12 makes the near end the caller.
func ucmHalf(callID, role, nearNum, farNum string) *siprec.Session {
	from := fmt.Sprintf("<sip:%s@ucm1;x-%send;x-refci=11;x-nearenddevice=SEP1;x-farendrefci=12;x-farendaddr=%s>;tag=t", nearNum, role, farNum)
	h, ok := siprec.ParseUCM(from)
	if !ok {
		panic("not a UCM From: " + from)
	}
	pcmu := []siprec.Format{{PT: 0, Name: "PCMU", Rate: 8000}, {PT: 101, Name: "telephone-event", Rate: 8000}}
	return &siprec.Session{CallID: callID, Transport: "TCP", UCM: &h, Metadata: h.Metadata(),
		Media: []siprec.MediaStream{{Index: 0, Kind: "audio", Label: role, Port: 4000, Direction: "sendonly", Formats: pcmu}}}
}

func admitOK(t *testing.T, r *Recorder, s *siprec.Session) {
	t.Helper()
	answers, err := r.Admit(context.Background(), s)
	if err != nil || len(answers) != 1 || answers[0].Port <= 0 {
		t.Fatalf("Admit %s: %+v, %v; want one port", s.CallID, answers, err)
	}
}

func sealedOnly(t *testing.T, r *Recorder) vault.Recording {
	t.Helper()
	recs, err := r.store.Search(vault.Query{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings = %+v, %v; want one", recs, err)
	}
	return recs[0]
}

// The two halves, in either order, are one call: one live call with both
// legs, counted once, one recording when both have ended, owned by the
// near end, the far end its remote.
func TestUCMHalvesAreOneCall(t *testing.T) {
	for _, order := range [][2]string{{siprec.UCMNear, siprec.UCMFar}, {siprec.UCMFar, siprec.UCMNear}} {
		t.Run(order[0]+" first", func(t *testing.T) {
			r := newTestRecorder(t, true)
			ids := map[string]string{siprec.UCMNear: "near@ucm1", siprec.UCMFar: "far@ucm1"}
			for _, role := range order {
				admitOK(t, r, ucmHalf(ids[role], role, "2501", "+15551234567"))
			}
			if n := r.LiveCalls(); n != 1 {
				t.Fatalf("%d live calls, want 1", n)
			}
			if total, _ := r.stats.counts(); total != 1 {
				t.Errorf("calls_total %d, want 1", total)
			}
			v := r.lookup(ids[order[1]]).view(r.users.byExtension)
			if len(v.Legs) != 2 || v.ID != "near@ucm1" || v.User != "john_doe" {
				t.Errorf("live call %+v: want john_doe's, known by the near half's Call-ID, with two legs", v)
			}
			r.End(ucmHalf(ids[order[0]], order[0], "2501", "+15551234567"), "bye")
			if r.LiveCalls() != 1 {
				t.Fatal("the call ended with its first half")
			}
			r.End(ucmHalf(ids[order[1]], order[1], "2501", "+15551234567"), "bye")
			rec := sealedOnly(t, r)
			if rec.User != "john_doe" || rec.Extension != "2501" || rec.Remote != "+15551234567" || rec.Direction != "OUT" ||
				rec.UCMHalf != "" || rec.CallID != "near@ucm1" || len(rec.Legs) != 2 {
				t.Errorf("recording = %+v: want john_doe's OUT call to +15551234567, both halves, near's Call-ID", rec)
			}
			if r.LiveCalls() != 0 || len(r.ucm.joined) != 0 || r.ucm.pairs.Pending() != 0 || len(r.ucm.opening) != 0 {
				t.Errorf("left behind: %d calls, %d joined, %d pending, %d opening", r.LiveCalls(), len(r.ucm.joined), r.ucm.pairs.Pending(), len(r.ucm.opening))
			}
		})
	}
}

// A half whose partner never came is recorded alone and marked; one whose
// partner comes after the window is a call of its own too.
func TestUCMLoneHalf(t *testing.T) {
	r := newTestRecorder(t, true)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }
	admitOK(t, r, ucmHalf("far@ucm1", siprec.UCMFar, "2501", "1000"))
	now = now.Add(siprec.UCMPairWindow + time.Millisecond)
	admitOK(t, r, ucmHalf("near@ucm1", siprec.UCMNear, "2501", "1000"))
	if n := r.LiveCalls(); n != 2 {
		t.Fatalf("%d live calls, want 2: the near half came after the window", n)
	}
	r.End(ucmHalf("far@ucm1", siprec.UCMFar, "2501", "1000"), "bye")
	r.End(ucmHalf("near@ucm1", siprec.UCMNear, "2501", "1000"), "bye")
	recs, err := r.store.Search(vault.Query{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("recordings = %+v, %v; want two", recs, err)
	}
	halves := map[string]string{}
	for _, rec := range recs {
		halves[rec.CallID] = rec.UCMHalf
	}
	if halves["far@ucm1"] != siprec.UCMFar || halves["near@ucm1"] != siprec.UCMNear {
		t.Errorf("ucm_half by call = %v, want each marked with its half", halves)
	}
}

// A far end's change (a transfer) in either half is a new participant;
// the one who left keeps the time they left.
func TestUCMFarEndChange(t *testing.T) {
	r := newTestRecorder(t, true)
	admitOK(t, r, ucmHalf("near@ucm1", siprec.UCMNear, "2501", "1000"))
	admitOK(t, r, ucmHalf("far@ucm1", siprec.UCMFar, "2501", "1000"))
	for _, s := range []*siprec.Session{ucmHalf("near@ucm1", siprec.UCMNear, "2501", "3000"), ucmHalf("far@ucm1", siprec.UCMFar, "2501", "3000")} {
		answers, err := r.Update(context.Background(), s)
		if err != nil || len(answers) != 1 || answers[0].Port <= 0 {
			t.Fatalf("Update %s: %+v, %v", s.CallID, answers, err)
		}
	}
	r.End(ucmHalf("near@ucm1", siprec.UCMNear, "2501", "3000"), "bye")
	r.End(ucmHalf("far@ucm1", siprec.UCMFar, "2501", "3000"), "bye")
	rec := sealedOnly(t, r)
	ps := rec.Participants
	if len(ps) != 3 || ps[0].AOR != "sip:2501@ucm1" || ps[1].AOR != "sip:1000@ucm1" || ps[1].Left.IsZero() ||
		ps[2].AOR != "sip:3000@ucm1" || !ps[2].Left.IsZero() || rec.Remote != "3000" {
		t.Errorf("participants %+v, remote %q: want 2501, 1000 (left), 3000", ps, rec.Remote)
	}
}

// The call belongs to the near end or to no one: a far end that is a
// user does not make it theirs.
func TestUCMOwnerIsTheNearEnd(t *testing.T) {
	r := newTestRecorder(t, true)
	admitOK(t, r, ucmHalf("near@ucm1", siprec.UCMNear, "5551000", "2501"))
	r.End(ucmHalf("near@ucm1", siprec.UCMNear, "5551000", "2501"), "bye")
	if rec := sealedOnly(t, r); rec.User != "" || rec.Extension != "5551000" || rec.Remote != "2501" {
		t.Errorf("recording = %+v: want no user, extension 5551000 (the near end), remote 2501", rec)
	}
	off := newTestRecorder(t, false)
	if _, err := off.Admit(context.Background(), ucmHalf("n@ucm1", siprec.UCMNear, "5551000", "2501")); err == nil {
		t.Error("record_unknown off: a UCM call of a near end that is no user was admitted")
	}
}

// Admitted side by side, as UCM sends them, the halves still make one
// call, and a channel licence counts it once.
func TestUCMConcurrentHalvesOneChannel(t *testing.T) {
	r := newTestRecorder(t, true)
	r.licence.set(license.License{Customer: "t", Model: license.ModelChannel, Count: 1}, false, nil)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for _, role := range []string{siprec.UCMNear, siprec.UCMFar} {
		wg.Go(func() {
			if _, err := r.Admit(context.Background(), ucmHalf(role+"@ucm1", role, "2501", "1000")); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || r.LiveCalls() != 1 || r.channelsInUse() != 1 {
		t.Fatalf("%d refused, %d live calls, %d channels; want both halves in one call on the one channel",
			failed.Load(), r.LiveCalls(), r.channelsInUse())
	}
	// A hang-up from our side (rtp-timeout, disk full) ends both halves.
	r.hangupCall(r.live()[0], 408, "no RTP", "rtp-timeout")
	if rec := sealedOnly(t, r); rec.EndReason != "rtp-timeout" || len(rec.Legs) != 2 {
		t.Errorf("recording = %+v, want both legs, ended rtp-timeout", rec)
	}
}

// Only one half hears of a new far end: the other's BYE, which knows only
// the old one, does not undo it.
func TestUCMStaleHalfEnds(t *testing.T) {
	r := newTestRecorder(t, true)
	admitOK(t, r, ucmHalf("near@ucm1", siprec.UCMNear, "2501", "1000"))
	admitOK(t, r, ucmHalf("far@ucm1", siprec.UCMFar, "2501", "1000"))
	if _, err := r.Update(context.Background(), ucmHalf("near@ucm1", siprec.UCMNear, "2501", "3000")); err != nil {
		t.Fatal(err)
	}
	r.End(ucmHalf("far@ucm1", siprec.UCMFar, "2501", "1000"), "bye")
	r.End(ucmHalf("near@ucm1", siprec.UCMNear, "2501", "3000"), "bye")
	rec := sealedOnly(t, r)
	if ps := rec.Participants; rec.Remote != "3000" || len(ps) != 3 || !ps[2].Left.IsZero() {
		t.Errorf("remote %q, participants %+v: want 3000 there to the end", rec.Remote, ps)
	}
}
