// Package archive copies sealed recordings to the configured targets
// ([[storage.target]]: a NAS directory, S3, Azure Blob) in the
// background, keeps each copy's state in the index (vault.Copy), removes
// local files once copied and old enough ([storage] keep_local), and reads
// evicted recordings back from their copies for export and verify.
//
// A target that is down never holds up recording or sealing: its copies
// wait in the index's copy queue, retried with a growing back-off that
// survives restarts (each copy's next try is in the index), and the
// target itself is left alone for a while after a failure. The queue is
// bounded by the local disk's reserve, since nothing leaves the disk
// before it is copied.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/vault"
	"github.com/callvault/callvault/vault/target"
)

// Store is what the archiver needs of the vault.
type Store interface {
	CopyQueue(after string, n int) ([]vault.Recording, error)
	QueueMissing(targets []string) (int, error)
	SetCopy(id string, c vault.Copy, settle func(vault.Recording) (bool, time.Time)) (vault.Recording, error)
	DueEvictions(now time.Time, n int) ([]vault.Recording, error)
	Evict(id string, now time.Time) error
	Path(rec vault.Recording) string
	Secrets(day string) ([]byte, vault.SecretsVersion, error)
	SecretsVersionOf(day string) (vault.SecretsVersion, error)
	PendingSecrets() ([]string, error)
	SecretsSent(day string, v vault.SecretsVersion) error
}

// Target is a configured target with the prefix of its keys.
type Target struct {
	target.Target
	Kind   string
	Prefix string
}

// Options configure an Archiver.
type Options struct {
	Store   Store
	Targets []Target
	// Node names this recorder in object keys: <prefix><node>/<file>.
	Node string
	// KeepLocal is how long a local file stays once every target has
	// it; negative: for ever.
	KeepLocal time.Duration
	// Alarm is told when the backlog alarm is raised or cleared.
	Alarm func(control.Alarm)
	Log   *slog.Logger
	Now   func() time.Time
}

// Back-off: a failed copy is tried again after retryBase, doubling up to
// retryMax; a target that failed is left alone as long.
const (
	retryBase = 5 * time.Second
	retryMax  = 10 * time.Minute
	pageSize  = 200
	// Backlog alarm: recordings waiting longer than backlogAge, or more
	// than backlogCount of them.
	backlogAge   = time.Hour
	backlogCount = 10000
)

// AlarmBacklog names the alarm of a copy backlog that is old or large.
const AlarmBacklog = "storage_backlog"

// Archiver copies, evicts and fetches. Run drives it; the other methods
// are safe from any goroutine.
type Archiver struct {
	o       Options
	kick    chan struct{}
	byName  map[string]*Target
	mu      sync.Mutex
	targets map[string]*targetState
	backlog backlog
	alarm   control.Alarm
	// sent is the version of each day file of erasure secrets a target
	// got in this run: "<target>/<day>".
	sent map[string]vault.SecretsVersion
}

// New makes an Archiver; Run starts it.
func New(o Options) *Archiver {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &Archiver{o: o, kick: make(chan struct{}, 1), byName: map[string]*Target{}, targets: map[string]*targetState{},
		sent: map[string]vault.SecretsVersion{}}
	for i := range o.Targets {
		t := &o.Targets[i]
		a.byName[t.Name()] = t
		a.targets[t.Name()] = &targetState{kind: t.Kind}
	}
	return a
}

// Key is the object key of rec on t: the prefix, the node, then the
// recording's dated path and file name.
func (a *Archiver) Key(t *Target, rec vault.Recording) string {
	return t.Prefix + path.Join(a.o.Node, rec.File)
}

// Kick asks for a pass soon (a recording was sealed).
func (a *Archiver) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Run copies and evicts until ctx is done: a pass at once, then after
// each Kick and at least every interval.
func (a *Archiver) Run(ctx context.Context, interval time.Duration) {
	var names []string
	for i := range a.o.Targets {
		names = append(names, a.o.Targets[i].Name())
	}
	if n, err := a.o.Store.QueueMissing(names); err != nil {
		a.o.Log.Warn("recordings from before a target was added not queued", "err", err)
	} else if n > 0 {
		a.o.Log.Info("recordings queued for a new target", "count", n, "targets", names)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		a.Pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
		case <-t.C:
		}
	}
}

// Pass walks the copy queue once, copying what is due to the targets
// that are up, then removes the local files due for eviction.
func (a *Archiver) Pass(ctx context.Context) {
	a.sendPendingSecrets(ctx)
	var b backlog
	after := ""
	for ctx.Err() == nil {
		recs, err := a.o.Store.CopyQueue(after, pageSize)
		if err != nil {
			a.o.Log.Warn("copy queue not read", "err", err)
			return
		}
		for _, rec := range recs {
			waiting := false
			for i := range a.o.Targets {
				if !a.copyDue(ctx, &a.o.Targets[i], rec) {
					waiting = true
				}
			}
			if waiting {
				b.add(rec)
			}
		}
		if len(recs) < pageSize {
			break
		}
		after = recs[len(recs)-1].ID
	}
	a.setBacklog(b)
	if a.o.KeepLocal >= 0 {
		a.evictDue()
	}
}

// copyDue copies rec to t when t lacks it, is up and the copy's next try
// has come. It reports whether t has a verified copy of rec.
func (a *Archiver) copyDue(ctx context.Context, t *Target, rec vault.Recording) bool {
	c := copyOn(rec, t.Name())
	now := a.o.Now()
	switch {
	case c.State == vault.CopyCopied && c.SHA256 == rec.SHA256:
		return true
	case c.State == vault.CopyFailed && now.Before(c.NextTry), !a.up(t.Name(), now):
		return false
	}
	if err := a.prepare(ctx, t); err != nil {
		return false
	}
	c = vault.Copy{Target: t.Name(), State: vault.CopyCopying, Key: a.Key(t, rec), At: now, Attempts: c.Attempts + 1}
	if _, err := a.o.Store.SetCopy(rec.ID, c, nil); err != nil {
		a.o.Log.Warn("copy state not kept", "id", rec.ID, "err", err)
		return false
	}
	obj, err := a.put(ctx, t, rec, c.Key)
	now = a.o.Now()
	if err != nil {
		c.State, c.Error, c.At = vault.CopyFailed, err.Error(), now
		c.NextTry = now.Add(backoff(c.Attempts))
		if !errors.Is(err, target.ErrChecksum) && !errors.Is(err, os.ErrNotExist) {
			a.down(t.Name(), err, now)
		}
		a.o.Log.Warn("copy failed", "id", rec.ID, "target", t.Name(), "attempt", c.Attempts, "next_try", c.NextTry, "err", err)
		if _, err := a.o.Store.SetCopy(rec.ID, c, nil); err != nil {
			a.o.Log.Warn("copy state not kept", "id", rec.ID, "err", err)
		}
		return false
	}
	c.State, c.SHA256, c.At, c.Attempts = vault.CopyCopied, obj.SHA256, now, 0
	if _, err := a.o.Store.SetCopy(rec.ID, c, a.settle(now)); err != nil {
		a.o.Log.Warn("copy state not kept", "id", rec.ID, "err", err)
		return false
	}
	a.copied(t.Name(), rec.Size, now)
	a.o.Log.Debug("copied", "id", rec.ID, "target", t.Name(), "key", c.Key)
	return true
}

// put sends rec's local file to t under key, after its day's erasure
// secrets.
func (a *Archiver) put(ctx context.Context, t *Target, rec vault.Recording, key string) (target.Object, error) {
	if rec.SHA256 == "" {
		return target.Object{}, fmt.Errorf("recording %s has no SHA-256 to check its copy against", rec.ID)
	}
	if err := a.sendSecrets(ctx, t, vault.SecretsDayOf(rec), false); err != nil {
		return target.Object{}, fmt.Errorf("erasure secrets: %w", err)
	}
	f, err := os.Open(a.o.Store.Path(rec))
	if err != nil {
		return target.Object{}, fmt.Errorf("local file: %w", err)
	}
	defer f.Close()
	obj, err := t.Put(ctx, key, f, rec.Size, rec.SHA256)
	switch {
	case err != nil:
		return obj, err
	case obj.SHA256 == "":
		obj.SHA256 = rec.SHA256 // Put checked it: the target just does not say
	case obj.SHA256 != rec.SHA256:
		return obj, fmt.Errorf("the target holds SHA-256 %s, not %s: %w", obj.SHA256, rec.SHA256, target.ErrChecksum)
	}
	return obj, nil
}

// settle says a recording is done once every target has a verified copy,
// and when its local file may go.
func (a *Archiver) settle(now time.Time) func(vault.Recording) (bool, time.Time) {
	return func(rec vault.Recording) (bool, time.Time) {
		for i := range a.o.Targets {
			if c := copyOn(rec, a.o.Targets[i].Name()); c.State != vault.CopyCopied || c.SHA256 != rec.SHA256 {
				return false, time.Time{}
			}
		}
		if a.o.KeepLocal < 0 {
			return true, time.Time{}
		}
		return true, now.Add(a.o.KeepLocal)
	}
}

// evictDue removes the local files whose time has come.
func (a *Archiver) evictDue() {
	for {
		now := a.o.Now()
		due, err := a.o.Store.DueEvictions(now, pageSize)
		if err != nil {
			a.o.Log.Warn("evictions not read", "err", err)
			return
		}
		for _, rec := range due {
			if err := a.o.Store.Evict(rec.ID, now); err != nil {
				a.o.Log.Warn("local file kept", "id", rec.ID, "err", err)
				return
			}
			a.o.Log.Debug("local file removed, copied", "id", rec.ID)
		}
		if len(due) < pageSize {
			return
		}
	}
}

// Fetch streams an evicted recording from a verified copy (vault's
// FetchFunc): the first target of the configuration that holds one.
func (a *Archiver) Fetch(rec vault.Recording) (io.ReadCloser, error) {
	var errs []error
	for _, c := range rec.Copies {
		t, ok := a.byName[c.Target]
		if !ok || c.State != vault.CopyCopied || c.SHA256 != rec.SHA256 {
			continue
		}
		rc, _, err := t.Open(context.Background(), c.Key)
		if err == nil {
			return rc, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("recording %s: no verified copy on a configured target", rec.ID)
	}
	return nil, errors.Join(errs...)
}

// copyOn is rec's copy on the target name (zero when none).
func copyOn(rec vault.Recording, name string) vault.Copy {
	for _, c := range rec.Copies {
		if c.Target == name {
			return c
		}
	}
	return vault.Copy{}
}

// backoff is the wait before attempt n+1 after n failures.
func backoff(n int) time.Duration {
	d := retryBase
	for i := 1; i < n && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// DeleteCopies removes every copy of rec on the configured targets (before
// the recording is purged or erased). A copy on a target no longer
// configured is left, and logged.
func (a *Archiver) DeleteCopies(ctx context.Context, rec vault.Recording) error {
	for _, c := range rec.Copies {
		t, ok := a.byName[c.Target]
		if !ok {
			a.o.Log.Warn("copy left on a target no longer configured", "id", rec.ID, "target", c.Target, "key", c.Key)
			continue
		}
		if err := t.Delete(ctx, c.Key); err != nil {
			return err
		}
	}
	return nil
}
