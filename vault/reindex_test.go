package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIndexUnindexed(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(9000)
	kept := record(t, s, Recording{User: "kept"}, head, audio)
	lost := record(t, s, Recording{User: "lost", Status: StatusRecovered}, head, audio)
	bad := record(t, s, Recording{User: "bad"}, head, audio)
	unindex(t, s, lost)
	unindex(t, s, bad)
	writeFile(t, s.Path(bad), flipAt(func(n int) int { return n / 2 })(readFile(t, s.Path(bad))))

	done, errs := s.IndexUnindexed()
	if len(done) != 1 || done[0].ID != lost.ID {
		t.Fatalf("IndexUnindexed indexed %+v, want %s", done, lost.ID)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrCorrupt) || !strings.Contains(errs[0].Error(), bad.File) {
		t.Errorf("IndexUnindexed errors %v, want one naming %s", errs, bad.File)
	}
	sum, err := fileSHA256(s.Path(lost))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(lost.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.SHA256 != sum || got.File != lost.File || got.Size != lost.Size || got.Status != StatusRecovered ||
		got.User != "lost" || !got.Start.Equal(lost.Start) {
		t.Errorf("indexed %+v, want %+v with SHA-256 %s", got, lost, sum)
	}
	if recs, _ := s.Search(Query{User: "lost"}); len(recs) != 1 {
		t.Errorf("Search finds %d of the indexed recording", len(recs))
	}
	if c, _ := s.Verify(lost.ID); c.Status != CheckIntact {
		t.Errorf("Verify after indexing = %+v", c)
	}
	// Nothing more to do; the damaged file stays out, and says so.
	if done, errs := s.IndexUnindexed(); len(done) != 0 || len(errs) != 1 {
		t.Errorf("second IndexUnindexed: %+v, %v", done, errs)
	}
	if _, err := s.Get(bad.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a damaged file was indexed: %v", err)
	}
	if _, err := s.Get(kept.ID); err != nil {
		t.Errorf("Get of the recording indexed all along: %v", err)
	}
}

func TestIndexUnindexedRenamedFile(t *testing.T) {
	s := openTest(t, t.TempDir())
	rec := record(t, s, Recording{User: "a"}, nil, []byte("audio"))
	unindex(t, s, rec)
	// A file with another record's id in its name is not that record.
	other := filepath.Join(filepath.Dir(s.Path(rec)), "2026000000099"+strings.TrimPrefix(filepath.Base(s.Path(rec)), rec.ID))
	if err := os.Rename(s.Path(rec), other); err != nil {
		t.Fatal(err)
	}
	done, errs := s.IndexUnindexed()
	if len(done) != 0 || len(errs) != 1 || !errors.Is(errs[0], ErrCorrupt) {
		t.Errorf("IndexUnindexed of a renamed file: %+v, %v", done, errs)
	}
}

func TestReindex(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(9000)
	y2025 := time.Date(2025, 12, 31, 10, 0, 0, 0, time.UTC)
	var want []Recording
	for _, r := range []Recording{{User: "a"}, {User: "b", Direction: "OUT"}, {User: "c", Start: y2025}} {
		want = append(want, record(t, s, r, head, audio))
	}
	bad := record(t, s, Recording{User: "bad"}, head, audio)
	writeFile(t, s.Path(bad), cutAt(func(n int) int { return n - 1 })(readFile(t, s.Path(bad))))
	// A call still being written when the index was lost: the highest id.
	w, err := s.Create(want[0].Start)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := parseID(w.ID())
	s.Close()

	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	rep, err := reindex(Config{Dir: dir, Location: testZone}, nil, now)
	if err != nil {
		t.Fatalf("Reindex: %v", err)
	}
	if moved := filepath.Join(dir, "index.old-20261127T120000Z"); rep.MovedIndexTo != moved {
		t.Errorf("MovedIndexTo = %q, want %q", rep.MovedIndexTo, moved)
	} else if _, err := os.Stat(filepath.Join(moved, "MANIFEST")); err != nil {
		t.Errorf("the old index was not kept: %v", err)
	}
	if rep.Indexed != len(want) || len(rep.Failed) != 1 || rep.Failed[0].ID != bad.ID || rep.Failed[0].Status != CheckTruncated {
		t.Errorf("report %+v, want %d indexed and %s truncated", rep, len(want), bad.ID)
	}

	s = openTest(t, dir)
	for _, rec := range want {
		got, err := s.Get(rec.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", rec.ID, err)
		}
		sum, _ := fileSHA256(s.Path(rec))
		rec.SHA256 = sum
		if fmt.Sprint(got) != fmt.Sprint(rec) {
			t.Errorf("reindexed\n%+v\nwant\n%+v", got, rec)
		}
	}
	if recs, _ := s.Search(Query{}); len(recs) != len(want) {
		t.Errorf("Search: %d recordings, want %d", len(recs), len(want))
	}
	if recs, _ := s.Search(Query{Direction: "OUT"}); len(recs) != 1 || recs[0].ID != want[1].ID {
		t.Errorf("Search by direction: %+v", recs)
	}
	// Ids never repeat: each year's next id is past every id on disk.
	if n := createID(t, s, want[0].Start); n != part+1 {
		t.Errorf("next 2026 id %d, want %d (after the .part)", n, part+1)
	}
	last2025, _ := parseID(want[2].ID)
	if n := createID(t, s, y2025); n != last2025+1 {
		t.Errorf("next 2025 id %d, want %d", n, last2025+1)
	}
	s.Close()

	// Within the same second the old index's name is taken: refuse, move nothing.
	if _, err := reindex(Config{Dir: dir}, nil, now); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second reindex at the same time: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index", "MANIFEST")); err != nil {
		t.Errorf("the index was moved: %v", err)
	}
}

func TestReindexWithoutIndex(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	rec := record(t, s, Recording{User: "a"}, nil, []byte("audio"))
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	rep, err := Reindex(Config{Dir: dir, Location: testZone}, nil)
	if err != nil || rep.Indexed != 1 || rep.MovedIndexTo != "" || len(rep.Failed) != 0 {
		t.Fatalf("Reindex = %+v, %v", rep, err)
	}
	s = openTest(t, dir)
	if _, err := s.Get(rec.ID); err != nil {
		t.Errorf("Get: %v", err)
	}
}

func TestReindexRefuses(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if _, err := Reindex(Config{Dir: dir}, nil); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Reindex while the store is open: %v", err)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, "keys", "kek")); err != nil {
		t.Fatal(err)
	}
	if _, err := Reindex(Config{Dir: dir}, nil); err == nil || !strings.Contains(err.Error(), "key-encryption key") {
		t.Errorf("Reindex without the key: %v", err)
	}
	if old, _ := filepath.Glob(filepath.Join(dir, "index.old-*")); len(old) != 0 {
		t.Errorf("a refused reindex moved the index: %v", old)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "kek")); err == nil {
		t.Error("a refused reindex created a key")
	}
}

// BenchmarkIndexUnindexed measures the start-up check when nothing is
// missing: 10,000 sealed files over 100 days, all indexed.
func BenchmarkIndexUnindexed(b *testing.B) {
	s := openTest(b, b.TempDir())
	const n = 10_000
	recs := make([]Recording, n)
	for i := range recs {
		rec := Recording{ID: formatID(2026000000001 + uint64(i)), Start: time.Date(2026, 1, 1+i/100, 9, 0, i%60, 0, time.UTC),
			User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "IN"}
		rec.File = relPath(rec, rec.Start, s.loc)
		if err := ensureDir(s.dir, filepath.ToSlash(filepath.Dir(rec.File))); err != nil {
			b.Fatal(err)
		}
		writeFile(b, s.Path(rec), nil) // never read: the names decide
		recs[i] = rec
	}
	if err := s.indexNew(recs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if done, errs := s.IndexUnindexed(); len(done) != 0 || len(errs) != 0 {
			b.Fatalf("IndexUnindexed: %d indexed, %v", len(done), errs)
		}
	}
}
