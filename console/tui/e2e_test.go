package tui

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/syncbuf"
	"github.com/callvault/callvault/internal/testaudio"
	"github.com/gdamore/tcell/v2"
)

// The console's end-to-end test: the real callvaultd, built from
// ../../daemon, a real SIPREC call placed by sipp, and the console on a
// simulation screen, read back as text. It checks what a NOC sees: the
// call live with its owner and the call rate, the call leaving, its
// recording found by a search, and the console finding a restarted daemon
// by itself.

// TestE2EConsoleFollowsRealDaemon: a call with its owner and a call rate
// above zero on the dashboard; after the BYE the call leaves and its
// recording is found on the Recordings screen; the daemon restarts under
// the running console, which connects again without a key press.
func TestE2EConsoleFollowsRealDaemon(t *testing.T) {
	testaudio.Require(t, "sipp")
	t.Parallel()
	bin := buildDaemon(t)
	dir := t.TempDir()
	d := startDaemon(t, bin, dir)
	client := &control.Client{Socket: d.socket}
	ctx := t.Context()
	if err := client.AddUser(ctx, control.User{Username: "john_doe", FullName: "John Doe", Extensions: []string{"2501"}}); err != nil {
		t.Fatalf("add user: %v", err)
	}

	c := startConsole(t, d.socket, 120, 40)
	c.waitFor("connected", "0 of 8", "Live calls: 0", "peak 0.00")

	// One call from extension 2501, held 10 s: 2 s of tones on its legs,
	// then the BYE.
	const remote = "+15558201320"
	hungUp := d.sippCall(t, "e2e-console@127.0.0.1", "2501", remote, 10*time.Second)
	call := liveCall(t, client)
	c.waitFor("john_doe", "2501", remote, "OUT", "PCMU", "always", "recording", "Live calls: 1", "1 of 8")
	c.waitUntil("calls per second above zero", func(s string) bool {
		now, _, ok := rates(s)
		return ok && now > 0
	})
	// 2 s of RTP a leg: 100 packets each, counted on the dashboard from
	// the once-a-second stats event while the call goes on.
	sendTones(t, call)
	c.waitUntil("each leg's 100 packets on the dashboard", func(s string) bool {
		return strings.Contains(s, "1:100/") && strings.Contains(s, "2:100/")
	})

	hungUp()
	c.waitUntil("the call gone from the live table", func(s string) bool {
		return !strings.Contains(s, remote) && strings.Contains(s, "Live calls: 0") && strings.Contains(s, "0 of 8")
	})
	rec := sealedRecording(t, client, call.ID)
	if rec.ID != call.RecordID {
		t.Errorf("recording id %q, live call's record id %q", rec.ID, call.RecordID)
	}

	c.typeText("2")
	c.waitFor("Search", "Export to")
	c.typeText("/")     // the cursor in From
	c.key(tcell.KeyTab) // To
	c.key(tcell.KeyTab) // User
	c.typeText("john_doe")
	for range 6 { // Ext, Remote, Dir, Min s, Export to, the Search button
		c.key(tcell.KeyTab)
	}
	c.key(tcell.KeyEnter)
	if rec.Status != control.RecordingComplete {
		t.Errorf("recording status %q, want %q (2 s of tones on both legs)", rec.Status, control.RecordingComplete)
	}
	c.waitFor("page 1, 1", rec.ID, remote, "john_doe", "OUT", "complete", "John Doe", "e2e-console@127.0.0.1")

	// The daemon restarts: the console says so, retries by itself and
	// shows the new daemon's state (its peak rate starts over).
	c.key(tcell.KeyF1)
	c.waitFor("Live calls: 0", "peak 1.00")
	d.stop(t)
	c.waitFor("disconnected, retrying")
	d2 := startDaemon(t, bin, dir)
	if d2.socket != d.socket {
		t.Fatalf("restarted daemon's socket %q, want %q", d2.socket, d.socket)
	}
	c.waitUntil("connected to the restarted daemon", func(s string) bool {
		return !strings.Contains(s, "disconnected") && strings.Contains(s, "connected") &&
			strings.Contains(s, "0 of 8") && strings.Contains(s, "peak 0.00")
	})
}

// rateRE reads the rate pane's first line: "now 0.20  1s 0.00".
var rateRE = regexp.MustCompile(`now (\d+\.\d+)  1s (\d+\.\d+)`)

// rates is the 5 s and 1 s call rates the screen shows.
func rates(screen string) (now, last1s float64, ok bool) {
	m := rateRE.FindStringSubmatch(screen)
	if m == nil {
		return 0, 0, false
	}
	now, err1 := strconv.ParseFloat(m[1], 64)
	last1s, err2 := strconv.ParseFloat(m[2], 64)
	return now, last1s, err1 == nil && err2 == nil
}

// liveCall waits for the daemon to list a call with both legs' ports.
func liveCall(t *testing.T, client *control.Client) control.Call {
	t.Helper()
	var found control.Call
	until(t, "a live call with two legs listed by the daemon", func() bool {
		calls, err := client.Calls(t.Context())
		if err != nil || len(calls) != 1 || len(calls[0].Legs) != 2 {
			return false
		}
		found = calls[0]
		return found.Legs[0].Port != 0 && found.Legs[1].Port != 0
	})
	return found
}

// sendTones sends 2 s of a tone on each leg of call, in real time.
func sendTones(t *testing.T, call control.Call) {
	t.Helper()
	const samples = 2 * 8000
	var streams []testaudio.Stream
	for i, l := range call.Legs {
		streams = append(streams, testaudio.Stream{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.Port},
			PT: 0, SSRC: 0x5000 + uint32(i), Payload: testaudio.EncodeUlaw(testaudio.Tone(400*float64(i+1), 8000, samples, 12000))})
	}
	if err := testaudio.SendPaced(streams); err != nil {
		t.Fatalf("send RTP: %v", err)
	}
}

// sealedRecording waits until the daemon's search finds the recording of
// the call callID.
func sealedRecording(t *testing.T, client *control.Client, callID string) control.Recording {
	t.Helper()
	var found control.Recording
	until(t, "the recording of "+callID+" found by the daemon's search", func() bool {
		recs, err := client.Search(t.Context(), control.Query{User: "john_doe", Limit: 10})
		if err != nil {
			return false
		}
		for _, r := range recs {
			if r.CallID == callID {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// until checks done every 50 ms until it holds; after limit it fails the
// test with what.
func until(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildDaemon builds callvaultd into a temp dir, with -race when this
// test binary has it, and returns the binary's path.
func buildDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "callvaultd")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../../daemon")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("build callvaultd: %v\n%s", err, out.String())
	}
	return bin
}

// raceEnabled reports whether this test binary was built with -race, as
// its build settings record.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// daemonProc is one running callvaultd.
type daemonProc struct {
	socket  string
	sipPort int
	cmd     *exec.Cmd
	log     *lockedBuffer
	exited  chan error
	once    sync.Once
}

// startDaemon runs bin with a config in dir (written on first use, kept
// for a restart): SIP on a loopback port it picks, an RTP range of its
// own, data and control socket in dir. It returns once the daemon has
// sent READY=1 and said which SIP port it took.
func startDaemon(t *testing.T, bin, dir string) *daemonProc {
	t.Helper()
	conf := filepath.Join(dir, "callvaultd.toml")
	if _, err := os.Stat(conf); err != nil {
		lo := testaudio.RTPRange(t)
		text := fmt.Sprintf(`version = 1
data_dir = %q
control_socket = %q
[sip]
listen = "127.0.0.1:0"
source_ports = 100
[rtp]
bind = "127.0.0.1"
ports = "%d-%d"
latch = true
timeout = "60s"
[storage]
min_free = "1MiB"
`, filepath.Join(dir, "data"), filepath.Join(dir, "ctl.sock"), lo, lo+99)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	notify, err := os.MkdirTemp(dir, "notify-")
	if err != nil {
		t.Fatal(err)
	}
	notifyPath := filepath.Join(notify, "n.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatalf("notify socket: %v", err)
	}
	defer conn.Close()

	d := &daemonProc{socket: filepath.Join(dir, "ctl.sock"), log: &lockedBuffer{}, exited: make(chan error, 1)}
	d.cmd = exec.Command(bin, "-config", conf)
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath, "CALLVAULT_LOG=debug")
	d.cmd.Stderr = d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start callvaultd: %v", err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			t.Logf("callvaultd log:\n%s", d.log.String())
		}
	})

	ready := make(chan bool, 1)
	go func() {
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				ready <- false
				return
			}
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				if line == "READY=1" {
					ready <- true
					return
				}
			}
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("callvaultd sent no READY=1 within 60 s\n%s", d.log.String())
		}
	case err := <-d.exited:
		d.exited <- err // for stop
		conn.SetReadDeadline(time.Now())
		t.Fatalf("callvaultd exited before READY=1: %v\n%s", err, d.log.String())
	}

	st, err := (&control.Client{Socket: d.socket}).Status(t.Context())
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	_, port, err := net.SplitHostPort(st.Listen)
	if d.sipPort, err = strconv.Atoi(port); err != nil || d.sipPort == 0 {
		t.Fatalf("status listen %q: want 127.0.0.1:PORT", st.Listen)
	}
	return d
}

// stop sends SIGTERM and checks the daemon drains and exits 0 (once).
func (d *daemonProc) stop(t *testing.T) {
	d.once.Do(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-d.exited:
			if err != nil {
				t.Errorf("callvaultd exit after SIGTERM: %v", err)
			}
		case <-time.After(60 * time.Second):
			d.cmd.Process.Kill()
			t.Errorf("callvaultd did not exit within 60 s of SIGTERM")
		}
	})
}

// sippCall starts sipp placing one SIPREC call (load-call.xml: INVITE,
// ACK, a pause of hold, BYE) from caller to callee, and returns a function
// that waits for sipp to end and fails the test if it failed.
func (d *daemonProc) sippCall(t *testing.T, callID, caller, callee string, hold time.Duration) (wait func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, "sipp", "-sf", filepath.Join("..", "..", "daemon", "testdata", "sipp", "load-call.xml"),
		"-m", "1", "-l", "1", "-t", "u1", "-nostdin", "-i", "127.0.0.1", "-p", fmt.Sprint(testaudio.SIPPort(t)),
		"-d", strconv.Itoa(int(hold/time.Millisecond)), "-cid_str", callID,
		"-key", "fromtag", "tui", "-key", "caller", caller, "-key", "callee", callee,
		"-key", "codecpt", "0", "-key", "codecname", "PCMU",
		"-timeout", "50s", "-timeout_error", "-recv_timeout", "10s",
		fmt.Sprintf("127.0.0.1:%d", d.sipPort))
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start sipp: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cancel(); <-done })
	var once sync.Once
	return func() {
		t.Helper()
		once.Do(func() {
			err := <-done
			done <- err // for the cleanup
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, out.String())
			}
		})
	}
}

// lockedBuffer collects output written from other goroutines.
type lockedBuffer = syncbuf.Buffer
