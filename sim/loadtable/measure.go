package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/sim/report"
)

// row is one measurement: what the simulator saw, what the daemon did.
type row struct {
	calls    int
	rate     int
	duration time.Duration
	sim      report.Report
	status   control.Status
	// cpuMS is the daemon's CPU per recorded call-second while every call
	// was up (0: the steady window was too short to tell).
	cpuMS      float64
	steady     time.Duration // the steady window's length
	rssPerCall float64       // KiB per live call, over the idle daemon
	rssIdle    int64         // KiB, before the first call
	rssPeak    int64         // KiB
}

// measure starts a fresh daemon, runs the simulator with calls up at once
// (total in all) at rate a second, each lasting duration, samples the
// daemon meanwhile and reads its status once every call is sealed.
func measure(ctx context.Context, o options, calls, rate int, duration time.Duration, total int) (row, error) {
	r := row{calls: calls, rate: rate, duration: duration}
	dir, err := os.MkdirTemp("", "callvault-load-")
	if err != nil {
		return r, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "work directory: %s\n", dir)
	}
	// A licence for every call of the run: short calls set up faster than
	// they seal may overlap more than calls say.
	d, err := startDaemon(ctx, o.bin, dir, max(calls, total)+100)
	if err != nil {
		return r, err
	}
	defer d.stop()
	pid := d.cmd.Process.Pid
	idle, err := readSample(pid)
	if err != nil {
		return r, err
	}
	r.rssIdle = idle.rssKB

	stopSampling := sampleEvery(pid, 250*time.Millisecond)
	args := []string{"-target", sipAddr, "-transport", o.transport, "-calls", strconv.Itoa(calls),
		"-rate", strconv.Itoa(rate), "-duration", duration.String(), "-total", strconv.Itoa(total),
		"-codec", o.codec, "-owners", "2000-3999", "-rtp-ports", "30000-39999",
		"-verify", strconv.Itoa(o.verify), "-socket", d.socket, "-json"}
	if o.srtp {
		args = append(args, "-srtp")
	}
	began := time.Now()
	cmd := exec.CommandContext(ctx, filepath.Join(o.bin, "callvault-sim"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	runErr := cmd.Run() // exit 1 when a call failed or a check did not pass: the report says which
	all := stopSampling()
	if err := json.Unmarshal(out.Bytes(), &r.sim); err != nil {
		return r, fmt.Errorf("callvault-sim: %v; its report: %w", runErr, err)
	}
	for _, c := range r.sim.Verify {
		if !c.Pass {
			fmt.Fprintf(os.Stderr, "   verify %s (%s) failed: %s\n", c.ID, c.CallID, strings.Join(c.Why, "; "))
		}
	}
	if r.status, err = d.settle(ctx, r.sim.Answered); err != nil {
		return r, err
	}
	ramp := time.Duration(float64(calls) / float64(rate) * float64(time.Second))
	from, to := began.Add(ramp+3*time.Second), began.Add(duration-time.Second)
	r.cpuMS, r.steady, r.rssPerCall = steadyFigures(all, from, to, calls, idle.rssKB)
	for _, s := range all {
		r.rssPeak = max(r.rssPeak, s.rssKB)
	}
	return r, nil
}

// sampleEvery samples pid every interval until the returned func is
// called, which returns the samples.
func sampleEvery(pid int, interval time.Duration) func() []sample {
	var mu sync.Mutex
	var out []sample
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if s, err := readSample(pid); err == nil {
					mu.Lock()
					out = append(out, s)
					mu.Unlock()
				}
			}
		}
	}()
	return func() []sample {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// steadyFigures returns, over the samples within [from, to] (every call
// up), the CPU in ms per call-second, the window's length and the median
// RSS over idle per call in KiB. A window under 5 s gives no figures.
func steadyFigures(all []sample, from, to time.Time, calls int, idleKB int64) (cpuMS float64, steady time.Duration, rssPerCall float64) {
	var in []sample
	for _, s := range all {
		if !s.at.Before(from) && !s.at.After(to) {
			in = append(in, s)
		}
	}
	if len(in) < 2 {
		return 0, 0, 0
	}
	first, last := in[0], in[len(in)-1]
	steady = last.at.Sub(first.at)
	if steady < 5*time.Second {
		return 0, steady, 0
	}
	cpu := float64(last.ticks-first.ticks) * 1000 / clockTicks // ms
	cpuMS = cpu / (float64(calls) * steady.Seconds())
	rss := make([]int64, len(in))
	for i, s := range in {
		rss[i] = s.rssKB
	}
	slices.Sort(rss)
	rssPerCall = float64(rss[len(rss)/2]-idleKB) / float64(calls)
	return cpuMS, steady, rssPerCall
}
