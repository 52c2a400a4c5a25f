package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/callvault/callvault/daemon/archive"
	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/recorder"
	"github.com/callvault/callvault/vault"
	"github.com/callvault/callvault/vault/target"
	"github.com/callvault/callvault/vault/target/azuretarget"
	"github.com/callvault/callvault/vault/target/s3target"
)

// archivePass is how often the copy queue is walked.
const archivePass = 2 * time.Second

// newArchiver makes the archiver of the configured targets, or nil when
// there is none; the store reads evicted recordings through it.
func newArchiver(p parsed, store *vault.Store, events *recorder.Hub, log *slog.Logger) (*archive.Archiver, error) {
	if len(p.targets) == 0 {
		return nil, nil
	}
	var targets []archive.Target
	for _, cfg := range p.targets {
		t, err := openTarget(cfg)
		if err != nil {
			return nil, err
		}
		targets = append(targets, archive.Target{Target: t, Kind: cfg.Kind, Prefix: cfg.Prefix})
	}
	a := archive.New(archive.Options{Store: store, Targets: targets, Node: nodeName(p.node), KeepLocal: p.keepLocal,
		Alarm: events.Alarm, Log: log})
	store.SetFetch(a.Fetch)
	return a, nil
}

// openTarget makes the target of one [[storage.target]] table.
func openTarget(cfg target.Config) (target.Target, error) {
	switch cfg.Kind {
	case target.KindDir:
		return target.NewDir(cfg)
	case target.KindS3:
		return s3target.New(cfg)
	case target.KindAzure:
		return azuretarget.New(cfg)
	}
	return nil, fmt.Errorf("storage.target %q: kind %q is not built into this callvaultd", cfg.Name, cfg.Kind)
}

// removeCopies is the recorder's RemoveCopies: nil without an archiver.
func removeCopies(a *archive.Archiver) func(context.Context, vault.Recording) error {
	if a == nil {
		return nil
	}
	return a.DeleteCopies
}

// purge runs the retention's purge and logs what it did.
func purge(ctx context.Context, rec *recorder.Recorder, log *slog.Logger) {
	res, err := rec.Purge(ctx, control.PurgeRequest{})
	switch {
	case err != nil:
		log.Error("purge", "err", err, "purged", len(res.Purged))
	case len(res.Purged)+len(res.Held) > 0:
		log.Info("purge", "purged", len(res.Purged), "kept_by_hold", len(res.Held))
	}
}

// storageStatus is the Host's Storage: nil without an archiver.
func storageStatus(a *archive.Archiver) func() (*control.Storage, []control.Alarm) {
	if a == nil {
		return nil
	}
	return func() (*control.Storage, []control.Alarm) { return a.Status(), a.Alarms() }
}
