package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// The end-to-end tests of issue 5, "every call kept": a crash, a full
// disk, a drain with many calls, tampered files, an oversized Call-ID and
// an index rebuilt from the files.

// setupAwaitingBye sets up one recording session with a sipp gateway that
// stays up for the recorder's BYE; the returned function waits for sipp
// and returns its log (one "BYE <call-id> REASON [...]" line per call).
func (d *daemonProc) setupAwaitingBye(c callSpec) (*session, func() string) {
	d.t.Helper()
	keys := map[string]string{
		"callid":  fmt.Sprintf("e2e-%d-%s@127.0.0.1", time.Now().UnixNano(), c.transport),
		"fromtag": "src" + strconv.Itoa(os.Getpid()), "caller": c.caller, "callee": c.callee,
		"codecpt": strconv.Itoa(int(codecs[c.codec].pt)), "codecname": c.codec,
	}
	wait := d.sippStart("cube-invite-await-bye.xml", c.transport, 1, keys)
	s := d.newSession(c.transport, keys)
	s.checkLegs(c.codec)
	return s, wait
}

// byeReasonRE reads sipp's log line "BYE <call-id> REASON <Reason value>".
var byeReasonRE = regexp.MustCompile(`(?m)^BYE (\S+) REASON\s+(.*?)\s*$`)

// checkByeReason checks that sipp logged n BYEs from the recorder, each
// with the Reason want.
func checkByeReason(t *testing.T, logs string, n int, want string) {
	t.Helper()
	m := byeReasonRE.FindAllStringSubmatch(logs, -1)
	if len(m) != n {
		t.Errorf("the gateway got %d BYEs from the recorder, want %d:\n%s", len(m), n, logs)
	}
	for _, b := range m {
		if b[2] != want {
			t.Errorf("BYE for %s: Reason %q, want %q", b[1], b[2], want)
		}
	}
}

// recordings returns the newest recordings (at most 100).
func (d *daemonProc) recordings() []control.Recording {
	d.t.Helper()
	var recs []control.Recording
	d.cliJSON(&recs, "search", "--limit", "100")
	return recs
}

// exportAndDecode exports a recording and checks ffmpeg decodes it to as
// long as its duration_ms says, with both tones.
func exportAndDecode(t *testing.T, d *daemonProc, rec control.Recording) {
	t.Helper()
	checkSignals(t, exportAudio(t, d, rec), mono, float64(rec.DurationMS)/1000)
}

// partFiles lists the .part files under the data dir.
func partFiles(t *testing.T, data string) []string {
	t.Helper()
	var parts []string
	filepath.WalkDir(filepath.Join(data, "records"), func(path string, e os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".part") {
			parts = append(parts, path)
		}
		return nil
	})
	return parts
}

// TestKill9MidCallIsRecovered: a daemon killed with SIGKILL 6 s into a
// call leaves a .part; the next start seals it as "recovered" before it
// serves SIP: searchable under the same id with its owner, at most 1.5 s
// short, playable; ids never repeat. Then the index is deleted and rebuilt
// from the files alone.
func TestKill9MidCallIsRecovered(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	d.cli("users", "add", "john_doe", "--name", "John Doe", "--ext", "2501")
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"})
	callID := s.keys["callid"]
	recordID := d.liveCall(callID).RecordID
	s.send("PCMU", 6)
	d.kill9()
	if parts := partFiles(t, d.data); len(parts) != 1 {
		t.Fatalf(".part files after kill -9: %v, want one", parts)
	}

	again := startDaemon(t, daemonOptions{recordUnknown: true, dir: d.dir})
	rec := again.sealed(callID)
	want := control.Recording{ID: recordID, User: "john_doe", FullName: "John Doe", Extension: "2501",
		Remote: "+15558201320", Direction: "OUT", Status: control.RecordingRecovered}
	if rec.ID != want.ID || rec.User != want.User || rec.FullName != want.FullName || rec.Extension != want.Extension ||
		rec.Remote != want.Remote || rec.Direction != want.Direction || rec.Status != want.Status {
		t.Errorf("recovered recording = %+v, want %+v", rec, want)
	}
	if rec.DurationMS < 4500 || rec.DurationMS > 6100 {
		t.Errorf("recovered recording lasts %d ms of the 6000 sent, want at most 1.5 s short", rec.DurationMS)
	}
	if !strings.Contains(again.stderr.String(), "recording recovered") {
		t.Errorf("the recovery is not logged:\n%s", again.stderr.String())
	}
	if parts := partFiles(t, again.data); len(parts) != 0 {
		t.Errorf(".part files after recovery: %v", parts)
	}
	exportAndDecode(t, again, rec)
	if out := again.cli("verify", rec.ID); !strings.Contains(out, "intact") {
		t.Errorf("verify %s: %s", rec.ID, out)
	}
	next := again.record(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "2501", callee: "+15550001111", codec: "PCMU"})
	if next.ID <= rec.ID {
		t.Errorf("id after recovery %s is not above the recovered %s", next.ID, rec.ID)
	}

	// Reindex: the index deleted, rebuilt from the files alone.
	before := again.recordings()
	again.stop()
	if err := os.RemoveAll(filepath.Join(again.data, "index")); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bins(t), "callvaultd"), "reindex", "-data", again.data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "reindexed 2 recordings") {
		t.Fatalf("callvaultd reindex: %v\n%s", err, out)
	}
	third := startDaemon(t, daemonOptions{recordUnknown: true, dir: d.dir})
	after := third.recordings()
	if len(after) != len(before) {
		t.Fatalf("after reindex %d recordings, before %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Status != b.Status || a.File != b.File || a.SHA256 != b.SHA256 || a.User != b.User || a.DurationMS != b.DurationMS || a.SHA256 == "" {
			t.Errorf("reindexed %+v\nwas %+v", a, b)
		}
	}
	last := third.record(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "2501", callee: "+15550002222", codec: "PCMU"})
	if last.ID <= next.ID {
		t.Errorf("id after reindex %s is not above %s", last.ID, next.ID)
	}
}

// TestDamagedFilesAreFoundAndRefused: a flipped byte, a truncated file and
// a deleted one are reported by verify (through the daemon and offline)
// and export sends nothing of them: non-zero exit, HTTP 422, zero bytes.
func TestDamagedFilesAreFoundAndRefused(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	var recs []control.Recording
	for i := range 4 {
		s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "5551000", callee: fmt.Sprint(5552000 + i), codec: "PCMA"})
		s.send("PCMA", 1)
		recs = append(recs, s.hangUp())
	}
	path := func(r control.Recording) string { return filepath.Join(d.data, filepath.FromSlash(r.File)) }
	flipped, truncated, deleted, intact := recs[0], recs[1], recs[2], recs[3]
	f, err := os.OpenFile(path(flipped), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := flipped.Size - 3000 // inside an audio segment
	f.ReadAt(b, off)
	b[0] ^= 0x01
	f.WriteAt(b, off)
	f.Close()
	if err := os.Truncate(path(truncated), truncated.Size-100); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path(deleted)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{flipped.ID: "tampered", truncated.ID: "truncated", deleted.ID: "missing", intact.ID: "intact"}

	out, err := d.cliErr("verify", "--all")
	if err == nil {
		t.Errorf("callvault verify --all exited 0 with damaged files:\n%s", out)
	}
	checkVerifyLines(t, "callvault verify --all", out, want)
	if out, err := d.cliErr("verify", intact.ID); err != nil || !strings.Contains(out, "intact") {
		t.Errorf("callvault verify %s: %v\n%s", intact.ID, err, out)
	}

	for _, r := range []control.Recording{flipped, truncated, deleted} {
		stdout, err := d.cliErr("export", r.ID, "-o", "-")
		if err == nil || stdout != "" {
			t.Errorf("export %s (%s) -o -: err %v, %d bytes on stdout; want a failure and nothing written", r.ID, want[r.ID], err, len(stdout))
		}
		file := filepath.Join(t.TempDir(), "x.mp3")
		if _, err := d.cliErr("export", r.ID, "-o", file); err == nil {
			t.Errorf("export %s -o FILE succeeded", r.ID)
		}
		if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("export %s left %s behind", r.ID, file)
		}
		code, body := rawGet(t, d.socket, "/v1/recordings/"+r.ID+"/audio")
		if code != http.StatusUnprocessableEntity || strings.Contains(body, "ID3") || !strings.Contains(body, `"error"`) {
			t.Errorf("GET audio of %s (%s): HTTP %d, body %q; want 422 and a JSON error", r.ID, want[r.ID], code, tail(body, 200))
		}
	}
	d.cli("export", intact.ID, "-o", filepath.Join(t.TempDir(), "ok.mp3"))

	d.stop()
	cmd := exec.Command(filepath.Join(bins(t), "callvaultd"), "verify", "-data", d.data)
	outb, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("callvaultd verify: %v, want exit 1", err)
	}
	checkVerifyLines(t, "callvaultd verify", string(outb), want)
}

// checkVerifyLines checks a verify listing names each id with its status.
func checkVerifyLines(t *testing.T, what, out string, want map[string]string) {
	t.Helper()
	for id, status := range want {
		found := false
		for line := range strings.SplitSeq(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == id {
				found = true
				if f[1] != status {
					t.Errorf("%s: %s is %s, want %s", what, id, f[1], status)
				}
			}
		}
		if !found {
			t.Errorf("%s does not list %s:\n%s", what, id, out)
		}
	}
}

// rawGet does one GET on the control socket and returns status and body.
func rawGet(t *testing.T, socket, path string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	resp, err := c.Get("http://callvaultd" + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestOversizedCallIDIsRecorded: an 8,000-byte Call-ID is clipped in the
// index and the file's head; the recording is kept. sipp cuts Call-IDs at
// 2 KB, so the gateway here is a plain TCP socket sending cube-invite.xml's
// INVITE.
func TestOversizedCallIDIsRecorded(t *testing.T) {
	testaudio.Require(t, "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	callID := strings.Repeat("a1b2c3d4", 1000) + "@gw.example.com"
	gw := dialSIP(t, d.sipPort)
	keys := map[string]string{"call_id": callID, "fromtag": "big", "caller": "5551000", "callee": "5552000",
		"codecpt": "0", "codecname": "PCMU", "branch": "z9hG4bK-big-1"}
	res := gw.request(sippMessage(t, "cube-invite.xml", 0, gw.vars(keys)))
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE with an 8,000-byte Call-ID: %s", tail(res, 300))
	}
	m := regexp.MustCompile(`(?m)^To:.*;tag=([^;\r\n]+)`).FindStringSubmatch(res)
	if m == nil {
		t.Fatalf("200 without a To tag: %s", tail(res, 300))
	}
	keys["totag"] = m[1]
	keys["branch"] = "z9hG4bK-big-2"
	gw.send(sippMessage(t, "cube-invite.xml", 1, gw.vars(keys)))
	s := d.newSession("t1", map[string]string{"callid": callID})
	s.checkLegs("PCMU")
	s.send("PCMU", 2)
	keys["branch"] = "z9hG4bK-big-3"
	if res := gw.request(sippMessage(t, "bye.xml", 0, gw.vars(keys))); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("BYE: %s", tail(res, 300))
	}
	rec := d.recordingWhere("recording of the call with an 8,000-byte Call-ID", func(r control.Recording) bool {
		return r.CallID != "" && strings.HasPrefix(callID, r.CallID)
	})
	if rec.Status != control.RecordingComplete || len(rec.CallID) > 256 || math.Abs(float64(rec.DurationMS)-2000) > 200 {
		t.Errorf("recording = status %s, call_id %d bytes, %d ms; want complete, clipped to 256, 2000 ms", rec.Status, len(rec.CallID), rec.DurationMS)
	}
	exportAndDecode(t, d, rec)
}

// sipConn is a gateway speaking SIP over one TCP or TLS connection.
type sipConn struct {
	t         *testing.T
	conn      net.Conn
	buf       []byte
	transport string // "TCP" (when empty) or "TLS"
}

func dialSIP(t *testing.T, port int) *sipConn {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &sipConn{t: t, conn: c}
}

// vars are the sipp variables of a message sent on this connection.
func (g *sipConn) vars(keys map[string]string) map[string]string {
	local := g.conn.LocalAddr().(*net.TCPAddr)
	remote := g.conn.RemoteAddr().(*net.TCPAddr)
	v := map[string]string{"local_ip": local.IP.String(), "local_port": strconv.Itoa(local.Port),
		"remote_ip": "127.0.0.1", "remote_port": strconv.Itoa(remote.Port), "transport": cmp.Or(g.transport, "TCP"),
		"pid": strconv.Itoa(os.Getpid())}
	for k, val := range keys {
		v[k] = val
	}
	return v
}

func (g *sipConn) send(msg string) {
	g.t.Helper()
	g.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(g.conn, msg); err != nil {
		g.t.Fatalf("send: %v", err)
	}
}

// request sends msg and returns the first final response.
func (g *sipConn) request(msg string) string {
	g.t.Helper()
	g.send(msg)
	for {
		res := g.read()
		if !strings.HasPrefix(res, "SIP/2.0 1") {
			return res
		}
	}
}

// read returns the next message received (headers and body).
func (g *sipConn) read() string {
	g.t.Helper()
	g.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	chunk := make([]byte, 64<<10)
	for {
		if end := strings.Index(string(g.buf), "\r\n\r\n"); end >= 0 {
			n := 0
			if m := regexp.MustCompile(`(?mi)^(?:Content-Length|l):\s*(\d+)`).FindSubmatch(g.buf[:end]); m != nil {
				n, _ = strconv.Atoi(string(m[1]))
			}
			if len(g.buf) >= end+4+n {
				msg := string(g.buf[:end+4+n])
				g.buf = g.buf[end+4+n:]
				return msg
			}
		}
		k, err := g.conn.Read(chunk)
		if err != nil {
			g.t.Fatalf("read: %v", err)
		}
		g.buf = append(g.buf, chunk[:k]...)
	}
}

var (
	cdataRE   = regexp.MustCompile(`(?s)<send[^>]*>\s*<!\[CDATA\[\n(.*?)\s*\]\]>`)
	sippVarRE = regexp.MustCompile(`\[([a-z_]+)\]`)
)

// sippMessage renders the nth <send> of a sipp scenario with vars, CRLF
// line ends and the body's Content-Length, as sipp would send it.
func sippMessage(t *testing.T, scenario string, n int, vars map[string]string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	sends := cdataRE.FindAllStringSubmatch(string(raw), -1)
	if n >= len(sends) {
		t.Fatalf("%s has %d <send>s", scenario, len(sends))
	}
	msg := sippVarRE.ReplaceAllStringFunc(sends[n][1], func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
	msg = strings.ReplaceAll(strings.TrimRight(msg, "\n")+"\n", "\n", "\r\n")
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	if body == "" {
		head = strings.TrimSuffix(head, "\r\n")
	}
	head = strings.Replace(head, "[len]", strconv.Itoa(len(body)), 1)
	return head + "\r\n\r\n" + body
}

// TestDrainWithTwentyLiveCalls: SIGTERM with 20 live calls: while they are
// sealed and their gateways get a BYE, new INVITEs get 503; all 20 are
// sealed complete, and the daemon exits 0.
func TestDrainWithTwentyLiveCalls(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	const n = 20
	d := startDaemon(t, daemonOptions{recordUnknown: true, channels: 100})
	keys := map[string]string{"fromtag": "drain", "caller": "5551000", "callee": "5552000", "codecpt": "0", "codecname": "PCMU"}
	gateway := d.sippStart("cube-invite-await-bye.xml", "u1", n, keys)
	calls := d.waitLiveCalls(n)
	var streams []testaudio.Stream
	tone1 := testaudio.EncodeUlaw(testaudio.Tone(toneLeg1, 8000, 3*8000, 12000))
	tone2 := testaudio.EncodeUlaw(testaudio.Tone(toneLeg2, 8000, 3*8000, 12000))
	for i, c := range calls {
		for j, l := range c.Legs {
			payload := tone1
			if l.Label == "2" {
				payload = tone2
			}
			streams = append(streams, testaudio.Stream{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.Port}, PT: 0, SSRC: uint32(0x2000 + 2*i + j), Payload: payload})
		}
	}
	if err := testaudio.SendPaced(streams); err != nil {
		t.Fatal(err)
	}

	d.stopped = true
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.waitDraining()
	refused := d.sipp("refused-invite.xml", "u1", map[string]string{"callid": "late@127.0.0.1", "fromtag": "late",
		"caller": "5551000", "callee": "5552000", "codecpt": "0", "codecname": "PCMU"})
	if !strings.Contains(refused, "WARNING") {
		t.Errorf("the INVITE during the drain got no Warning:\n%s", refused)
	}
	checkByeReason(t, gateway(), n, `SIP;cause=503;text="recorder shutting down"`)
	if err := <-d.exited; err != nil {
		t.Fatalf("callvaultd exit after SIGTERM: %v\n%s", err, d.stderr.String())
	}

	again := startDaemon(t, daemonOptions{recordUnknown: true, dir: d.dir})
	recs := again.recordings()
	if len(recs) != n {
		t.Fatalf("%d recordings after the drain, want %d", len(recs), n)
	}
	for _, r := range recs {
		if r.Status != control.RecordingComplete || math.Abs(float64(r.DurationMS)-3000) > 300 {
			t.Errorf("recording %s: status %s, %d ms; want complete, 3000 ms", r.ID, r.Status, r.DurationMS)
		}
	}
	exportAndDecode(t, again, recs[0])
}

// waitLiveCalls waits until the daemon lists n live calls with two legs.
func (d *daemonProc) waitLiveCalls(n int) []control.Call {
	d.t.Helper()
	var calls []control.Call
	d.until(20*time.Second, fmt.Sprintf("%d live calls with two legs", n), func() bool {
		d.cliJSON(&calls, "calls")
		ready := 0
		for _, c := range calls {
			if len(c.Legs) == 2 {
				ready++
			}
		}
		return ready == n
	})
	return calls
}

// mountTmpfs mounts a tmpfs of size bytes for the test, or skips the test
// where the machine does not allow it (not root, no mount in a container).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("a small file system is needed and tmpfs cannot be mounted here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillTo grows the file filler under dir until the file system has free
// bytes left (as statfs counts them).
func fillTo(t *testing.T, dir string, free uint64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	now := st.Bavail * uint64(st.Bsize)
	if now <= free {
		t.Fatalf("only %d bytes free, want to leave %d", now, free)
	}
	f, err := os.OpenFile(filepath.Join(dir, "filler"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, fi.Size(), int64(now-free)); err != nil {
		t.Fatalf("fill %s: %v", dir, err)
	}
}

// waitAlarms waits until the daemon's active alarms are exactly names.
func (d *daemonProc) waitAlarms(names ...string) control.Status {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st control.Status
		d.cliJSON(&st, "status")
		var got []string
		for _, a := range st.Alarms {
			got = append(got, a.Name)
		}
		if strings.Join(got, ",") == strings.Join(names, ",") {
			return st
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("alarms %v, want %v (disk %+v)", got, names, st.Disk)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFullDisk: on a small file system, below the reserve a new INVITE
// gets 503 with a Warning while the live call goes on; below the floor the
// live call is sealed, playable, and its gateway gets a BYE with a Reason;
// the daemon stays up, and when space returns the alarms clear and calls
// are recorded again.
func TestFullDisk(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	mnt := mountTmpfs(t, 256<<20)
	d := startDaemon(t, daemonOptions{recordUnknown: true, data: filepath.Join(mnt, "data"), minFree: "64MiB"})
	s, gateway := d.setupAwaitingBye(callSpec{transport: "u1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	callID := s.keys["callid"]
	sent := make(chan error, 1)
	go func() { // the gateway streams until the recorder hangs up
		c := codecs["PCMU"]
		n := 60 * 8000
		sent <- testaudio.SendPaced([]testaudio.Stream{
			{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports["1"]}, PT: c.pt, SSRC: 0x3001, Payload: c.encode(testaudio.Tone(toneLeg1, 8000, n, 12000))},
			{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports["2"]}, PT: c.pt, SSRC: 0x3002, Payload: c.encode(testaudio.Tone(toneLeg2, 8000, n, 12000))},
		})
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) { // audio before the disk fills
		if legs := d.liveCall(callID).Legs; len(legs) == 2 && legs[0].Packets >= 75 && legs[1].Packets >= 75 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no RTP reached the recorder")
		}
	}

	fillTo(t, mnt, 48<<20) // below the 64 MiB reserve, above the 32 MiB floor
	d.waitAlarms(control.AlarmDiskLow)
	refused := d.sipp("refused-invite.xml", "u1", map[string]string{"callid": "refused@127.0.0.1", "fromtag": "late",
		"caller": "5551000", "callee": "5552000", "codecpt": "0", "codecname": "PCMU"})
	if !strings.Contains(refused, "recorder disk full") {
		t.Errorf("503 below the reserve without the reason in its Warning:\n%s", refused)
	}
	d.liveCall(callID) // the live call goes on

	fillTo(t, mnt, 16<<20) // below the floor
	rec := d.sealed(callID)
	checkByeReason(t, gateway(), 1, `SIP;cause=503;text="recorder disk full"`)
	if rec.Status != control.RecordingComplete || rec.DurationMS < 1500 {
		t.Errorf("recording hung up at the floor: status %s, %d ms; want complete, at least 1.5 s", rec.Status, rec.DurationMS)
	}
	exportAndDecode(t, d, rec)
	d.waitAlarms(control.AlarmDiskLow, control.AlarmDiskFull)
	if err := <-sent; err == nil {
		t.Log("the RTP sender finished before the hang-up")
	}

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	d.waitAlarms()
	next := d.record(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "5551000", callee: "5552001", codec: "PCMU"})
	if next.Status != control.RecordingComplete {
		t.Errorf("recording after space returned: %+v", next)
	}
	if out, err := d.cliErr("verify", "--all"); err != nil {
		t.Errorf("verify --all after the full disk: %v\n%s", err, out)
	}
	if strings.Contains(d.stderr.String(), "SIGBUS") || partFiles(t, d.data) != nil {
		t.Errorf("a crash or a .part left behind:\n%s", tail(d.stderr.String(), 3000))
	}
}

// TestSecondSignalStopsAtOnce: a SIGQUIT while the daemon drains (waiting
// for a gateway's answer to its BYE) stops it at once, exit status 1; the
// next start has the call, sealed or recovered.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	s, gateway := d.setupAwaitingBye(callSpec{transport: "u1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	s.send("PCMU", 1)
	d.stopped = true
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.waitDraining()
	d.cmd.Process.Signal(syscall.SIGQUIT)
	err := <-d.exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(d.stderr.String(), "stopping at once") {
		t.Errorf("callvaultd after SIGTERM then SIGQUIT: %v, want exit status 1 and \"stopping at once\"\n%s", err, tail(d.stderr.String(), 2000))
	}
	gateway()
	again := startDaemon(t, daemonOptions{recordUnknown: true, dir: d.dir})
	if rec := again.sealed(s.keys["callid"]); rec.Status == control.RecordingFailed {
		t.Errorf("the call cut off by SIGQUIT: %+v", rec)
	}
}

// waitDraining waits until the daemon says it is draining.
func (d *daemonProc) waitDraining() {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st control.Status
		out, err := d.cliErr("status", "--json")
		if err == nil && json.Unmarshal([]byte(out), &st) == nil && st.Draining {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the daemon never said it was draining: %v %s", err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
