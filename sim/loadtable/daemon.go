package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// sipAddr is where the load's daemon listens (loopback only).
const sipAddr = "127.0.0.1:15080"

// daemon is a callvaultd started for one measurement, in its own work
// directory, with a channel licence from the project's licence tools.
type daemon struct {
	bin, dir, socket string
	cmd              *exec.Cmd
}

// startDaemon issues a licence for channels calls, writes a config and
// starts callvaultd, returning once its control socket answers. The one
// source (the simulator) may take every RTP port: by default a source
// gets half the pool, which would stop it at 1,250 calls here.
func startDaemon(ctx context.Context, bin, dir string, channels int) (*daemon, error) {
	d := &daemon{bin: bin, dir: dir, socket: filepath.Join(dir, "ctl.sock")}
	pub, lic, err := d.licence(ctx, channels)
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`version = 1
data_dir = %q
control_socket = %q
[sip]
listen = %q
max_sessions = %d
source_rate = 0
source_ports = 10000
[rtp]
bind = "127.0.0.1"
ports = "20000-29999"
[storage]
min_free = "1GiB"
[license]
public_keys = [%q]
`, filepath.Join(dir, "data"), d.socket, sipAddr, channels+1000, pub)
	confPath := filepath.Join(dir, "callvaultd.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return nil, err
	}
	d.cmd = exec.Command(filepath.Join(bin, "callvaultd"), "-config", confPath)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start callvaultd: %w", err)
	}
	if err := d.waitUp(ctx); err != nil {
		d.stop()
		return nil, err
	}
	if _, err := d.cli(ctx, "license", "install", lic); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// licence makes a signing key and a channel licence with the daemon's
// offline licence commands; it returns the public key and the file.
func (d *daemon) licence(ctx context.Context, channels int) (pub, file string, err error) {
	keys := filepath.Join(d.dir, "licence-key")
	out, err := exec.CommandContext(ctx, filepath.Join(d.bin, "callvaultd"), "license", "keygen", "-out", keys).Output()
	if err != nil {
		return "", "", fmt.Errorf("license keygen: %w", err)
	}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "ed25519:") {
			pub = f
		}
	}
	if pub == "" {
		return "", "", fmt.Errorf("license keygen printed no public key: %q", out)
	}
	lic, err := exec.CommandContext(ctx, filepath.Join(d.bin, "callvaultd"), "license", "issue", "-key", filepath.Join(keys, "license.key"),
		"-customer", "load test", "-model", "channel", "-count", strconv.Itoa(channels)).Output()
	if err != nil {
		return "", "", fmt.Errorf("license issue: %w", err)
	}
	file = filepath.Join(d.dir, "load.lic")
	return pub, file, os.WriteFile(file, lic, 0o644)
}

// cli runs the console with args against the daemon.
func (d *daemon) cli(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, "callvault"), append([]string{"-socket", d.socket}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("callvault %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// status reads the daemon's status.
func (d *daemon) status(ctx context.Context) (control.Status, error) {
	var st control.Status
	out, err := d.cli(ctx, "status", "--json")
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(out, &st)
}

// waitUp waits until the control socket answers (30 s at most).
func (d *daemon) waitUp(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := d.status(ctx); err == nil {
			return nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return errors.New("callvaultd did not answer on its control socket within 30 s; see " + filepath.Join(d.dir, "daemon.log"))
}

// settle waits until no call is live and sealed recordings reach want
// (or 2 minutes pass), and returns the status then.
func (d *daemon) settle(ctx context.Context, want int) (control.Status, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := d.status(ctx)
		if err != nil {
			return st, err
		}
		sealed := 0
		for _, n := range st.Sealed {
			sealed += int(n)
		}
		if (st.LiveCalls == 0 && sealed >= want) || time.Now().After(deadline) {
			return st, nil
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return st, err
		}
	}
}

// stop ends the daemon (SIGTERM, then its drain).
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
}

// sample is the daemon's CPU (user + system, in clock ticks) and resident
// memory at a time.
type sample struct {
	at    time.Time
	ticks int64
	rssKB int64
}

// clockTicks is the kernel's USER_HZ, what /proc/PID/stat counts in.
const clockTicks = 100

// read samples the process pid now.
func readSample(pid int) (sample, error) {
	s := sample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name in parentheses: state is field 3,
	// utime 14, stime 15.
	rest := stat[bytes.LastIndexByte(stat, ')')+2:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.ticks = ut + st
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			s.rssKB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return s, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
