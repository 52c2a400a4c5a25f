// Command callvaultd is the callvault recording daemon: it answers SIPREC
// recording sessions, records both RTP legs into encrypted MP3 files and
// serves the control API the callvault console talks to.
//
// Usage:
//
//	callvaultd [-config FILE] [-data DIR] [-sip HOST:PORT] [-control PATH] [-rtp-ports LO-HI]
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
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "callvaultd:", err)
		os.Exit(1)
	}
}
