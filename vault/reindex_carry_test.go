package vault

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReindexCarriesOver: a reindex from the files keeps what only the
// old index knew: a hold, a copy, an evicted recording, a tombstone.
func TestReindexCarriesOver(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(2000)
	held := record(t, s, Recording{User: "alice"}, head, audio)
	copied := record(t, s, Recording{User: "bob"}, head, audio)
	gone := record(t, s, Recording{User: "carol"}, head, audio)
	if _, err := s.SetHold(held.ID, &Hold{Reason: "case 9", Actor: "root", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := Copy{Target: "nas", State: CopyCopied, Key: "k/" + copied.ID, SHA256: copied.SHA256}
	if _, err := s.SetCopy(copied.ID, c, func(Recording) (bool, time.Time) { return true, time.Now() }); err != nil {
		t.Fatal(err)
	}
	if err := s.Evict(copied.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(gone.ID, Tombstone{Action: AuditRecordingPurged, Reason: "test", Actor: ActorSystem}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	rep, err := Reindex(Config{Dir: dir, Location: testZone}, nil)
	if err != nil || rep.Carried < 3 {
		t.Fatalf("reindex: %+v, %v; want the hold, the evicted copy and the tombstone carried", rep, err)
	}
	s = openTest(t, dir)
	if r, err := s.Get(held.ID); err != nil || r.Hold == nil || r.Hold.Reason != "case 9" {
		t.Errorf("held after the reindex: %+v, %v", r.Hold, err)
	}
	if err := s.Remove(held.ID, Tombstone{Action: AuditRecordingPurged}); !errors.Is(err, ErrHeld) {
		t.Errorf("remove the held one after the reindex: %v, want ErrHeld", err)
	}
	if r, err := s.Get(copied.ID); err != nil || r.Evicted.IsZero() || len(r.Copies) != 1 {
		t.Errorf("evicted after the reindex: %+v, %v", r, err)
	}
	if _, ok, _ := s.TombstoneOf(gone.ID); !ok {
		t.Error("tombstone lost by the reindex")
	}
}

// TestReindexRestoresHoldsFromAudit: the index is lost whole (no old
// index to carry holds from); the reindex puts back the holds the audit
// trail says are in force, and only those: a released one stays free,
// one held twice keeps its first date and its last reason.
func TestReindexRestoresHoldsFromAudit(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(2000)
	held := record(t, s, Recording{User: "alice"}, head, audio)
	released := record(t, s, Recording{User: "bob"}, head, audio)
	for _, e := range []AuditEntry{
		{Action: AuditRecordingHeld, ID: held.ID, Actor: "root", Detail: "case 9"},
		{Action: AuditRecordingHeld, ID: released.ID, Actor: "root", Detail: "case 9"},
		{Action: AuditRecordingReleased, ID: released.ID, Actor: "root"},
		{Action: AuditRecordingHeld, ID: held.ID, Actor: "root", Detail: "case 9, appeal"},
	} {
		if _, err := s.AuditAppend(e); err != nil {
			t.Fatal(err)
		}
	}
	var first time.Time
	s.AuditEntries(AuditQuery{ID: held.ID}, func(e AuditEntry) error {
		if first.IsZero() && e.Action == AuditRecordingHeld {
			first = e.Time
		}
		return nil
	})
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	rep, err := Reindex(Config{Dir: dir, Location: testZone}, nil)
	if err != nil || rep.HoldsRestored != 1 || rep.MovedIndexTo != "" {
		t.Fatalf("reindex: %+v, %v; want one hold restored from the audit trail", rep, err)
	}
	s = openTest(t, dir)
	r, err := s.Get(held.ID)
	if err != nil || r.Hold == nil || r.Hold.Reason != "case 9, appeal" || !r.Hold.Since.Equal(first) || r.Hold.Actor != "root" {
		t.Errorf("held after the reindex: %+v, %v; want since %v", r.Hold, err, first)
	}
	if err := s.Remove(held.ID, Tombstone{Action: AuditRecordingPurged}); !errors.Is(err, ErrHeld) {
		t.Errorf("remove of the restored hold: %v, want ErrHeld", err)
	}
	if r, _ := s.Get(released.ID); r.Hold != nil {
		t.Errorf("the released recording is held again: %+v", r.Hold)
	}
}
