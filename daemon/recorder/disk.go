package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// diskLevel is how close the data dir's file system is to full.
type diskLevel int

const (
	diskOK   diskLevel = iota
	diskLow            // below the reserve: new calls are refused
	diskFull           // below the floor (half the reserve): live calls are sealed
)

func (l diskLevel) String() string {
	switch l {
	case diskLow:
		return "low"
	case diskFull:
		return "full"
	}
	return "ok"
}

// nextLevel is the level after a reading of free bytes against reserve,
// coming from prev. The floor is half the reserve. A level is left upwards
// only with a margin of a sixteenth of the reserve above its threshold, so
// a disk hovering at a threshold does not flap.
func nextLevel(prev diskLevel, free, reserve uint64) diskLevel {
	floor := reserve / 2
	margin := reserve / 16
	switch {
	case free < floor:
		return diskFull
	case prev == diskFull && free < floor+margin:
		return diskFull
	case free < reserve:
		return diskLow
	case prev != diskOK && free < reserve+margin:
		return diskLow
	}
	return diskOK
}

// diskSpace is what the guard reads: the vault's file system.
type diskSpace interface {
	// Space returns the bytes available to the daemon and the size of the
	// file system of the data dir.
	Space() (free, total uint64, err error)
	// Preallocate backs the index's mapped files with disk blocks.
	Preallocate() error
	// ReleaseReserve frees the index's ballast; RestoreReserve takes it back.
	ReleaseReserve() (bool, error)
	RestoreReserve() error
}

// DiskGuard watches free space on the data dir: below the reserve it
// refuses new calls, below the floor it has live calls sealed and hung up,
// and it raises and clears the matching alarms.
type DiskGuard struct {
	space   diskSpace
	min     Reserve
	log     *slog.Logger
	events  *Hub
	now     func() time.Time
	hangup  func(reason string) // seals and hangs up every live call
	onLevel func(diskLevel)     // may be nil

	alarms *alarmBoard

	mu      sync.Mutex
	level   diskLevel
	free    uint64
	total   uint64
	reserve uint64
}

func NewDiskGuard(space diskSpace, min Reserve, log *slog.Logger, events *Hub, now func() time.Time) *DiskGuard {
	return &DiskGuard{space: space, min: min, log: log, events: events, now: now, alarms: newAlarmBoard(log, events, now)}
}

// OnSpaceBack has fn called each time free space climbs back above the
// reserve (seals that failed for want of space can be retried).
func (g *DiskGuard) OnSpaceBack(fn func()) {
	g.onLevel = func(l diskLevel) {
		if l == diskOK {
			fn()
		}
	}
}

// admit returns nil when a new call may start, else an error for the 503.
func (g *DiskGuard) admit() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.level == diskOK {
		return nil
	}
	return refuseDiskFull.Err(mib(g.free), mib(g.reserve))
}

// state returns the last reading and the active alarms.
func (g *DiskGuard) state() (free, total, reserve uint64, alarms []control.Alarm) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.free, g.total, g.reserve, g.alarms.active()
}

// Check takes one reading and acts on a change of level. It is the body of
// the daemon's loop, and is called once before the daemon serves SIP.
func (g *DiskGuard) Check() {
	if err := g.space.Preallocate(); err != nil {
		g.log.Warn("preallocate index files", "err", err)
	}
	free, total, err := g.space.Space()
	if err != nil {
		g.log.Error("read free space of the data dir", "err", err)
		return
	}
	reserve := g.min.of(total)
	g.mu.Lock()
	prev := g.level
	next := nextLevel(prev, free, reserve)
	g.level, g.free, g.total, g.reserve = next, free, total, reserve
	g.mu.Unlock()

	if next == diskFull {
		// Give the index room to commit the seals that follow.
		if released, err := g.space.ReleaseReserve(); err != nil {
			g.log.Error("release index reserve", "err", err)
		} else if released {
			g.log.Warn("index reserve released to keep the index writable", "free_mib", free>>20)
		}
	}
	if next == prev {
		return
	}
	g.log.Log(context.Background(), levelOf(next), "disk level changed", "from", prev.String(), "to", next.String(),
		"free_mib", free>>20, "reserve_mib", reserve>>20, "floor_mib", reserve/2>>20)
	switch next {
	case diskOK:
		g.alarms.clear(control.AlarmDiskLow)
		g.alarms.clear(control.AlarmDiskFull)
		if err := g.space.RestoreReserve(); err != nil {
			g.log.Warn("restore index reserve", "err", err)
		}
	case diskLow:
		g.alarms.clear(control.AlarmDiskFull)
		g.alarms.raise(control.AlarmDiskLow, fmt.Sprintf("%s free, below the %s reserve: new calls are refused with 503", mib(free), mib(reserve)))
	case diskFull:
		g.alarms.raise(control.AlarmDiskLow, fmt.Sprintf("%s free, below the %s reserve: new calls are refused with 503", mib(free), mib(reserve)))
		g.alarms.raise(control.AlarmDiskFull, fmt.Sprintf("%s free, below the %s floor: live calls sealed and hung up", mib(free), mib(reserve/2)))
	}
	if g.onLevel != nil {
		g.onLevel(next)
	}
	if next == diskFull && g.hangup != nil {
		g.hangup("disk_full")
	}
}

func levelOf(l diskLevel) slog.Level {
	if l == diskOK {
		return slog.LevelInfo
	}
	return slog.LevelError
}

// Every calls fn every interval until ctx is done.
func Every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
