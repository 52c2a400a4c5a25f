package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

// newTestRecorder is the daemon's recorder over a real vault and port pool
// in a temp dir, without SIP: the policy decisions, tested directly.
func newTestRecorder(t *testing.T, recordUnknown bool) *Recorder {
	t.Helper()
	dir := t.TempDir()
	store, err := vault.Open(vault.Config{Dir: dir, Location: time.UTC}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	users, err := OpenDirectory(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := users.add(user{Username: "john_doe", FullName: "John Doe", Extensions: []string{"2501"}}); err != nil {
		t.Fatal(err)
	}
	return New(Options{Log: discardLog(), Pool: testPool(t), Store: store, Users: users, RecordUnknown: recordUnknown,
		Location: time.UTC, DataDir: dir})
}

// testPool is a port pool in 10000-19999: below the end-to-end daemons'
// ranges (20000-59999) and media's tests (60000 and up); the pool steps
// over ports in use.
func testPool(t *testing.T) *media.PortPool {
	t.Helper()
	pool, err := media.NewPortPool(netip.MustParseAddr("127.0.0.1"), 10000+time.Now().Nanosecond()%4000*2, 19999)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func offer(callID string, md *siprec.Metadata) *siprec.Session {
	pcmu := []siprec.Format{{PT: 0, Name: "PCMU", Rate: 8000}, {PT: 101, Name: "telephone-event", Rate: 8000}}
	return &siprec.Session{
		CallID: callID, Transport: "UDP", Metadata: md,
		Media: []siprec.MediaStream{
			{Index: 0, Kind: "audio", Label: "1", Port: 17000, Formats: pcmu},
			{Index: 1, Kind: "audio", Label: "2", Port: 17002, Formats: pcmu},
		},
	}
}

func parts(aors ...string) *siprec.Metadata {
	md := &siprec.Metadata{}
	for i, a := range aors {
		md.Participants = append(md.Participants, siprec.Participant{AOR: a, Send: []string{string(rune('1' + i))}})
	}
	return md
}

func TestRecordUnknownOffRejectsStrangers(t *testing.T) {
	r := newTestRecorder(t, false)
	_, err := r.Admit(context.Background(), offer("a@x", parts("sip:5551000@gw", "sip:5552000@gw")))
	var se *siprec.StatusError
	if !errors.As(err, &se) || se.Code != 403 {
		t.Fatalf("Admit of a call with no user = %v, want 403", err)
	}
	if _, rejected := r.stats.counts(); rejected != 1 {
		t.Fatalf("rejected = %d, want 1", rejected)
	}
	answers, err := r.Admit(context.Background(), offer("b@x", parts("sip:2501@gw", "sip:5552000@gw")))
	if err != nil || len(answers) != 2 || answers[0].Port == 0 || answers[1].Port == 0 || answers[0].Port == answers[1].Port {
		t.Fatalf("Admit of john_doe's call = %+v, %v; want two ports", answers, err)
	}
	r.End(offer("b@x", parts("sip:2501@gw", "sip:5552000@gw")), "bye")
	recs, err := r.store.Search(vault.Query{})
	if err != nil || len(recs) != 1 || recs[0].User != "john_doe" || recs[0].Status != "failed" {
		t.Fatalf("recordings = %+v, %v; want john_doe's, failed (no audio)", recs, err)
	}
}

// A session admitted before its metadata, which then names nobody known,
// is discarded at the end when record_unknown is off.
func TestRecordUnknownOffLateMetadata(t *testing.T) {
	r := newTestRecorder(t, false)
	if _, err := r.Admit(context.Background(), offer("c@x", nil)); err != nil {
		t.Fatalf("Admit without metadata: %v", err)
	}
	s := offer("c@x", parts("sip:5551000@gw", "sip:5552000@gw"))
	if _, err := r.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	r.End(s, "bye")
	if recs, err := r.store.Search(vault.Query{}); err != nil || len(recs) != 0 {
		t.Fatalf("recordings = %+v, %v; want none", recs, err)
	}
	if n := len(r.live()); n != 0 {
		t.Fatalf("%d live calls after End", n)
	}
}

func TestDuplicateInviteAndUnknownUpdate(t *testing.T) {
	r := newTestRecorder(t, true)
	if _, err := r.Admit(context.Background(), offer("d@x", nil)); err != nil {
		t.Fatal(err)
	}
	var se *siprec.StatusError
	if _, err := r.Admit(context.Background(), offer("d@x", nil)); !errors.As(err, &se) || se.Code != 482 {
		t.Fatalf("second Admit of a live call = %v, want 482", err)
	}
	if _, err := r.Update(context.Background(), offer("nope@x", nil)); !errors.As(err, &se) || se.Code != 481 {
		t.Fatalf("Update of an unknown call = %v, want 481", err)
	}
	r.End(offer("d@x", nil), "bye")
	r.End(offer("d@x", nil), "bye") // a second End is a no-op
	if recs, _ := r.store.Search(vault.Query{}); len(recs) != 1 {
		t.Fatalf("%d recordings, want 1", len(recs))
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A conference whose participant list does not fit the file's head slot is
// still sealed, with as much of the list as fits, owner first.
func TestSealWithHugeParticipantList(t *testing.T) {
	r := newTestRecorder(t, true)
	aors := []string{"sip:2501@gw"}
	for i := range 300 {
		aors = append(aors, fmt.Sprintf("sip:+4420%08d@a-rather-long-gateway-name.example.net;user=phone", i))
	}
	s := offer("big@x", parts(aors...))
	if _, err := r.Admit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	r.End(s, "bye")
	recs, err := r.store.Search(vault.Query{})
	if err != nil || len(recs) != 1 || recs[0].User != "john_doe" {
		t.Fatalf("recordings = %d, %v; want john_doe's", len(recs), err)
	}
	if kept := recs[0].Participants; len(kept) == 0 || len(kept) >= len(aors) || kept[0].AOR != aors[0] {
		t.Errorf("participants kept: %d of %d, first %+v; want a clipped list starting with the owner", len(kept), len(aors), kept[:min(1, len(kept))])
	}
}

// A stream first offered in a re-INVITE (a conference gains a party) is
// recorded on a port of its own; new non-audio streams stay rejected.
func TestStreamAddedByReInviteIsRecorded(t *testing.T) {
	r := newTestRecorder(t, true)
	s := offer("grow@x", parts("sip:2501@gw", "sip:+15551234@gw"))
	if _, err := r.Admit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	up := *s
	pcmu := s.Media[0].Formats
	up.Media = append(append([]siprec.MediaStream(nil), s.Media...),
		siprec.MediaStream{Index: 2, Kind: "audio", Label: "3", Port: 17004, Formats: pcmu},
		siprec.MediaStream{Index: 3, Kind: "video", Label: "4", Port: 17006, Formats: []siprec.Format{{PT: 96, Name: "H264", Rate: 90000}}})
	answers, err := r.Update(context.Background(), &up)
	if err != nil {
		t.Fatal(err)
	}
	if len(answers) != 4 || answers[2].Port == 0 || answers[2].PT != 0 || answers[3].Port != 0 {
		t.Fatalf("answers = %+v: want the new audio stream on a port, the video rejected", answers)
	}
	c := r.lookup("grow@x")
	if v := c.view(r.users.byExtension); len(v.Legs) != 3 || v.Legs[2].Label != "3" || v.Legs[2].Port != answers[2].Port {
		t.Errorf("legs = %+v, want the third leg listed with its port", v.Legs)
	}
	again, err := r.Update(context.Background(), &up) // the same offer again: the same ports
	if err != nil || again[2].Port != answers[2].Port {
		t.Errorf("re-offer: %+v, %v; want the added leg's port again", again, err)
	}
	r.End(&up, "bye")
}

// A session that was never established (no ACK, or CANCELled) and got no
// audio leaves no recording, and its ports go back to the source's budget;
// one ended by BYE without audio is kept as failed.
func TestNeverEstablishedLeavesNoRecording(t *testing.T) {
	r := newTestRecorder(t, true)
	r.ports = newPortBudget(4)
	src := netip.MustParseAddrPort("192.0.2.9:5060")
	for _, reason := range []string{"ack_timeout", "cancel", "bye"} {
		s := offer(reason+"@x", parts("sip:2501@gw", "sip:5552000@gw"))
		s.Source = src
		if _, err := r.Admit(context.Background(), s); err != nil {
			t.Fatalf("%s: Admit: %v", reason, err)
		}
		r.End(s, reason)
	}
	recs, err := r.store.Search(vault.Query{})
	if err != nil || len(recs) != 1 || recs[0].CallID != "bye@x" || recs[0].Status != "failed" || recs[0].EndReason != "bye" {
		t.Fatalf("recordings = %+v, %v; want only the BYE's, failed, end_reason bye", recs, err)
	}
	if !r.ports.take(src.Addr(), 4) {
		t.Error("the ended sessions' ports were not given back to the source's budget")
	}
}

// The stats event carries the live calls and the call rate.
func TestPublishStats(t *testing.T) {
	r := newTestRecorder(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := r.events.subscribe(ctx)
	for i := range 5 {
		if _, err := r.Admit(ctx, offer(fmt.Sprintf("s%d@x", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	r.PublishStats(time.Now().Add(time.Second))
	for e := range events {
		if e.Type != control.EventStats {
			continue
		}
		if e.Stats == nil || e.Stats.LiveCalls != 5 || e.Stats.CallsPerSecond.Peak < 1 {
			t.Fatalf("stats event %+v", e.Stats)
		}
		if len(e.Stats.Calls) != 5 || e.Stats.Calls[0].ID == "" || len(e.Stats.Calls[0].Legs) == 0 {
			t.Errorf("stats event's calls %+v, want the 5 live calls with their legs", e.Stats.Calls)
		}
		if d := e.Stats.Disk; d == nil || d.TotalBytes == 0 {
			t.Errorf("stats event's disk %+v, want the data dir's space", d)
		}
		break
	}
	for _, c := range r.live() {
		r.End(&c.session, "bye")
	}
}
