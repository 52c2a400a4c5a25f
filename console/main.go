// Command callvault is the console and scriptable CLI of callvault. It talks
// to callvaultd over the control socket (package daemon/control) only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if manHook(os.Args[1:]) {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "callvault:", err)
		os.Exit(exitCode(err))
	}
}
