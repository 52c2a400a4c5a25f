package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/syncbuf"
	"github.com/callvault/callvault/internal/testaudio"
)

// The end-to-end tests run the real binaries: the first test that needs
// them builds callvaultd and callvault once per `go test` run (with -race
// when the tests run with it), each test starts its own daemon on
// loopback with a temp data dir, and real peers (sipp, ffmpeg) talk to it.
// Unit tests never build them.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// bins returns the directory holding the built binaries, building them
// on first use.
func bins(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "callvault-e2e-bin-")
		if buildErr != nil {
			return
		}
		for pkg, name := range map[string]string{".": "callvaultd", "../console": "callvault"} {
			args := []string{"build", "-o", filepath.Join(binDir, name)}
			if raceEnabled {
				args = append(args, "-race")
			}
			cmd := exec.Command("go", append(args, pkg)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", name, err, stderr.String())
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// daemonProc is one running callvaultd.
type daemonProc struct {
	t       *testing.T
	dir     string // temp dir holding config, data and socket
	data    string
	socket  string
	sipPort int // SIP over UDP and TCP, as the daemon took it
	tlsPort int // SIP over TLS, when tls_listen is set
	tz      string
	cmd     *exec.Cmd
	stderr  *syncBuffer
	exited  chan error
	stopped bool
	events  *eventLog     // the daemon's event stream, followed from READY=1
	notify  *notifySocket // where the daemon's sd_notify datagrams arrive
	// sippWait bounds each sipp run (default 80 s); a scenario that
	// waits for a session to expire needs longer.
	sippWait time.Duration
}

type daemonOptions struct {
	stereo        bool
	recordUnknown bool
	dir           string // reuse the config, data and socket of an earlier daemon
	data          string // data dir (default: <dir>/data), e.g. on a small tmpfs
	minFree       string // [storage] min_free (default: "1MiB", so a nearly full test machine still records)
	// strictSource keeps [rtp] latch off, the default of a real install: a
	// leg takes RTP only from the port its SDP announced. The tests' RTP
	// senders use ephemeral ports, so by default they run with latch on.
	strictSource bool
	rtpTimeout   string // [rtp] timeout (default "60s")
	// sip holds extra [sip] lines (TLS, allow-list, bounds).
	sip string
	env []string // extra environment, e.g. CREDENTIALS_DIRECTORY=...
	// channels, above the evaluation licence's 8, has the harness install
	// a channel licence of that many (signed with a key of the test's).
	channels int
	// tables are extra TOML tables at the end of the file, e.g.
	// "[policy]\nkeep_grace = \"2s\"".
	tables string
}

// startDaemon runs callvaultd on 127.0.0.1 with its own ports and data dir
// and waits until the control API answers.
func startDaemon(t *testing.T, o daemonOptions) *daemonProc {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	d := &daemonProc{t: t, dir: dir, data: filepath.Join(dir, "data"), socket: filepath.Join(dir, "ctl.sock"), tz: testZone()}
	if o.data != "" {
		d.data = o.data
	}
	if o.minFree == "" {
		o.minFree = "1MiB"
	}
	if o.rtpTimeout == "" {
		o.rtpTimeout = "60s"
	}
	if !strings.Contains(o.sip, "source_ports") {
		// Every test gateway sends from 127.0.0.1: let it use the whole
		// (small) pool, as the only gateway of a site would.
		o.sip += "\nsource_ports = 100"
	}
	var lic []byte
	if o.channels > 0 {
		var pub string
		lic, pub = testLicence(t, o.channels)
		o.tables += fmt.Sprintf("\n[license]\npublic_keys = [%q]\n", pub)
	}
	lo := testaudio.RTPRange(t)
	conf := fmt.Sprintf(`version = 1
data_dir = %q
control_socket = %q
record_unknown = %t
stereo = %t
[sip]
listen = "127.0.0.1:0"
%s
[rtp]
bind = "127.0.0.1"
ports = "%d-%d"
latch = %t
timeout = %q
[storage]
min_free = %q
%s
`, d.data, d.socket, o.recordUnknown, o.stereo, o.sip, lo, lo+99, !o.strictSource, o.rtpTimeout, o.minFree, o.tables)
	confPath := filepath.Join(dir, "callvaultd.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d.stderr = &syncBuffer{}
	notify := listenNotify(t, dir)
	d.notify = notify
	d.cmd = exec.Command(filepath.Join(bins(t), "callvaultd"), "-config", confPath)
	d.cmd.Env = append(append(os.Environ(), "TZ="+d.tz, "CALLVAULT_LOG=debug", "NOTIFY_SOCKET="+notify.path), o.env...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start callvaultd: %v", err)
	}
	d.exited = make(chan error, 1)
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("callvaultd log:\n%s", d.stderr.String())
		}
	})
	// READY=1 comes once SIP and the control socket are bound, as systemd
	// (Type=notify) waits for it.
	if ok, err := notify.ready(d.exited, 60*time.Second); !ok {
		d.stopped = err != nil
		t.Fatalf("callvaultd sent no READY=1 within 60 s (exit: %v)\n%s", err, d.stderr.String())
	}
	d.events = followEvents(t, d.socket)
	if lic != nil {
		path := filepath.Join(dir, "test.lic")
		if err := os.WriteFile(path, lic, 0o600); err != nil {
			t.Fatal(err)
		}
		d.cli("license", "install", path)
	}
	// The daemon picks its own SIP ports (port 0): no other process can
	// take them between a test choosing and the daemon binding.
	var st control.Status
	d.cliJSON(&st, "status")
	d.sipPort = portOf(t, st.Listen)
	if st.TLSListen != "" {
		d.tlsPort = portOf(t, st.TLSListen)
	}
	return d
}

// stop sends SIGTERM and checks the daemon drains and exits 0.
func (d *daemonProc) stop() {
	if d.stopped {
		return
	}
	d.stopped = true
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		if err != nil {
			d.t.Errorf("callvaultd exit after SIGTERM: %v", err)
		}
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		d.t.Errorf("callvaultd did not exit within 60 s of SIGTERM")
	}
}

// kill9 kills the daemon as a crash would: no drain, nothing sealed.
func (d *daemonProc) kill9() {
	d.t.Helper()
	d.stopped = true
	if err := d.cmd.Process.Kill(); err != nil {
		d.t.Fatalf("kill -9 callvaultd: %v", err)
	}
	<-d.exited
}

// cli runs the callvault CLI against this daemon and fails the test on error.
func (d *daemonProc) cli(args ...string) string {
	d.t.Helper()
	out, err := d.cliErr(args...)
	if err != nil {
		d.t.Fatalf("callvault %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (d *daemonProc) cliErr(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(bins(d.t), "callvault"), append([]string{"-socket", d.socket}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, stderr.String())
	}
	return stdout.String(), nil
}

func (d *daemonProc) cliJSON(v any, args ...string) {
	d.t.Helper()
	out := d.cli(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		d.t.Fatalf("callvault %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// sipp runs one sipp scenario from testdata/sipp against the daemon and
// returns what its <log> actions wrote. transport is "u1" or "t1".
func (d *daemonProc) sipp(scenario, transport string, keys map[string]string) string {
	d.t.Helper()
	return d.sippStart(scenario, transport, 1, keys)()
}

// sippStart starts sipp running a scenario for calls calls at once and
// returns a function that waits for it to end and returns its <log>s (it
// fails the test if sipp failed).
func (d *daemonProc) sippStart(scenario, transport string, calls int, keys map[string]string) func() string {
	d.t.Helper()
	dir := d.t.TempDir()
	logFile := filepath.Join(dir, "actions.log")
	errFile := filepath.Join(dir, "errors.log")
	n := strconv.Itoa(calls)
	wait := cmp.Or(d.sippWait, 80*time.Second)
	args := []string{
		"-sf", filepath.Join("testdata", "sipp", scenario),
		"-m", n, "-l", n, "-r", n, "-t", transport, "-nostdin",
		"-i", "127.0.0.1", "-p", strconv.Itoa(testaudio.SIPPort(d.t)),
		"-timeout", fmt.Sprintf("%ds", int(wait/time.Second)), "-timeout_error", "-recv_timeout", "10s",
		"-trace_err", "-error_file", errFile, "-trace_logs", "-log_file", logFile,
	}
	for k, v := range keys {
		if k == "callid" {
			args = append(args, "-cid_str", v) // sipp maps responses to calls by Call-ID
			continue
		}
		args = append(args, "-key", k, v)
	}
	args = append(args, fmt.Sprintf("127.0.0.1:%d", d.sipPort))
	ctx, cancel := context.WithTimeout(context.Background(), wait+10*time.Second)
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir, _ = os.Getwd()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		d.t.Fatalf("start sipp: %v", err)
	}
	return func() string {
		d.t.Helper()
		defer cancel()
		if err := cmd.Wait(); err != nil {
			errs, _ := os.ReadFile(errFile)
			d.t.Fatalf("sipp %s over %s: %v\n%s\nerrors:\n%s", scenario, transport, err, tail(out.String(), 3000), errs)
		}
		logs, _ := os.ReadFile(logFile)
		return string(logs)
	}
}

var toTagRE = regexp.MustCompile(`TOTAG (\S+)`)

func toTag(t *testing.T, logs string) string {
	t.Helper()
	m := toTagRE.FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("sipp logged no To tag:\n%s", logs)
	}
	return m[1]
}

// liveCall waits until the daemon lists the call and returns it.
func (d *daemonProc) liveCall(callID string) control.Call {
	d.t.Helper()
	var found control.Call
	d.until(10*time.Second, "call "+callID+" listed by `callvault calls`", func() bool {
		var calls []control.Call
		d.cliJSON(&calls, "calls")
		for _, c := range calls {
			if c.ID == callID {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

// sealed waits until the recording of the call is searchable.
func (d *daemonProc) sealed(callID string) control.Recording {
	d.t.Helper()
	return d.recordingWhere("recording of call "+callID+" found by `callvault search`", func(r control.Recording) bool {
		return r.CallID == callID
	})
}

// recordingWhere waits until `callvault search` lists a recording that
// match accepts, and returns it.
func (d *daemonProc) recordingWhere(what string, match func(control.Recording) bool) control.Recording {
	d.t.Helper()
	var found control.Recording
	d.until(20*time.Second, what, func() bool {
		var recs []control.Recording
		d.cliJSON(&recs, "search", "--limit", "50")
		for _, r := range recs {
			if match(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// portOf is the port of a HOST:PORT address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("address %q: want HOST:PORT", addr)
	}
	return n
}

// testZone is a server time zone away from UTC when the system has one, so
// the tests tell the UTC tag from the local ones.
func testZone() string {
	if _, err := os.Stat("/usr/share/zoneinfo/Asia/Kolkata"); err == nil {
		return "Asia/Kolkata"
	}
	return "UTC"
}

// syncBuffer collects output written from other goroutines.
type syncBuffer = syncbuf.Buffer

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
