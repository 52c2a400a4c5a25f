package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/testaudio"
)

// TestTransferAndByeMetadata: a blind transfer arrives as a metadata-only
// UPDATE (partial: the callee disassociates, the transfer target
// associates) while the audio goes on, then a BYE carrying the last
// metadata. The recording lists all three parties with the times they
// joined and left, and the audio of the whole call.
func TestTransferAndByeMetadata(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	// The audio goes on through the transfer, as it does on a gateway.
	audio := make(chan error, 1)
	go func() { audio <- s.stream("PCMU", 5, "1", "2") }()
	time.Sleep(time.Second)
	d.sipp("update-transfer.xml", "t1", map[string]string{"callid": s.keys["callid"], "fromtag": s.keys["fromtag"],
		"totag": s.keys["totag"], "transferee": "5553000"})
	live := d.liveCall(s.keys["callid"])
	if len(live.Participants) != 3 || live.Participants[1].Left.IsZero() {
		t.Errorf("live call after the transfer lists %+v; want the callee with a leaving time and the transfer target", live.Participants)
	}
	if err := <-audio; err != nil {
		t.Fatal(err)
	}
	d.sipp("bye-metadata.xml", "t1", map[string]string{"callid": s.keys["callid"], "fromtag": s.keys["fromtag"], "totag": s.keys["totag"]})
	rec := d.sealed(s.keys["callid"])
	checkComplete(t, "the transferred call", rec, 5)
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	want := []struct {
		aor          string
		joined, left time.Time
	}{
		{"sip:5551000@10.10.1.11", at("2026-11-25T17:10:11.196Z"), at("2026-11-25T17:10:20Z")},
		{"sip:5552000@10.10.1.12", at("2026-11-25T17:10:11.196Z"), at("2026-11-25T17:10:14Z")},
		{"sip:5553000@10.10.1.13", at("2026-11-25T17:10:14Z"), at("2026-11-25T17:10:20Z")},
	}
	if len(rec.Participants) != len(want) {
		t.Fatalf("participants = %+v, want %d", rec.Participants, len(want))
	}
	for i, w := range want {
		p := rec.Participants[i]
		if p.AOR != w.aor || !p.Joined.Equal(w.joined) || !p.Left.Equal(w.left) {
			t.Errorf("participant %d = %s joined %v left %v; want %s %v %v", i, p.AOR, p.Joined, p.Left, w.aor, w.joined, w.left)
		}
	}
	exportAndDecode(t, d, rec)
}

// TestSessionTimerExpiry: a gateway that asks for a 90 s session timer
// and never refreshes it gets a BYE when the session expires (after the
// interval and a third of it, RFC 4028 10: Reason 408 "session
// expired"); the call is sealed complete with what it recorded. It takes
// two minutes, in parallel with the other long tests.
func TestSessionTimerExpiry(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true, rtpTimeout: "300s"})
	d.sippWait = 180 * time.Second // the session lasts 90 s + 30 s of grace
	keys := map[string]string{"callid": fmt.Sprintf("timer-%d@127.0.0.1", time.Now().UnixNano()), "fromtag": "timer" + strconv.Itoa(os.Getpid()),
		"caller": "5551000", "callee": "5552000", "codecpt": "0", "codecname": "PCMU"}
	gateway := d.sippStart("cube-invite-timer.xml", "t1", 1, keys)
	s := d.newSession("t1", keys)
	s.checkLegs("PCMU")
	s.send("PCMU", 2)
	checkByeReason(t, gateway(), 1, `SIP;cause=408;text="session expired"`)
	rec := d.sealed(keys["callid"])
	checkComplete(t, "the expired call", rec, 2)
	if rec.EndReason != "session_expired" {
		t.Errorf("end_reason %q, want session_expired", rec.EndReason)
	}
}

// TestHoldOfOneSide: a re-INVITE puts the stream labelled 1 on hold
// (a=inactive) while the other party goes on talking, then resumes it. In
// stereo the held side's channel is silence while it is held and the other
// channel keeps its audio; the call's length is the whole call.
func TestHoldOfOneSide(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true, stereo: true})
	d.cli("users", "add", "caller", "--name", "The Caller", "--ext", "5551000")
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	direction := func(dir, cseq string) {
		keys := map[string]string{"direction": dir, "holdseq": cseq}
		for k, v := range s.keys {
			keys[k] = v
		}
		if logs := d.sipp("reinvite-hold-one.xml", "t1", keys); !strings.Contains(logs, "ANSWER") {
			t.Fatalf("re-INVITE %s: %s", dir, logs)
		}
	}
	start := time.Now()
	s.send("PCMU", 2)
	direction("inactive", "102")
	held := time.Now()
	s.sendLeg("2", "PCMU", 3) // the other party talks on
	direction("sendonly", "103")
	heldFor := time.Since(held)
	s.send("PCMU", 2)
	total := time.Since(start)
	rec := s.hangUp()
	if rec.Status != "complete" || math.Abs(float64(rec.DurationMS)-float64(total.Milliseconds())) > 600 {
		t.Errorf("recording: status %s, %d ms; want complete, about %d ms", rec.Status, rec.DurationMS, total.Milliseconds())
	}
	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	ch := testaudio.Deinterleave(decode(t, out), 2) // owner (the caller, label 1) left
	mid := func(c []int16) []int16 {
		at := int((2*time.Second + heldFor/2) / time.Second * 8000)
		return c[max(0, at-4000):min(len(c), at+4000)]
	}
	if p := testaudio.Power(mid(ch[0]), toneLeg1, 8000); p > 1e-6 {
		t.Errorf("the held side's channel is not silent while held: power %.2e", p)
	}
	if p := testaudio.Power(mid(ch[1]), toneLeg2, 8000); p < 1e-3 {
		t.Errorf("the other side's channel lost its audio during the hold: power %.2e", p)
	}
	end := ch[0][len(ch[0])-12000 : len(ch[0])-2000]
	if p := testaudio.Power(end, toneLeg1, 8000); p < 1e-3 {
		t.Errorf("the held side's audio after the resume is missing: power %.2e", p)
	}
}
