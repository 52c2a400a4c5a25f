// Command callvaultd is the callvault recording daemon: it answers SIPREC
// recording sessions, records both RTP legs into encrypted MP3 files and
// serves the control API the callvault console talks to.
//
// Usage:
//
//	callvaultd [-config FILE] [-data DIR] [-sip HOST:PORT] [-control PATH] [-rtp-ports LO-HI]
//	callvaultd verify [-config FILE] [-data DIR]
//	callvaultd reindex [-config FILE] [-data DIR]
//	callvaultd license keygen -out DIR
//	callvaultd license issue -key FILE -customer NAME -model user|channel -count N [-expires YYYY-MM-DD]
//
// verify authenticates every recording of a data dir without a running
// daemon; reindex rebuilds the index from the recording files alone;
// license makes a licence signing key and issues licence files (on the
// issuer's machine, not the recorder's).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/emiago/sipgo/sip"

	"github.com/callvault/callvault/siprec"
)

func main() {
	if manHook(os.Args[1:]) {
		return
	}
	signal.Ignore(syscall.SIGPIPE)
	// sipgo logs some connection events through its package-wide logger,
	// not a server's: the one process-wide setting, made here so that run
	// keeps no state between calls (tests run several daemons in a process).
	sip.SetDefaultLogger(siprec.SipgoLogger(newLogger(os.Stderr)))
	ctx, drain := context.WithCancel(context.Background())
	defer drain()
	go onSignals(drain)
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "callvaultd:", err)
		os.Exit(1)
	}
}

// onSignals starts the drain on the first SIGTERM or SIGINT; a second one,
// or SIGQUIT, stops the process at once: the calls not sealed yet stay as
// .part files and are recovered at the next start.
func onSignals(drain context.CancelFunc) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	draining := false
	for sig := range sigs {
		if !draining && sig != syscall.SIGQUIT {
			draining = true
			drain()
			continue
		}
		fmt.Fprintf(os.Stderr, "callvaultd: %v: stopping at once; unsealed calls are recovered at the next start\n", sig)
		os.Exit(1)
	}
}
