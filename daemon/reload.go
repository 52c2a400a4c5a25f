package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// reloader re-reads the configuration file on SIGHUP (systemctl reload)
// and applies what can change without dropping a call: the [sip]
// allow-list, the users file and the licence (with [license]
// public_keys). Keys that need a restart are left as they are, and an
// invalid file changes nothing; both are logged.
type reloader struct {
	path     string        // the -config file; "" when the built-in defaults serve
	override func(*Config) // the command-line flags, applied again
	setAllow func(parsed)
	// reloadRecorder reads the users and the licence again.
	reloadRecorder func(parsed) error
	log            *slog.Logger
	now            func() time.Time

	mu    sync.Mutex
	state control.ConfigState
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
	err := r.apply()
	r.mu.Lock()
	r.state.Reloads++
	r.state.ReloadedAt = r.now().UTC()
	r.state.Error = ""
	if err != nil {
		r.state.Error = err.Error()
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Error("configuration not reloaded: the running one stays", "file", r.path, "err", err)
	}
}

func (r *reloader) apply() error {
	cfg, err := loadConfig(r.path, os.ReadFile)
	if err != nil {
		return err
	}
	r.override(&cfg)
	p, err := cfg.validate()
	if err != nil {
		return err
	}
	r.setAllow(p)
	if r.reloadRecorder != nil {
		if err := r.reloadRecorder(p); err != nil {
			return err
		}
	}
	r.log.Info("configuration reloaded", "file", r.path, "sip_allow", len(p.allow))
	if len(p.allow) == 0 {
		r.log.Warn("sip.allow is empty: any host that reaches the SIP port can record calls here and take RTP ports; list your gateways' networks")
	}
	return nil
}

// status is the reload history for the control API.
func (r *reloader) status() control.ConfigState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}
