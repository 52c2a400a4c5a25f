package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/vault"
	"github.com/callvault/callvault/vault/target"
)

// clock is a test's time, moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// flaky is a target that fails every Put while down is set.
type flaky struct {
	target.Target
	down atomic.Bool
	puts atomic.Int64
}

func (f *flaky) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (target.Object, error) {
	f.puts.Add(1)
	if f.down.Load() {
		return target.Object{}, errors.New("connection refused")
	}
	return f.Target.Put(ctx, key, r, size, sum)
}

func newDir(t *testing.T, name string) *target.Dir {
	t.Helper()
	d, err := target.NewDir(target.Config{Name: name, Kind: target.KindDir, Path: filepath.Join(t.TempDir(), name)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sealed writes a recording of n random bytes and queues its copy.
func sealed(t *testing.T, s *vault.Store, start time.Time, n int) vault.Recording {
	t.Helper()
	w, err := s.Create(start)
	if err != nil {
		t.Fatal(err)
	}
	audio := make([]byte, n)
	rand.Read(audio)
	if _, err := w.Write(audio); err != nil {
		t.Fatal(err)
	}
	rec, err := w.Seal(vault.Recording{Start: start, User: "alice", Extension: "2001", Remote: "+15558201320", Direction: "OUT"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.QueueCopies([]string{rec.ID}); err != nil {
		t.Fatal(err)
	}
	return rec
}

func openStore(t *testing.T) *vault.Store {
	t.Helper()
	s, err := vault.Open(vault.Config{Dir: t.TempDir(), Location: time.UTC}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCopyRetryEvictFetch: two targets, one down: the recording is
// copied to the other, retried on the one that failed after its back-off,
// evicted once both have it and keep_local has passed, and exported from
// its copy byte for byte as before.
func TestCopyRetryEvictFetch(t *testing.T) {
	s := openStore(t)
	ck := &clock{time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	nas := newDir(t, "nas")
	cloud := &flaky{Target: newDir(t, "cloud")}
	cloud.down.Store(true)
	var alarms []control.Alarm
	a := New(Options{Store: s, Node: "node-0", KeepLocal: time.Hour, Now: ck.now,
		Targets: []Target{{Target: nas, Kind: "dir", Prefix: "site-a/"}, {Target: cloud, Kind: "dir"}},
		Alarm:   func(al control.Alarm) { alarms = append(alarms, al) }})
	s.SetFetch(a.Fetch)
	rec := sealed(t, s, ck.t.Add(-time.Minute), 20000)
	var want bytes.Buffer
	if err := s.Export(rec.ID, &want); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	a.Pass(ctx)
	got, _ := s.Get(rec.ID)
	if c := copyOn(got, "nas"); c.State != vault.CopyCopied || c.SHA256 != rec.SHA256 || c.Key != "site-a/node-0/"+rec.File {
		t.Errorf("nas copy %+v, want copied under site-a/node-0/%s with the recording's SHA-256", c, rec.File)
	}
	c := copyOn(got, "cloud")
	if c.State != vault.CopyFailed || c.Attempts != 1 || c.Error == "" || !c.NextTry.Equal(ck.t.Add(retryBase)) {
		t.Errorf("cloud copy %+v, want failed once, next try in %v", c, retryBase)
	}
	st := a.Status()
	if st.Backlog != 1 || st.Targets[0].State != "up" || st.Targets[0].Copied != 1 || st.Targets[1].State != "down" {
		t.Errorf("status %+v", st)
	}

	// Within the back-off nothing is tried; after it, the copy is made.
	cloud.down.Store(false)
	ck.t = ck.t.Add(retryBase - time.Second)
	a.Pass(ctx)
	if n := cloud.puts.Load(); n != 1 {
		t.Errorf("%d puts to the cloud within its back-off, want the first only", n)
	}
	ck.t = ck.t.Add(time.Second)
	a.Pass(ctx)
	got, _ = s.Get(rec.ID)
	if c := copyOn(got, "cloud"); c.State != vault.CopyCopied {
		t.Fatalf("cloud copy %+v after its back-off, want copied", c)
	}
	if st := a.Status(); st.Backlog != 0 && st.Targets[1].State != "up" {
		t.Errorf("status %+v, want no backlog and the cloud up", st)
	}
	if q, _ := s.CopyQueue("", 10); len(q) != 0 {
		t.Errorf("queue %d long, want empty", len(q))
	}

	// keep_local: the file stays an hour after the last copy.
	a.Pass(ctx)
	if _, err := os.Stat(s.Path(rec)); err != nil {
		t.Fatalf("local file gone before keep_local: %v", err)
	}
	ck.t = ck.t.Add(time.Hour)
	a.Pass(ctx)
	if _, err := os.Stat(s.Path(rec)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("local file kept after keep_local: %v", err)
	}
	var fetched bytes.Buffer
	if err := s.Export(rec.ID, &fetched); err != nil || !bytes.Equal(fetched.Bytes(), want.Bytes()) {
		t.Errorf("export from the copy: %d bytes, %v; want the %d exported before", fetched.Len(), err, want.Len())
	}
	if len(alarms) != 0 {
		t.Errorf("alarms %+v, want none", alarms)
	}
}

// TestBacklogAlarm: a recording waiting over an hour raises the backlog
// alarm; its copy clears it.
func TestBacklogAlarm(t *testing.T) {
	s := openStore(t)
	ck := &clock{time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	down := &flaky{Target: newDir(t, "nas")}
	down.down.Store(true)
	var alarms []control.Alarm
	a := New(Options{Store: s, Node: "node-0", KeepLocal: -1, Now: ck.now, Targets: []Target{{Target: down, Kind: "dir"}},
		Alarm: func(al control.Alarm) { alarms = append(alarms, al) }})
	sealed(t, s, ck.t.Add(-2*time.Hour), 1000)
	a.Pass(context.Background())
	if len(alarms) != 1 || !alarms[0].Active || alarms[0].Name != AlarmBacklog || len(a.Alarms()) != 1 {
		t.Fatalf("alarms %+v, want %s raised", alarms, AlarmBacklog)
	}
	down.down.Store(false)
	ck.t = ck.t.Add(retryMax)
	a.Pass(context.Background())
	if len(alarms) != 2 || alarms[1].Active || len(a.Alarms()) != 0 {
		t.Errorf("alarms %+v, want %s cleared", alarms, AlarmBacklog)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: retryBase, 2: 2 * retryBase, 3: 4 * retryBase, 30: retryMax} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}
