package recorder

import (
	"context"
	"log/slog"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/vault"
)

// UsageRescan is how often the recordings are counted again from the
// disk, to see files removed or added behind the daemon's back; seals are
// counted as they happen.
const UsageRescan = 6 * time.Hour

// CountUsage counts the recordings' use of the disk now (in the
// background at start: a million files take seconds) and again every
// UsageRescan until ctx is done.
func CountUsage(ctx context.Context, store *vault.Store, log *slog.Logger) {
	scan := func() {
		began := time.Now()
		if err := store.ScanUsage(); err != nil {
			log.Warn("recordings' disk use not counted", "err", err)
			return
		}
		u, _ := store.Usage(time.Now())
		log.Debug("recordings' disk use counted", "files", u.Files, "bytes", u.Bytes, "took", time.Since(began).Round(time.Millisecond))
	}
	scan()
	Every(ctx, UsageRescan, scan)
}

// diskView is the data dir's space at now: free, total, the reserve and
// the recordings' use (no path: the Host knows it).
func (r *Recorder) diskView(now time.Time) control.Disk {
	var d control.Disk
	if free, total, err := r.store.Space(); err == nil {
		d.FreeBytes, d.TotalBytes = free, total
	}
	if r.disk != nil {
		_, _, d.ReserveBytes, _ = r.disk.state()
	}
	if u, ok := r.store.Usage(now); ok {
		d.Usage = diskUsage(u, d.FreeBytes, d.ReserveBytes)
	}
	return d
}

// diskUsage is the status's view of the recordings' use: u with the days
// the free space above the reserve lasts at its growth.
func diskUsage(u vault.Usage, free, reserve uint64) *control.DiskUsage {
	out := &control.DiskUsage{
		RecordingsFiles:   u.Files,
		RecordingsBytes:   u.Bytes,
		TodayBytes:        u.TodayBytes,
		GrowthBytesPerDay: u.GrowthBytesPerDay,
		GrowthDays:        u.GrowthDays,
	}
	if u.GrowthBytesPerDay > 0 {
		days := 0.0
		if free > reserve {
			days = float64(free-reserve) / float64(u.GrowthBytesPerDay)
		}
		out.DaysUntilFull = &days
	}
	return out
}
