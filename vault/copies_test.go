package vault

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// TestCopyQueueAndEviction walks a recording through the copy state: in
// the queue, failed, copied (out of the queue, due for eviction), evicted
// (its file gone, its usage taken off), exported from its copy.
func TestCopyQueueAndEviction(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(3000)
	a := record(t, s, Recording{User: "alice"}, head, audio)
	b := record(t, s, Recording{User: "bob"}, head, audio)
	want, err := exportBytes(s, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.QueueCopies([]string{b.ID, a.ID, "2026999999999"}); err != nil {
		t.Fatal(err)
	}
	q, err := s.CopyQueue("", 10)
	if err != nil || len(q) != 2 || q[0].ID != a.ID || q[1].ID != b.ID {
		t.Fatalf("queue = %v, %v; want %s then %s (an unknown id dropped)", recIDs(q), err, a.ID, b.ID)
	}
	if q, _ := s.CopyQueue(a.ID, 10); len(q) != 1 || q[0].ID != b.ID {
		t.Errorf("queue after %s = %v, want %s", a.ID, recIDs(q), b.ID)
	}

	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	failed := Copy{Target: "nas", State: CopyFailed, Error: "connection refused", Attempts: 1, At: now, NextTry: now.Add(time.Minute)}
	if rec, err := s.SetCopy(a.ID, failed, nil); err != nil || len(rec.Copies) != 1 || rec.Copies[0].State != CopyFailed {
		t.Fatalf("SetCopy failed: %+v, %v", rec.Copies, err)
	}
	if err := s.Evict(a.ID, now); !errors.Is(err, ErrNotCopied) {
		t.Errorf("Evict without a copy: %v, want ErrNotCopied", err)
	}
	copied := Copy{Target: "nas", State: CopyCopied, Key: "x/" + a.ID, SHA256: a.SHA256, At: now}
	rec, err := s.SetCopy(a.ID, copied, func(r Recording) (bool, time.Time) { return len(r.Copies) == 1, now.Add(time.Hour) })
	if err != nil || len(rec.Copies) != 1 || rec.Copies[0] != copied {
		t.Fatalf("SetCopy copied: %+v, %v; want the copy replaced", rec.Copies, err)
	}
	if q, _ := s.CopyQueue("", 10); len(q) != 1 || q[0].ID != b.ID {
		t.Errorf("queue after the copy = %v, want only %s", recIDs(q), b.ID)
	}
	if due, _ := s.DueEvictions(now.Add(59*time.Minute), 10); len(due) != 0 {
		t.Errorf("due before its time: %v", recIDs(due))
	}
	due, err := s.DueEvictions(now.Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].ID != a.ID {
		t.Fatalf("due = %v, %v; want %s", recIDs(due), err, a.ID)
	}
	if err := s.ScanUsage(); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Usage(now)
	aFile := readFile(t, s.Path(a)) // what the target holds
	if err := s.Evict(a.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(a)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the local file is still there: %v", err)
	}
	if after, _ := s.Usage(now); after.Files != before.Files-1 || after.Bytes != before.Bytes-a.Size {
		t.Errorf("usage %+v after evicting from %+v, want one file of %d bytes less", after, before, a.Size)
	}
	if due, _ := s.DueEvictions(now.Add(2*time.Hour), 10); len(due) != 0 {
		t.Errorf("still due after the eviction: %v", recIDs(due))
	}
	if _, err := exportBytes(s, a.ID); !errors.Is(err, ErrMissing) {
		t.Errorf("export with no fetch: %v, want ErrMissing", err)
	}

	// The copy stands in for the file: exported and verified as before;
	// a copy that is not the file is caught.
	other := readFile(t, s.Path(b))
	s.SetFetch(func(r Recording) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(other)), nil })
	if c, _ := s.Verify(a.ID); c.Status == CheckIntact {
		t.Errorf("verify of another recording's bytes: %+v, want a failure", c)
	}
	s.SetFetch(func(r Recording) (io.ReadCloser, error) {
		if r.ID != a.ID {
			return nil, errors.New("wrong recording fetched")
		}
		return io.NopCloser(bytes.NewReader(aFile)), nil
	})
	got, err := exportBytes(s, a.ID)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("export from the copy: %d bytes, %v; want the %d exported before", len(got), err, len(want))
	}
	if c, err := s.Verify(a.ID); err != nil || c.Status != CheckIntact {
		t.Errorf("verify from the copy: %+v, %v", c, err)
	}
}

func recIDs(recs []Recording) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// TestQueueCopiesOnSealAndMissing: with Archive, a seal queues its
// recording; a target added later gets the recordings it lacks once.
func TestQueueCopiesOnSealAndMissing(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(2000)
	old := record(t, s, Recording{User: "alice"}, head, audio)
	if q, _ := s.CopyQueue("", 10); len(q) != 0 {
		t.Fatalf("queued without Archive: %v", recIDs(q))
	}
	s.Close()
	s, err := Open(Config{Dir: dir, Location: testZone, Archive: true, Node: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fresh := record(t, s, Recording{User: "bob"}, head, audio)
	if fresh.ID[4] != '3' {
		t.Errorf("node 3's id %s, want the sequence to start with 3", fresh.ID)
	}
	if q, _ := s.CopyQueue("", 10); len(q) != 1 || q[0].ID != fresh.ID {
		t.Fatalf("queue after a seal = %v, want %s", recIDs(q), fresh.ID)
	}
	if n, err := s.QueueMissing([]string{"nas"}); err != nil || n != 2 {
		t.Errorf("QueueMissing = %d, %v; want both recordings", n, err)
	}
	if q, _ := s.CopyQueue("", 10); len(q) != 2 || q[0].ID != old.ID {
		t.Errorf("queue = %v, want %s and %s", recIDs(q), old.ID, fresh.ID)
	}
	if n, err := s.QueueMissing([]string{"nas"}); err != nil || n != 0 {
		t.Errorf("QueueMissing again = %d, %v; want nothing (done once)", n, err)
	}
}
