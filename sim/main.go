// Command callvault-sim is a SIPREC client simulator: it places recording
// sessions against callvaultd (or any SIPREC recorder) the way a Cisco
// CUBE forks calls - CUBE-like INVITEs with RFC 7865 metadata over UDP,
// TCP or TLS, RTP or SRTP on two legs, each with a tone of its own - at a
// chosen concurrency and rate, reports setup latency, failures and the
// packets it managed to send, and checks a sample of the recordings
// afterwards. "callvault-sim -h" lists the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(mainExit(os.Args[1:]))
}

// mainExit runs the command and returns its exit status.
func mainExit(args []string) int {
	cfg, err := parseFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "callvault-sim: %v\n(callvault-sim -h lists the flags)\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, cfg, os.Stderr)
	if r != nil {
		if cfg.JSON {
			r.WriteJSON(os.Stdout)
		} else {
			r.WriteText(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "callvault-sim: %v\n", err)
		return 1
	}
	if r.Failed > 0 || !r.Passed() || ctx.Err() != nil {
		return 1
	}
	return 0
}
