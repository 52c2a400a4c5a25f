package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/recorder"
	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// options are the command-line flags; each overrides the config file.
type options struct {
	config, data, sip, control, rtpPorts string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("callvaultd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "configuration file (TOML); the built-in defaults serve without one")
	fs.StringVar(&o.data, "data", "", "data directory (overrides data_dir)")
	fs.StringVar(&o.sip, "sip", "", "SIP listen address HOST:PORT, UDP and TCP (overrides sip.listen)")
	fs.StringVar(&o.control, "control", "", "control socket path (overrides control_socket)")
	fs.StringVar(&o.rtpPorts, "rtp-ports", "", "RTP port range LO-HI (overrides rtp.ports)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

// drainTimeout bounds the drain on SIGTERM: below systemd's
// TimeoutStopSec (60 s in the unit) so that the index is closed cleanly
// before a SIGKILL; calls not sealed by then are recovered at the next start.
const drainTimeout = 45 * time.Second

// run is the whole daemon: it returns when ctx is cancelled (SIGTERM) after
// draining, or on a fatal error. With an offline subcommand first (verify,
// reindex, license) it runs that instead.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if cmd, ok := offline[args[0]]; ok {
			return cmd(args[1:], stdout, stderr)
		}
	}
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(opts.config, os.ReadFile)
	if err != nil {
		return err
	}
	opts.apply(&cfg)
	p, err := cfg.validate()
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := newLogger(stderr)
	servePprof(log)

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	store, err := vault.Open(vault.Config{
		Dir:            cfg.DataDir,
		CredentialsDir: os.Getenv("CREDENTIALS_DIRECTORY"),
		Location:       p.location,
		Node:           p.node,
		Archive:        len(p.targets) > 0,
	}, log.With("component", "vault"))
	if err != nil {
		return err
	}
	// The index closes last, after every live call is sealed.
	defer store.Close()
	if err := store.OpenAudit(); err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}

	users, err := recorder.OpenDirectory(filepath.Join(cfg.DataDir, "users.json"))
	if err != nil {
		return err
	}
	// What a crash or a full disk left behind is sealed and indexed
	// before any new call is taken.
	salvage := recorder.NewSalvager(store, p.location, log.With("component", "recovery"))
	if rcv, idx, failed := salvage.Run(); rcv+idx+failed > 0 {
		log.Warn("recovery done", "recovered", rcv, "indexed", idx, "failed", failed)
	}

	pool, err := media.NewPortPool(p.rtpBind, p.rtpLo, p.rtpHi)
	if err != nil {
		return fmt.Errorf("rtp ports: %w", err)
	}
	defer pool.Close() // after the drain: the calls are sealed or left to recovery
	events := recorder.NewHub()
	disk := recorder.NewDiskGuard(store, p.minFree, log.With("component", "disk"), events, time.Now)
	disk.OnSpaceBack(func() { go salvage.Run() }) // seals that failed for want of space
	archiver, err := newArchiver(p, store, events, log.With("component", "archive"))
	if err != nil {
		return err
	}
	rec := recorder.New(recorder.Options{
		Log:             log.With("component", "recorder"),
		Pool:            pool,
		Store:           store,
		Users:           users,
		Media:           media.Config{Stereo: cfg.Stereo, Reorder: p.reorder},
		RecordUnknown:   cfg.RecordUnknown,
		Latch:           cfg.RTP.Latch,
		RTPTimeout:      p.rtpTimeout,
		HoldTimeout:     p.holdTimeout,
		Location:        p.location,
		SourcePorts:     p.sourcePorts,
		Filters:         p.filters,
		KeepGrace:       p.keepGrace,
		DataDir:         cfg.DataDir,
		LicenseKeys:     p.licenseKeys,
		Disk:            disk,
		Events:          events,
		RetentionMonths: cfg.Retention.Months,
		RemoveCopies:    removeCopies(archiver),
	})
	disk.Check()
	tlsConf, err := sipTLS(cfg, os.Getenv("CREDENTIALS_DIRECTORY"))
	if err != nil {
		return err
	}
	srv, err := siprec.NewServer(sipConfig(cfg, p, tlsConf), rec, log.With("component", "siprec"))
	if err != nil {
		return err
	}
	rec.SetHangup(srv.Hangup)
	if len(p.allow) == 0 {
		log.Warn("sip.allow is empty: any host that reaches the SIP port can record calls here and take RTP ports; list your gateways' networks")
	}

	ls, err := listenSIP(p.sipAddress, cfg.SIP.TLSListen)
	if err != nil {
		return err
	}
	phones, err := listenPhone(cfg, p, rec, log.With("component", "phone"))
	if err != nil {
		ls.close()
		return err
	}
	scrapes, err := listenMetrics(cfg.Metrics.Listen)
	if err != nil {
		ls.close()
		phones.close()
		return err
	}
	// Anyone may connect; the peer's credentials decide what it may do.
	ctl, err := control.ListenMode(cfg.ControlSocket, control.PeerCheckedMode)
	if err != nil {
		ls.close()
		phones.close()
		scrapes.close()
		return fmt.Errorf("control socket: %w", err)
	}
	reload := &reloader{path: opts.config, override: opts.apply, log: log.With("component", "config"), now: time.Now,
		setAllow:       func(p parsed) { srv.SetAllow(p.allow) },
		reloadRecorder: func(p parsed) error { return rec.Reload(p.licenseKeys) }}
	var draining atomic.Bool
	// Long event streams end with apiCtx, so a shutdown need not wait for them.
	apiCtx, stopAPI := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAPI()
	backend := rec.API(recorder.Host{
		Version: version, Listen: ls.UDP.LocalAddr().String(), TLSListen: ls.tlsAddr(), DataDir: cfg.DataDir,
		PhoneListen: phones.addr(), MetricsListen: scrapes.addr(),
		Draining: draining.Load, SIPEdge: srv.Edge, Config: reload.status, Storage: storageStatus(archiver),
	})
	ctlLog := log.With("component", "control")
	api := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return apiCtx },
		ConnContext:       control.ConnContext, // the caller's uid, for WithRoles
		Handler:           control.WithRoles(control.NewHandler(backend, ctlLog), control.Roles{}, ctlLog),
		ReadHeaderTimeout: 10 * time.Second,
	}

	log.Info("callvaultd listening", "version", version, "sip", ls.UDP.LocalAddr().String(), "sip_tls", cfg.SIP.TLSListen,
		"control", cfg.ControlSocket, "data", cfg.DataDir, "rtp_ports", cfg.RTP.Ports, "stereo", cfg.Stereo)

	sipCtx, stopSIP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSIP()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(sipCtx, ls.Listeners) })
	g.Go(func() error {
		if err := api.Serve(ctl); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("control api: %w", err)
		}
		return nil
	})
	g.Go(func() error { return phones.serve(gctx) })
	g.Go(func() error { return scrapes.serve(gctx, backend.Status, log.With("component", "metrics")) })
	g.Go(func() error { return notifySystemd(gctx, log, healthCheck(store, ls.UDP.LocalAddr().String())) })
	g.Go(func() error { reload.run(gctx); return nil })
	g.Go(func() error { recorder.Every(gctx, time.Second, disk.Check); return nil })
	if archiver != nil {
		g.Go(func() error { archiver.Run(gctx, archivePass); return nil })
	}
	g.Go(func() error {
		purge(gctx, rec, log)
		recorder.Every(gctx, time.Hour, func() { purge(gctx, rec, log) })
		return nil
	})
	// Not in the group: a long count need not hold up the drain.
	go recorder.CountUsage(gctx, store, log.With("component", "usage"))
	g.Go(func() error {
		recorder.Every(gctx, time.Second, func() {
			now := time.Now()
			rec.CheckSilence(now)
			rec.CheckLicence(now)
			rec.CheckClock(now)
			rec.PublishStats(now)
		})
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		// Drain: new INVITEs get 503 while the live calls are sealed
		// concurrently and their gateways get a BYE; then SIP stops, then
		// the control API; the index closes last (deferred above).
		draining.Store(true)
		notifyStopping()
		live := rec.LiveCalls()
		log.Info("draining", "live_calls", live, "deadline", drainTimeout.String())
		drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		defer cancel()
		if err := srv.Shutdown(drainCtx); err != nil {
			log.Error("drain deadline passed: calls not sealed now are recovered at the next start",
				"still_live", rec.LiveCalls(), "err", err)
		} else {
			log.Info("drained", "sealed", live)
		}
		rec.DestroyUnkept() // Live Keep calls that ended without a keep: nobody can keep them now
		stopSIP()
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		stopAPI()
		return api.Shutdown(shutCtx)
	})
	err = g.Wait()
	if ctx.Err() != nil && err == nil {
		log.Info("stopped")
	}
	return err
}

// apply puts the flags over a configuration.
func (o options) apply(cfg *Config) {
	override(&cfg.DataDir, o.data)
	override(&cfg.SIP.Listen, o.sip)
	override(&cfg.ControlSocket, o.control)
	override(&cfg.RTP.Ports, o.rtpPorts)
}

func override(dst *string, flagValue string) {
	if flagValue != "" {
		*dst = flagValue
	}
}

// newLogger is the daemon's log, in text to w at CALLVAULT_LOG's level.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: logLevel()}))
}

// logLevel reads CALLVAULT_LOG (debug, info, warn, error); info by default.
func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("CALLVAULT_LOG"))); err != nil {
		return slog.LevelInfo
	}
	return l
}
