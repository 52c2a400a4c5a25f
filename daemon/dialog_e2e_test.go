package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/testaudio"
)

// TestTransferAndByeMetadata: a blind transfer arrives as a metadata-only
// UPDATE (partial: the callee disassociates, the transfer target
// associates), then a BYE carrying the last metadata. The recording lists
// all three parties with the times they joined and left, and the audio
// of the whole call.
func TestTransferAndByeMetadata(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	s.send("PCMU", 2)
	d.sipp("update-transfer.xml", "t1", map[string]string{"callid": s.keys["callid"], "fromtag": s.keys["fromtag"],
		"totag": s.keys["totag"], "transferee": "5553000"})
	live := d.liveCall(s.keys["callid"])
	if len(live.Participants) != 3 || live.Participants[1].Left.IsZero() {
		t.Errorf("live call after the transfer lists %+v; want the callee with a leaving time and the transfer target", live.Participants)
	}
	s.send("PCMU", 2)
	d.sipp("bye-metadata.xml", "t1", map[string]string{"callid": s.keys["callid"], "fromtag": s.keys["fromtag"], "totag": s.keys["totag"]})
	rec := d.sealed(s.keys["callid"])
	// 4 s of audio and the silence while sipp ran the UPDATE.
	if rec.Status != "complete" || rec.DurationMS < 3800 || rec.DurationMS > 9000 {
		t.Errorf("the transferred call: status %s, %d ms; want complete, 4-9 s", rec.Status, rec.DurationMS)
	}
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
	if !regexp.MustCompile(`recording sealed.*reason=session_expired`).MatchString(d.stderr.String()) {
		t.Error("the log does not say the call was sealed for its expired session")
	}
}
