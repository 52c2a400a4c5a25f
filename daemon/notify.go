package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// notifySystemd tells systemd the daemon is ready (the listeners are bound
// before it runs) and pings the watchdog until ctx ends, each time health
// says the daemon works: a failed check skips the ping, and systemd
// restarts a daemon that misses them for WatchdogSec. Outside systemd
// both are no-ops.
func notifySystemd(ctx context.Context, log *slog.Logger, health func(context.Context) error) error {
	if ok, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		log.Warn("sd_notify ready", "err", err)
	} else if ok {
		log.Debug("told systemd we are ready")
	}
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := health(ctx); err != nil {
				log.Error("health check failed: the watchdog is not pinged", "err", err)
				continue
			}
			daemon.SdNotify(false, daemon.SdNotifyWatchdog)
		}
	}
}

func notifyStopping() { daemon.SdNotify(false, daemon.SdNotifyStopping) }
