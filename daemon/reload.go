package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// reloader re-reads the configuration file on SIGHUP (systemctl reload)
// and applies what can change without dropping a call: today the
// [sip] allow-list. Keys that need a restart are left as they are, and an
// invalid file changes nothing; both are logged.
type reloader struct {
	path     string        // the -config file; "" when the built-in defaults serve
	override func(*Config) // the command-line flags, applied again
	setAllow func(parsed)
	log      *slog.Logger
}

// run reloads on every SIGHUP until ctx is done.
func (r *reloader) run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload()
		}
	}
}

// reload reads the file and applies it.
func (r *reloader) reload() {
	cfg, err := loadConfig(r.path, os.ReadFile)
	if err == nil {
		r.override(&cfg)
		var p parsed
		if p, err = cfg.validate(); err == nil {
			r.setAllow(p)
			r.log.Info("configuration reloaded", "file", r.path, "sip_allow", len(p.allow))
			if len(p.allow) == 0 {
				r.log.Warn("sip.allow is empty: any host that reaches the SIP port can record calls here and take RTP ports; list your gateways' networks")
			}
			return
		}
	}
	r.log.Error("configuration not reloaded: the running one stays", "file", r.path, "err", err)
}
