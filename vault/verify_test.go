package vault

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// countingWriter counts the bytes that reach it.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// withHash indexes rec again with the SHA-256 of its file, as Seal does.
func withHash(t testing.TB, s *Store, rec Recording) Recording {
	t.Helper()
	sum, err := fileSHA256(s.Path(rec))
	if err != nil {
		t.Fatal(err)
	}
	rec.SHA256 = sum
	if err := s.index(rec); err != nil {
		t.Fatalf("index: %v", err)
	}
	return rec
}

// unindex deletes rec and its index keys, as a crash between the rename
// and the index commit of a Seal leaves it.
func unindex(t testing.TB, s *Store, rec Recording) {
	t.Helper()
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, k := range append(indexKeys(rec), recordKey(rec.ID)) {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("unindex: %v", err)
	}
}

// Mutations of a file, by offsets that hold whatever the format version.
func flipAt(off func(n int) int) func([]byte) []byte {
	return func(b []byte) []byte { b[off(len(b))] ^= 0x01; return b }
}

func cutAt(off func(n int) int) func([]byte) []byte {
	return func(b []byte) []byte { return b[:off(len(b))] }
}

func TestExportAndVerifyDamagedFile(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	rec := withHash(t, s, record(t, s, Recording{User: "a"}, head, audio))
	path := s.Path(rec)
	orig := readFile(t, path)
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
		status string
	}{
		{"flip a byte mid-file", flipAt(func(n int) int { return n / 2 }), ErrCorrupt, CheckTampered},
		{"flip a byte of the final segment", flipAt(func(n int) int { return n - 100 }), ErrCorrupt, CheckTampered},
		{"flip the last byte", flipAt(func(n int) int { return n - 1 }), ErrCorrupt, CheckTampered},
		{"flip the key id", flipAt(func(int) int { return 33 }), ErrWrongKey, CheckTampered},
		{"cut the last byte", cutAt(func(n int) int { return n - 1 }), ErrTruncated, CheckTruncated},
		{"cut mid-file", cutAt(func(n int) int { return n / 2 }), ErrTruncated, CheckTruncated},
		{"empty", cutAt(func(int) int { return 0 }), ErrTruncated, CheckTruncated},
		{"append a byte", func(b []byte) []byte { return append(b, 0) }, ErrCorrupt, CheckTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, path, tt.mutate(bytes.Clone(orig)))
			var w countingWriter
			err := s.Export(rec.ID, &w)
			if !errors.Is(err, tt.want) {
				t.Errorf("Export: %v, want %v", err, tt.want)
			}
			if w.n != 0 {
				t.Errorf("Export wrote %d bytes of a damaged file", w.n)
			}
			c, err := s.Verify(rec.ID)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Status != tt.status || c.Detail == "" || c.ID != rec.ID || c.File != rec.File {
				t.Errorf("Verify = %+v, want status %s with a detail", c, tt.status)
			}
		})
	}
	writeFile(t, path, orig)
	var w countingWriter
	if err := s.Export(rec.ID, &w); err != nil || w.n != len(head)+len(audio) {
		t.Errorf("Export of the restored file: %d bytes, %v", w.n, err)
	}
	if c, err := s.Verify(rec.ID); err != nil || c != (Check{ID: rec.ID, File: rec.File, Status: CheckIntact}) {
		t.Errorf("Verify of the restored file = %+v, %v", c, err)
	}
}

func TestExportAndVerifyHashMismatch(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(5000)
	rec := record(t, s, Recording{}, head, audio)
	// An authentic file that is not the one the index hashed.
	rec.SHA256 = strings.Repeat("ab", 32)
	if err := s.index(rec); err != nil {
		t.Fatal(err)
	}
	var w countingWriter
	if err := s.Export(rec.ID, &w); !errors.Is(err, ErrCorrupt) || w.n != 0 {
		t.Errorf("Export: %d bytes, %v; want nothing and ErrCorrupt", w.n, err)
	}
	c, err := s.Verify(rec.ID)
	if err != nil || c.Status != CheckTampered || !strings.Contains(c.Detail, "SHA-256") {
		t.Errorf("Verify = %+v, %v; want tampered, naming the hash", c, err)
	}
	// Without a hash (sealed by an older version) authentication decides.
	rec.SHA256 = ""
	if err := s.index(rec); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(rec.ID); err != nil || c.Status != CheckIntact {
		t.Errorf("Verify without a hash = %+v, %v", c, err)
	}
}

func TestExportAndVerifyMissingOrUnreadable(t *testing.T) {
	s := openTest(t, t.TempDir())
	rec := record(t, s, Recording{}, nil, []byte("x"))
	if err := os.Remove(s.Path(rec)); err != nil {
		t.Fatal(err)
	}
	var w countingWriter
	err := s.Export(rec.ID, &w)
	if !errors.Is(err, ErrMissing) || !errors.Is(err, fs.ErrNotExist) || w.n != 0 {
		t.Errorf("Export of a missing file: %d bytes, %v", w.n, err)
	}
	if c, err := s.Verify(rec.ID); err != nil || c.Status != CheckMissing || c.File != rec.File {
		t.Errorf("Verify of a missing file = %+v, %v", c, err)
	}
	// A directory where the file should be: read errors, not a verdict.
	if err := os.Mkdir(s.Path(rec), 0o700); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(rec.ID); err != nil || c.Status != CheckUnreadable {
		t.Errorf("Verify of an unreadable file = %+v, %v", c, err)
	}
}

func TestVerifyErrors(t *testing.T) {
	s := openTest(t, t.TempDir())
	if _, err := s.Verify("2026000000001"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Verify of an unknown id: %v", err)
	}
	if _, err := s.Verify("../../etc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Verify of a bad id: %v", err)
	}
	s.Close()
	if _, err := s.Verify("2026000000001"); !errors.Is(err, ErrClosed) {
		t.Errorf("Verify on a closed store: %v", err)
	}
	if err := s.VerifyAll(func(Check) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("VerifyAll on a closed store: %v", err)
	}
}

// damagedStore holds one recording of each kind VerifyAll reports, and
// returns the checks expected, in order.
func damagedStore(t *testing.T, s *Store) []Check {
	t.Helper()
	head, audio := fakeMP3(9000)
	mk := func(user string) Recording { return withHash(t, s, record(t, s, Recording{User: user}, head, audio)) }
	intact, tampered, truncated, missing := mk("intact"), mk("tampered"), mk("truncated"), mk("missing")
	lost, lostBad := mk("lost"), mk("lost-bad")
	damage := func(rec Recording, mutate func([]byte) []byte) {
		writeFile(t, s.Path(rec), mutate(readFile(t, s.Path(rec))))
	}
	damage(tampered, flipAt(func(n int) int { return n / 3 }))
	damage(truncated, cutAt(func(n int) int { return n - 10 }))
	if err := os.Remove(s.Path(missing)); err != nil {
		t.Fatal(err)
	}
	unindex(t, s, lost)
	unindex(t, s, lostBad)
	damage(lostBad, flipAt(func(n int) int { return n / 2 }))
	stray := filepath.Join(s.Dir(), "records", "2026", "11", "25", "stray.mp3.enc")
	writeFile(t, stray, []byte("not a recording"))
	return []Check{
		{ID: intact.ID, File: intact.File, Status: CheckIntact},
		{ID: tampered.ID, File: tampered.File, Status: CheckTampered},
		{ID: truncated.ID, File: truncated.File, Status: CheckTruncated},
		{ID: missing.ID, File: missing.File, Status: CheckMissing},
		{ID: lost.ID, File: lost.File, Status: CheckUnindexed},
		{ID: lostBad.ID, File: lostBad.File, Status: CheckUnindexed},
		{File: "records/2026/11/25/stray.mp3.enc", Status: CheckUnindexed},
	}
}

// collect runs a verify function and returns its checks without details.
func collect(t *testing.T, verify func(func(Check) error) error) ([]Check, []string) {
	t.Helper()
	var got []Check
	var details []string
	err := verify(func(c Check) error {
		details = append(details, c.Detail)
		c.Detail = ""
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return got, details
}

func TestVerifyAll(t *testing.T) {
	s := openTest(t, t.TempDir())
	want := damagedStore(t, s)
	got, details := collect(t, s.VerifyAll)
	if len(got) != len(want) {
		t.Fatalf("VerifyAll: %d checks %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("check %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for i, d := range details {
		if (d == "") != (want[i].Status == CheckIntact) {
			t.Errorf("check %d (%s): detail %q", i, want[i].Status, d)
		}
	}
	if !strings.Contains(details[4], "authenticates") || !strings.Contains(details[5], "corrupt") ||
		!strings.Contains(details[6], "record id") {
		t.Errorf("details of the unindexed files: %q", details[4:])
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.VerifyAll(func(Check) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("VerifyAll with fn failing: %v after %d calls", err, calls)
	}
}

func TestVerifyAllPages(t *testing.T) {
	s := openTest(t, t.TempDir())
	const n = 600 // more than two pages
	recs := make([]Recording, n)
	for i := range recs {
		recs[i] = Recording{ID: formatID(2026000000001 + uint64(n-1-i)), Start: time.Unix(int64(i), 0).UTC(), File: "records/nowhere.mp3.enc"}
	}
	if err := s.indexNew(recs); err != nil {
		t.Fatal(err)
	}
	got, _ := collect(t, s.VerifyAll)
	if len(got) != n {
		t.Fatalf("VerifyAll: %d checks, want %d", len(got), n)
	}
	for i, c := range got {
		if c.ID != formatID(2026000000001+uint64(i)) || c.Status != CheckMissing {
			t.Fatalf("check %d = %+v, want id order, missing", i, c)
		}
	}
}

func TestVerifyDir(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	want := damagedStore(t, s)
	err := VerifyDir(Config{Dir: dir}, nil, func(Check) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "index in use") || !strings.Contains(err.Error(), "callvault verify") {
		t.Errorf("VerifyDir while the store is open: %v", err)
	}
	s.Close()
	got, _ := collect(t, func(fn func(Check) error) error {
		return VerifyDir(Config{Dir: dir, Location: testZone}, nil, fn)
	})
	if len(got) != len(want) || got[0] != want[0] || got[3] != want[3] {
		t.Errorf("VerifyDir = %+v, want %+v", got, want)
	}
	openTest(t, dir) // VerifyDir closed the store
}

func TestVerifyDirCreatesNothing(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "nope")
	if err := VerifyDir(Config{Dir: gone}, nil, func(Check) error { return nil }); err == nil {
		t.Error("VerifyDir of a missing dir: no error")
	}
	if _, err := os.Stat(gone); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("VerifyDir created the data dir: %v", err)
	}
	// A data dir without its key: a new key would read nothing.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "records"), 0o750); err != nil {
		t.Fatal(err)
	}
	err := VerifyDir(Config{Dir: dir}, nil, func(Check) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "key-encryption key") {
		t.Errorf("VerifyDir without a key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "kek")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("VerifyDir created a key: %v", err)
	}
}
