package recorder

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/vault"
)

// sealAt writes a sealed recording of user that started at start.
func sealAt(t *testing.T, s *vault.Store, user string, start time.Time) vault.Recording {
	t.Helper()
	w, err := s.Create(start)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("not really mp3"))
	rec, err := w.Seal(vault.Recording{Start: start, User: user}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestExpired(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	rec := vault.Recording{User: "alice", Start: now.AddDate(0, -6, 0)}
	for _, tc := range []struct {
		users  map[string]int
		global int
		want   bool
	}{
		{nil, 0, false},                         // kept for ever
		{nil, 6, true},                          // exactly its time
		{nil, 7, false},                         // not yet
		{map[string]int{"alice": 12}, 6, false}, // the user's own wins
		{map[string]int{"alice": 3}, 0, true},
	} {
		if got := expired(rec, tc.users, tc.global, now); got != tc.want {
			t.Errorf("expired(users %v, global %d) = %v, want %v", tc.users, tc.global, got, tc.want)
		}
	}
}

func TestJumped(t *testing.T) {
	for _, tc := range []struct {
		wall, mono time.Duration
		want       bool
	}{
		{time.Second, time.Second, false},
		{25 * time.Hour, time.Second, true},
		{-25 * time.Hour, time.Second, true},
		{23 * time.Hour, 0, false},
	} {
		if _, got := jumped(tc.wall, tc.mono); got != tc.want {
			t.Errorf("jumped(%v, %v) = %v", tc.wall, tc.mono, got)
		}
	}
}

// TestPurgeRetention: the purge removes what retention no longer keeps,
// skips a held recording, keeps the rest; a dry run removes nothing.
func TestPurgeRetention(t *testing.T) {
	r := newTestRecorder(t, true)
	r.retention.months = 6
	now := time.Now()
	old := sealAt(t, r.store, "john_doe", now.AddDate(0, -8, 0))
	held := sealAt(t, r.store, "john_doe", now.AddDate(0, -9, 0))
	young := sealAt(t, r.store, "john_doe", now.AddDate(0, -1, 0))
	if _, err := r.store.SetHold(held.ID, &vault.Hold{Reason: "case 7", Actor: "root"}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup")
	b, err := os.ReadFile(r.store.Path(old))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(backup, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dry, err := r.Purge(ctx, control.PurgeRequest{DryRun: true})
	if err != nil || !slices.Equal(dry.Purged, []string{old.ID}) || !slices.Equal(dry.Held, []string{held.ID}) {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if _, err := r.store.Get(old.ID); err != nil {
		t.Fatalf("a dry run removed %s: %v", old.ID, err)
	}
	res, err := r.Purge(ctx, control.PurgeRequest{})
	if err != nil || !slices.Equal(res.Purged, []string{old.ID}) {
		t.Fatalf("purge: %+v, %v", res, err)
	}
	for id, want := range map[string]bool{old.ID: false, held.ID: true, young.ID: true} {
		if _, err := r.store.Get(id); (err == nil) != want {
			t.Errorf("%s after the purge: %v, want kept %v", id, err, want)
		}
	}
	if _, err := r.store.ExportFile(backup, io.Discard); !errors.Is(err, vault.ErrErased) {
		t.Errorf("a backup of the purged file: %v, want ErrErased (its erasure secret destroyed)", err)
	}
	if err := r.store.Export(young.ID, io.Discard); err != nil {
		t.Errorf("the young recording after the purge: %v", err)
	}
	if ts, ok, _ := r.store.TombstoneOf(old.ID); !ok || ts.Reason != "retention" || ts.Actor != vault.ActorSystem {
		t.Errorf("tombstone %+v, %v", ts, ok)
	}
	var actions []string
	r.store.AuditEntries(vault.AuditQuery{ID: old.ID}, func(e vault.AuditEntry) error { actions = append(actions, e.Action); return nil })
	if !slices.Contains(actions, vault.AuditRecordingPurged) {
		t.Errorf("audit of %s: %v, want purged", old.ID, actions)
	}
	// An explicit purge up to a date removes the young one too, not the held.
	res, err = r.Purge(ctx, control.PurgeRequest{Before: now, Reason: "case closed"})
	if err != nil || !slices.Equal(res.Purged, []string{young.ID}) || !slices.Equal(res.Held, []string{held.ID}) {
		t.Errorf("purge --before: %+v, %v", res, err)
	}
}

// TestPurgePausedByClockBack: a clock more than a day before the last
// purge pauses purging from the start, with the alarm raised.
func TestPurgePausedByClockBack(t *testing.T) {
	dir := t.TempDir()
	state := `{"highwater":"` + time.Now().Add(72*time.Hour).UTC().Format(time.RFC3339) + `"}`
	if err := os.WriteFile(filepath.Join(dir, "purge.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	board := newAlarmBoard(discardLog(), NewHub(), time.Now)
	rt := newRetention(Options{DataDir: dir, RetentionMonths: 1}, board, time.Now())
	r := &Recorder{retention: rt, now: time.Now}
	if _, err := r.Purge(context.Background(), control.PurgeRequest{}); err == nil {
		t.Error("purge ran with the clock set back 3 days")
	}
	if a := board.active(); len(a) != 1 || a[0].Name != AlarmClockJump {
		t.Errorf("alarms %+v, want %s", a, AlarmClockJump)
	}
}
