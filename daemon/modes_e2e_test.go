package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// recordAction runs `callvault record ACTION TARGET --json` and returns
// what it did.
func (d *daemonProc) recordAction(action, target string) control.RecordResult {
	d.t.Helper()
	var res control.RecordResult
	d.cliJSON(&res, "record", action, target)
	return res
}

// exportAudio exports a recording to a temp file and returns its path.
func exportAudio(t *testing.T, d *daemonProc, rec control.Recording) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	return out
}

// span is when an action ran: it took effect somewhere between from and to.
type span struct{ from, to time.Time }

// timed runs fn and says when.
func timed(fn func()) span {
	from := time.Now()
	fn()
	return span{from, time.Now()}
}

// within reports whether ms lies between lo and hi, give or take the
// 300 ms by which the audio's edges and the sender's pace blur a stretch.
func within(ms int64, lo, hi time.Duration) bool {
	const slack = 300
	return ms >= lo.Milliseconds()-slack && ms <= hi.Milliseconds()+slack
}

// recordFiles lists what lies under the data dir's records/: sealed files
// and .part files alike.
func recordFiles(t *testing.T, data string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(filepath.Join(data, "records"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// TestLiveKeep: a Live Keep call without keep leaves nothing, not even a
// .part; one kept near its end is stored whole from its start; one kept
// within keep_grace after its end is stored too.
func TestLiveKeep(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{tables: "[policy]\nkeep_grace = \"3s\""})
	d.cli("users", "add", "lk", "--name", "Live Keeper", "--ext", "2501", "--mode", "live-keep")
	spec := callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"}

	// No keep: destroyed once the grace runs out.
	s := d.setup(spec)
	if c := d.liveCall(s.keys["callid"]); c.Mode != "live-keep" || c.State != control.StateUnkept {
		t.Errorf("live keep call: mode %q, state %q", c.Mode, c.State)
	}
	s.send("PCMU", 2)
	d.sipp("bye.xml", s.transport, s.keys)
	var st control.Status
	d.until(30*time.Second, "status counting the unkept call destroyed", func() bool {
		d.cliJSON(&st, "status")
		return st.LiveKeepDestroyed == 1
	})
	if files := recordFiles(t, d.data); len(files) != 0 {
		t.Errorf("files left by an unkept live keep call: %v", files)
	}

	// Keep near the end: the whole call from its start.
	s = d.setup(spec)
	began := time.Now()
	s.send("PCMU", 2.5)
	if res := d.recordAction("keep", "2501"); res.State != control.StateKept || res.Call.ID != s.keys["callid"] {
		t.Errorf("record keep 2501 = %+v", res)
	}
	s.send("PCMU", 0.5)
	whole := time.Since(began) // the audio, and the keep between
	rec := s.hangUp()
	if rec.Status != control.RecordingComplete || math.Abs(float64(rec.DurationMS-whole.Milliseconds())) > 400 {
		t.Errorf("kept call: %s, %d ms; want complete, the whole %v", rec.Status, rec.DurationMS, whole.Round(time.Millisecond))
	}

	// Keep after the end, within the grace, by record id.
	s = d.setup(spec)
	id := d.liveCall(s.keys["callid"]).RecordID
	s.send("PCMU", 1)
	d.sipp("bye.xml", s.transport, s.keys)
	if res := d.recordAction("keep", id); res.State != control.StateKept {
		t.Errorf("record keep %s after the end = %+v", id, res)
	}
	if rec := d.sealed(s.keys["callid"]); rec.ID != id || math.Abs(float64(rec.DurationMS)-1000) > 300 {
		t.Errorf("kept after its end: %+v", rec)
	}

	// Keep means nothing to an always-on user.
	d.cli("users", "add", "ao", "--ext", "2600")
	ao := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2600", callee: "+15558201320", codec: "PCMU"})
	if _, err := d.cliErr("record", "keep", "2600"); err == nil || !strings.Contains(err.Error(), "keep is for live-keep users") {
		t.Errorf("record keep on an always-on call: %v", err)
	}
	if _, err := d.cliErr("record", "start", "9999"); err == nil || !strings.Contains(err.Error(), "no live call") {
		t.Errorf("record start of an extension without a call: %v", err)
	}
	ao.send("PCMU", 0.5)
	ao.hangUp()
	d.cliJSON(&st, "status")
	if st.LiveKeepDestroyed != 1 {
		t.Errorf("live_keep_destroyed = %d, want 1", st.LiveKeepDestroyed)
	}
}

// TestOnDemandWindow: an On Demand user starts at 3 s and stops at 7 s of
// a 10 s call; the file holds those 4 s and only them: leg 2's tone,
// which is all that was sent between start and stop.
func TestOnDemandWindow(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	d.cli("users", "add", "od", "--ext", "2501", "--mode", "on-demand")
	spec := callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"}

	// Never started: no recording at all.
	s := d.setup(spec)
	s.send("PCMU", 1)
	d.sipp("bye.xml", s.transport, s.keys)

	s = d.setup(spec)
	if c := d.liveCall(s.keys["callid"]); c.State != control.StateWaiting {
		t.Errorf("on-demand call before start: state %q", c.State)
	}
	s.sendLeg("1", "PCMU", 3)
	start := timed(func() {
		if res := d.recordAction("start", "2501"); res.State != control.StateRecording {
			t.Errorf("record start = %+v", res)
		}
	})
	s.sendLeg("2", "PCMU", 4)
	stop := timed(func() {
		if res := d.recordAction("stop", "2501"); res.State != control.StateWaiting {
			t.Errorf("record stop = %+v", res)
		}
	})
	s.sendLeg("1", "PCMU", 3)
	rec := s.hangUp()
	if lo, hi := stop.from.Sub(start.to), stop.to.Sub(start.from); len(rec.Windows) != 1 || !within(rec.DurationMS, lo, hi) || rec.Windows[0].AtMS < 2700 {
		t.Errorf("on-demand recording: %d ms, windows %+v; want one window from about 3 s, of %v to %v", rec.DurationMS, rec.Windows, lo, hi)
	}
	pcm := decode(t, exportAudio(t, d, rec))
	mid := pcm[len(pcm)/8 : len(pcm)*7/8]
	if p2, p1 := testaudio.Power(mid, toneLeg2, 8000), testaudio.Power(mid, toneLeg1, 8000); p2 < 1e-3 || p1 > p2/100 {
		t.Errorf("the window holds %g of leg 2's tone and %g of leg 1's; want only leg 2's", p2, p1)
	}
	if recs := d.recordings(); len(recs) != 1 {
		t.Errorf("%d recordings, want only the started call's", len(recs))
	}
}

// TestPauseLeavesSilence: a pause from 3 s to 7 s of a 10 s call leaves
// 4 s of silence in a 10 s file, listed in the recording's pauses.
func TestPauseLeavesSilence(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	d.cli("users", "add", "pci", "--ext", "2501")
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"})
	id := d.liveCall(s.keys["callid"]).RecordID
	began := time.Now()
	s.send("PCMU", 3)
	pause := timed(func() {
		if res := d.recordAction("pause", "2501"); res.State != control.StatePaused {
			t.Errorf("record pause = %+v", res)
		}
	})
	s.send("PCMU", 4)
	resume := timed(func() {
		if res := d.recordAction("resume", id); res.State != control.StateRecording {
			t.Errorf("record resume = %+v", res)
		}
	})
	s.send("PCMU", 3)
	whole := time.Since(began)
	rec := s.hangUp()
	if lo, hi := resume.from.Sub(pause.to), resume.to.Sub(pause.from); !within(rec.DurationMS, whole, whole) || len(rec.Pauses) != 1 ||
		rec.Pauses[0].AtMS < 2700 || !within(rec.Pauses[0].DurMS, lo, hi) {
		t.Fatalf("paused recording: %d ms, pauses %+v; want the whole %v, with one pause from about 3 s of %v to %v",
			rec.DurationMS, rec.Pauses, whole.Round(time.Millisecond), lo.Round(time.Millisecond), hi.Round(time.Millisecond))
	}
	pcm := decode(t, exportAudio(t, d, rec))
	at := func(ms int64) int { return int(ms * 8) }
	p := rec.Pauses[0]
	paused := pcm[at(p.AtMS+100):at(p.AtMS+p.DurMS-100)]
	before, after := pcm[at(300):at(p.AtMS-100)], pcm[at(p.AtMS+p.DurMS+100):len(pcm)-at(300)]
	for name, part := range map[string][]int16{"before": before, "after": after} {
		if testaudio.Power(part, toneLeg1, 8000) < 1e-3 || testaudio.Power(part, toneLeg2, 8000) < 1e-3 {
			t.Errorf("the audio %s the pause lacks the tones", name)
		}
	}
	var peak int16
	for _, v := range paused {
		peak = max(peak, v, -v)
	}
	if peak > 64 {
		t.Errorf("the pause is not silent: peak %d", peak)
	}
}

// phonePage is the part of a CiscoIPPhoneText the test reads.
type phonePage struct {
	XMLName  xml.Name `xml:"CiscoIPPhoneText"`
	Title    string   `xml:"Title"`
	Text     string   `xml:"Text"`
	SoftKeys []struct {
		Name string `xml:"Name"`
		URL  string `xml:"URL"`
	} `xml:"SoftKeyItem"`
}

// TestPhoneService: the Cisco IP Phone service's URLs start and stop an
// On Demand recording and answer with XML that parses as CiscoIPPhoneText.
func TestPhoneService(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{tables: "[phone]\nlisten = \"127.0.0.1:0\"\nallow = [\"127.0.0.0/8\"]"})
	var st control.Status
	d.cliJSON(&st, "status")
	if st.PhoneListen == "" {
		t.Fatal("status has no phone_listen")
	}
	get := func(query string) phonePage {
		t.Helper()
		resp, err := http.Get("http://" + st.PhoneListen + "/phone/record?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var page phonePage
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") || xml.Unmarshal(body, &page) != nil {
			t.Fatalf("GET %s: %s %s\n%s", query, resp.Status, resp.Header.Get("Content-Type"), body)
		}
		return page
	}
	if page := get("ext=2501&action=start"); !strings.Contains(page.Text, "No call") {
		t.Errorf("start without a call: %+v", page)
	}
	d.cli("users", "add", "od", "--ext", "2501", "--mode", "on-demand")
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"})
	var page phonePage
	start := timed(func() { page = get("ext=2501&action=start") })
	if !strings.Contains(page.Text, "recording") || len(page.SoftKeys) == 0 {
		t.Errorf("start: %+v", page)
	}
	for _, k := range page.SoftKeys {
		if strings.HasPrefix(k.URL, "http") && !strings.Contains(k.URL, "ext=2501") {
			t.Errorf("softkey %s leads to %s, without the extension", k.Name, k.URL)
		}
	}
	s.send("PCMU", 2)
	stop := timed(func() { page = get("ext=2501&action=stop") })
	if !strings.Contains(page.Text, "waiting for start") && !strings.Contains(strings.ToLower(page.Text), "stopped") {
		t.Errorf("stop: %+v", page)
	}
	if page := get("ext=2501&action=keep"); !strings.Contains(page.Text, "live-keep") {
		t.Errorf("keep of an on-demand call: %+v", page)
	}
	rec := s.hangUp()
	if lo, hi := stop.from.Sub(start.to), stop.to.Sub(start.from); !within(rec.DurationMS, lo, hi) {
		t.Errorf("the phone's window: %d ms, want %v to %v", rec.DurationMS, lo, hi)
	}
	resp, err := http.Get("http://" + st.PhoneListen + "/phone/menu?ext=2501")
	if err != nil {
		t.Fatal(err)
	}
	menu, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(menu, []byte("<CiscoIPPhoneMenu")) {
		t.Errorf("menu: %s\n%s", resp.Status, menu)
	}
}
