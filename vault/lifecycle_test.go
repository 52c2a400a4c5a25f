package vault

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
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

// TestEraseDefeatsBackup: a copy of the file taken before the erase (a
// backup: its own bytes, key block intact) cannot be decrypted with the
// KEK afterwards, also by a store opened anew; the day's other recordings
// still export; the day file is pending for the targets.
func TestEraseDefeatsBackup(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(3000)
	rec := record(t, s, Recording{User: "alice"}, head, audio)
	other := record(t, s, Recording{User: "bob"}, head, audio)
	backup := filepath.Join(t.TempDir(), "backup.mp3.enc")
	writeFile(t, backup, readFile(t, s.Path(rec)))
	if _, err := s.ExportFile(backup, io.Discard); err != nil {
		t.Fatalf("the backup before the erase: %v", err)
	}
	if err := s.Erase(rec.ID, Tombstone{Reason: "GDPR request 18", Actor: "dpo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExportFile(backup, io.Discard); !errors.Is(err, ErrErased) {
		t.Errorf("the backup after the erase: %v, want ErrErased", err)
	}
	if got, err := exportBytes(s, other.ID); err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio...)) {
		t.Errorf("the day's other recording: %v", err)
	}
	days, err := s.PendingSecrets()
	if day := SecretsDayOf(rec); err != nil || len(days) != 1 || days[0] != day {
		t.Errorf("pending day files %v (%v), want [%s]", days, err, day)
	}
	b, v, err := s.Secrets(SecretsDayOf(rec))
	if err != nil || v.Gen != 1 || v.Entries != 1 || len(b) != secretsHeadSize+secretEntrySize {
		t.Errorf("day file after the erase: version %+v, %d bytes, %v", v, len(b), err)
	}
	if hv, err := s.SecretsVersionOf(SecretsDayOf(rec)); err != nil || hv != v {
		t.Errorf("version from the header %+v (%v), from the content %+v", hv, err, v)
	}
	if err := s.SecretsSent(SecretsDayOf(rec), v); err != nil {
		t.Fatal(err)
	}
	if days, _ := s.PendingSecrets(); len(days) != 0 {
		t.Errorf("pending after sent: %v", days)
	}
	s.Close()
	s = openTest(t, dir)
	if _, err := s.ExportFile(backup, io.Discard); !errors.Is(err, ErrErased) {
		t.Errorf("the backup, store reopened: %v, want ErrErased", err)
	}
	if _, err := exportBytes(s, other.ID); err != nil {
		t.Errorf("the other recording, store reopened: %v", err)
	}
}

// TestSecretsTornAppend: a day file whose last entry was torn by a crash
// is cut back to its whole entries, and appends go on after them.
func TestSecretsTornAppend(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(3000)
	rec := record(t, s, Recording{User: "alice"}, head, audio)
	s.Close()
	p := filepath.Join(dir, "keys", secretsDirName, SecretsDayOf(rec))
	writeFile(t, p, append(readFile(t, p), 1, 2, 3))
	s = openTest(t, dir)
	second := record(t, s, Recording{User: "bob"}, head, audio)
	for _, r := range []Recording{rec, second} {
		if _, err := exportBytes(s, r.ID); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
	}
	if _, v, err := s.Secrets(SecretsDayOf(rec)); err != nil || v.Entries != 2 {
		t.Errorf("day file: %+v, %v; want 2 entries", v, err)
	}
}

// TestSecretsCacheBounded: reading recordings of many days keeps only a
// few days' secrets in memory, and every recording still reads.
func TestSecretsCacheBounded(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(500)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var recs []Recording
	for d := range 2 * secretsCacheDays {
		recs = append(recs, record(t, s, Recording{User: "alice", Start: t0.AddDate(0, 0, d)}, head, audio))
	}
	for range 2 {
		for _, r := range recs {
			if _, err := exportBytes(s, r.ID); err != nil {
				t.Fatalf("%s: %v", r.ID, err)
			}
		}
	}
	if n := len(s.kek.secrets.cache); n > secretsCacheDays {
		t.Errorf("%d days of secrets in memory, want at most %d", n, secretsCacheDays)
	}
}
