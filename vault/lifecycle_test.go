package vault

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// TestHoldAndRemove: a held recording cannot be removed; released, it
// can: its file, record and index keys go, a tombstone stays, and the
// purge scan no longer lists it.
func TestHoldAndRemove(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(3000)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	old := record(t, s, Recording{User: "alice", Start: t0, Remote: "+15558201320"}, head, audio)
	newer := record(t, s, Recording{User: "alice", Start: t0.Add(48 * time.Hour)}, head, audio)

	got, err := s.StartedBefore(t0.Add(time.Hour), Position{}, 10)
	if err != nil || len(got) != 1 || got[0].ID != old.ID {
		t.Fatalf("started before: %v, %v; want %s only", recIDs(got), err, old.ID)
	}
	if got, _ := s.StartedBefore(t0.Add(72*time.Hour), PositionOf(old), 10); len(got) != 1 || got[0].ID != newer.ID {
		t.Errorf("started before, after %s: %v", old.ID, recIDs(got))
	}

	hold := &Hold{Reason: "case 42", Since: t0, Actor: "alice"}
	if rec, err := s.SetHold(old.ID, hold); err != nil || rec.Hold == nil || rec.Hold.Reason != "case 42" {
		t.Fatalf("hold: %+v, %v", rec.Hold, err)
	}
	var held []string
	s.Held(func(r Recording) error { held = append(held, r.ID); return nil })
	if len(held) != 1 || held[0] != old.ID {
		t.Errorf("held = %v", held)
	}
	if err := s.Remove(old.ID, Tombstone{Action: AuditRecordingPurged, Actor: ActorSystem}); !errors.Is(err, ErrHeld) {
		t.Fatalf("remove a held recording: %v, want ErrHeld", err)
	}
	if _, err := os.Stat(s.Path(old)); err != nil {
		t.Fatalf("the held recording's file: %v", err)
	}
	if _, err := s.SetHold(old.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(old.ID, Tombstone{Action: AuditRecordingPurged, Reason: "retention", Actor: ActorSystem}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(old)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file after remove: %v", err)
	}
	if _, err := s.Get(old.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after remove: %v", err)
	}
	if found, _ := s.Search(Query{Remote: "8201"}); len(found) != 0 {
		t.Errorf("search still finds %v", recIDs(found))
	}
	ts, ok, err := s.TombstoneOf(old.ID)
	if err != nil || !ok || ts.Action != AuditRecordingPurged || ts.Reason != "retention" || !ts.Start.Equal(t0) {
		t.Errorf("tombstone: %+v, %v, %v", ts, ok, err)
	}
	if got, _ := s.StartedBefore(t0.Add(72*time.Hour), Position{}, 10); len(got) != 1 || got[0].ID != newer.ID {
		t.Errorf("started before after the remove: %v", recIDs(got))
	}
}

// TestErase: the key block goes before the file; a held recording is
// refused; the tombstone says erased.
func TestErase(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(3000)
	rec := record(t, s, Recording{User: "alice"}, head, audio)
	held := record(t, s, Recording{User: "bob"}, head, audio)
	if _, err := s.SetHold(held.ID, &Hold{Reason: "case 1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(held.ID, Tombstone{Reason: "request"}); !errors.Is(err, ErrHeld) {
		t.Errorf("erase a held recording: %v, want ErrHeld", err)
	}
	// A hard link keeps the file's blocks: they must hold no usable key.
	keep := s.Path(rec) + ".link"
	if err := os.Link(s.Path(rec), keep); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(rec.ID, Tombstone{Reason: "GDPR request 17", Actor: "dpo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := exportBytes(s, rec.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("export after erase: %v", err)
	}
	if _, err := s.ExportFile(keep, io.Discard); err == nil {
		t.Error("the erased file's blocks still decrypt")
	}
	if ts, ok, _ := s.TombstoneOf(rec.ID); !ok || ts.Action != AuditRecordingErased || ts.Reason != "GDPR request 17" {
		t.Errorf("tombstone %+v", ts)
	}
}
