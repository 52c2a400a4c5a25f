// Command loadtable measures callvaultd under the simulator's load on
// this box and prints the BENCHMARKS.md table: for each concurrency, a
// fresh daemon (licence from the project's own licence tools), the
// simulator placing that many two-leg calls over loopback, the daemon's
// CPU per recorded call-second while every call is up, its RSS per live
// call, the packets lost at the recorder, setup latency, hang-up to
// searchable, a sample of recordings verified; and LAME alone on the
// same audio in the same run, for the ratio.
//
//	go run ./sim/loadtable -calls 100,500,1000,1500 -duration 5m
//
// `make bench` runs a short version; `make load` the full one. The
// simulator and the daemon share the box: the figures say so.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "loadtable: %v\n", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	bin       string
	calls     []int
	duration  time.Duration
	rate      int
	codec     string
	srtp      bool
	transport string
	verify    int
	keep      bool
	cps       int // a short-call setup run at this rate; 0: none
	cpsTotal  int
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("loadtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "bin", "directory holding callvaultd, callvault and callvault-sim")
	calls := fs.String("calls", "100,500,1000,1500", "concurrencies to measure, comma-separated")
	fs.DurationVar(&o.duration, "duration", 5*time.Minute, "each call's length (the steady window is this less the ramp)")
	fs.IntVar(&o.rate, "rate", 100, "new calls a second")
	fs.StringVar(&o.codec, "codec", "pcmu", "pcmu, pcma or g729")
	fs.BoolVar(&o.srtp, "srtp", false, "offer and send SRTP")
	fs.StringVar(&o.transport, "transport", "tcp", "SIP transport: udp, tcp, tls")
	fs.IntVar(&o.verify, "verify", 10, "recordings to verify after each run")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directories")
	fs.IntVar(&o.cps, "cps", 0, "also run short calls (2 s) at this setup rate")
	fs.IntVar(&o.cpsTotal, "cps-total", 6000, "calls in the setup-rate run")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, f := range strings.Split(*calls, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return o, fmt.Errorf("-calls: %q is not a number of calls", f)
		}
		o.calls = append(o.calls, n)
	}
	if o.rate < 1 {
		return o, fmt.Errorf("-rate %d: at least 1", o.rate)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	for _, b := range []string{"callvaultd", "callvault", "callvault-sim"} {
		if _, err := os.Stat(filepath.Join(o.bin, b)); err != nil {
			return fmt.Errorf("%s: %w (run make build first)", b, err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lame, err := lameAlone(o.codec)
	if err != nil {
		return fmt.Errorf("LAME alone: %w", err)
	}
	fmt.Fprintf(stderr, "LAME alone on the simulator's audio: %.3f ms CPU per call-second\n", lame)
	var rows []row
	for _, n := range o.calls {
		fmt.Fprintf(stderr, "== %d calls of %s, %s %s%s\n", n, o.duration, o.transport, o.codec, map[bool]string{true: " srtp"}[o.srtp])
		r, err := measure(ctx, o, n, o.rate, o.duration, n)
		if err != nil {
			return err
		}
		rows = append(rows, r)
		printRow(stderr, r, lame)
	}
	var cps *row
	if o.cps > 0 {
		fmt.Fprintf(stderr, "== %d short calls at %d a second\n", o.cpsTotal, o.cps)
		r, err := measure(ctx, o, 3*o.cps, o.cps, 2*time.Second, o.cpsTotal)
		if err != nil {
			return err
		}
		cps = &r
	}
	writeTable(stdout, o, rows, cps, lame)
	return nil
}
