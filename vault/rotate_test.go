package vault

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// errCrash stands for a crash at a step of a rotation or a rewrap.
var errCrash = errors.New("crash (test)")

// crashAt makes the store's next rotation or rewrap stop at step, once.
func crashAt(s *Store, step string) {
	var once sync.Once
	s.kek.fail = func(name string) error {
		err := error(nil)
		if name == step {
			once.Do(func() { err = errCrash })
		}
		return err
	}
}

// reopen closes s as a crash would and opens its data dir again.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	if err := s.closeAsCrash(); err != nil {
		t.Fatal(err)
	}
	return openTest(t, s.Dir())
}

// kekOf returns the KEK id in the header of rec's file.
func kekOf(t *testing.T, s *Store, rec Recording) string {
	t.Helper()
	id, ok := fileKEK(s.Path(rec))
	if !ok {
		t.Fatalf("no header in %s", s.Path(rec))
	}
	return id
}

// wantExports checks that every recording exports as recorded.
func wantExports(t *testing.T, s *Store, want []byte, recs ...Recording) {
	t.Helper()
	for _, rec := range recs {
		if got, err := exportBytes(s, rec.ID); err != nil || !bytes.Equal(got, want) {
			t.Errorf("export %s: %d bytes, %v; want the %d recorded", rec.ID, len(got), err, len(want))
		}
	}
}

// wantAllIntact checks that VerifyAll finds every file intact.
func wantAllIntact(t *testing.T, s *Store, n int) {
	t.Helper()
	var checks []Check
	if err := s.VerifyAll(func(c Check) error { checks = append(checks, c); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Status != CheckIntact {
			t.Errorf("verify %s: %s: %s", c.ID, c.Status, c.Detail)
		}
	}
	if len(checks) != n {
		t.Errorf("verify checked %d recordings, want %d", len(checks), n)
	}
}

// auditOf returns the audit entries with action.
func auditOf(t *testing.T, s *Store, action string) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	err := s.AuditEntries(AuditQuery{}, func(e AuditEntry) error {
		if e.Action == action {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rotate rotates s's KEK and fails the test on error.
func rotate(t *testing.T, s *Store) (oldID, newID string) {
	t.Helper()
	oldID, newID, err := s.RotateKEK("", 0)
	if err != nil {
		t.Fatalf("RotateKEK: %v", err)
	}
	return oldID, newID
}

// rewrap runs Rewrap and fails the test on error; it returns the report
// and the errors reported per file.
func rewrap(t *testing.T, s *Store) (RewrapReport, []error) {
	t.Helper()
	var errs []error
	rep, err := s.Rewrap(func(id string, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	})
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	return rep, errs
}

func TestRotateKEK(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(9000)
	want := append(head, audio...)
	a := record(t, s, Recording{User: "alice"}, head, audio)

	oldID, newID, err := s.RotateKEK("alice", 1001)
	if err != nil {
		t.Fatal(err)
	}
	if oldID == newID || s.KEKID() != newID || metaKEK(t, s) != newID || kekOf(t, s, a) != oldID {
		t.Fatalf("rotated %s -> %s, store at %s, old file under %s", oldID, newID, s.KEKID(), kekOf(t, s, a))
	}
	b := record(t, s, Recording{User: "bob"}, head, audio)
	if kekOf(t, s, b) != newID {
		t.Errorf("new recording under %s, want the new KEK %s", kekOf(t, s, b), newID)
	}
	wantExports(t, s, want, a, b)

	keys := filepath.Join(dir, "keys")
	for path, mode := range map[string]fs.FileMode{keys: 0o700, filepath.Join(keys, "kek"): 0o600, filepath.Join(keys, "kek-"+oldID): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, want mode %v", path, err, mode)
		}
	}
	if got := auditOf(t, s, AuditKeyRotated); len(got) != 1 || got[0].Actor != "alice" || got[0].UID != 1001 ||
		got[0].Detail != fmt.Sprintf("kek %s -> %s", oldID, newID) {
		t.Errorf("audit: %+v, want one key.rotated by alice naming both ids", got)
	}

	// Reopened: the old KEK is read from keys/kek-<id>; the index names
	// the new one.
	s.Close()
	s = openTest(t, dir)
	if s.KEKID() != newID {
		t.Errorf("reopened under %s, want %s", s.KEKID(), newID)
	}
	wantExports(t, s, want, a, b)
	wantAllIntact(t, s, 2)
}

func TestRewrapThenRetire(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(20000)
	want := append(head, audio...)
	a := record(t, s, Recording{User: "alice"}, head, audio)
	copied := Copy{Target: "nas", State: CopyCopied, Key: "x/" + a.ID, SHA256: a.SHA256}
	evictAt := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.SetCopy(a.ID, copied, func(Recording) (bool, time.Time) { return true, evictAt }); err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(time.Time{}) // a .part left by a crash
	if err != nil {
		t.Fatal(err)
	}
	w.Write(audio)
	part := w.partPath
	w.Close()
	oldID, newID := rotate(t, s)
	b := record(t, s, Recording{User: "bob"}, head, audio)

	rep, errs := rewrap(t, s)
	if len(errs) != 0 || rep.Rewrapped != 2 || rep.Skipped != 1 || rep.Failed != 0 || rep.Current != newID ||
		!slices.Equal(rep.InUse, []string{newID}) || !slices.Equal(rep.Retirable, []string{oldID}) {
		t.Fatalf("rewrap: %+v %v; want the sealed file and the .part rewrapped, the new one skipped, %s retirable", rep, errs, oldID)
	}
	if id, _ := fileKEK(part); id != newID || kekOf(t, s, a) != newID {
		t.Errorf("after rewrap: .part under %s, %s under %s; want %s", id, a.ID, kekOf(t, s, a), newID)
	}
	rec, _ := s.Get(a.ID)
	if sum, _ := fileSHA256(s.Path(a)); rec.SHA256 == a.SHA256 || rec.SHA256 != sum {
		t.Errorf("index SHA-256 %s, file %s, before %s: want the file's new one", rec.SHA256, sum, a.SHA256)
	}
	if q, _ := s.CopyQueue("", 10); len(q) != 1 || q[0].ID != a.ID {
		t.Errorf("copy queue %v, want %s (its copy holds the old bytes)", recIDs(q), a.ID)
	}
	if due, _ := s.DueEvictions(evictAt.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("due for eviction after the rewrap: %v; want none until copied again", recIDs(due))
	}
	wantExports(t, s, want, a, b)
	wantAllIntact(t, s, 2)
	if got, err := s.RetirableKEKs(); err != nil || !slices.Equal(got, []string{oldID}) {
		t.Errorf("RetirableKEKs = %v, %v", got, err)
	}
	if got := auditOf(t, s, AuditKeyRewrapped); len(got) != 1 || !strings.Contains(got[0].Detail, "rewrapped 2, skipped 1, failed 0") {
		t.Errorf("audit: %+v, want one key.rewrapped with the counts", got)
	}

	// The old key removed: everything still reads after a reopen, and a
	// second rewrap has nothing to do.
	s.Close()
	if err := os.Remove(filepath.Join(dir, "keys", "kek-"+oldID)); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	wantExports(t, s, want, a, b)
	wantAllIntact(t, s, 2)
	if rep, errs := rewrap(t, s); rep.Rewrapped != 0 || rep.Skipped != 3 || len(errs) != 0 || len(rep.Retirable) != 0 {
		t.Errorf("second rewrap: %+v %v", rep, errs)
	}
}

func TestRewrapInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name, step string
		torn       bool // the key block write tore: neither old nor new on disk
	}{
		{"after the intent", "marked", false},
		{"after the write", "written", false},
		{"torn write", "written", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, t.TempDir())
			head, audio := fakeMP3(9000)
			want := append(head, audio...)
			a := record(t, s, Recording{User: "alice"}, head, audio)
			oldID, newID := rotate(t, s)
			crashAt(s, tc.step)
			if rep, errs := rewrap(t, s); rep.Failed != 1 || len(errs) != 1 || !errors.Is(errs[0], errCrash) {
				t.Fatalf("rewrap crashing at %s: %+v %v", tc.step, rep, errs)
			}
			if got, _ := s.RetirableKEKs(); len(got) != 0 {
				t.Errorf("retirable with an intent pending: %v", got)
			}
			if tc.torn {
				f, err := os.OpenFile(s.Path(a), os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt(bytes.Repeat([]byte{0x5a}, 20), 60)
				f.Close()
			}
			s = reopen(t, s)
			rep, errs := rewrap(t, s)
			if len(errs) != 0 || rep.Rewrapped != 1 || rep.Failed != 0 || kekOf(t, s, a) != newID ||
				!slices.Equal(rep.Retirable, []string{oldID}) {
				t.Fatalf("rewrap after the crash: %+v %v; want %s rewrapped once", rep, errs, a.ID)
			}
			wantAllIntact(t, s, 1)
			wantExports(t, s, want, a)
			if in, _ := s.intents(); len(in) != 0 {
				t.Errorf("intents left: %+v", in)
			}
		})
	}
}

func TestRewrapRefusesChangedFile(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(9000)
	a := record(t, s, Recording{}, head, audio)
	oldID, _ := rotate(t, s)
	path := s.Path(a)
	f := readFile(t, path)
	f[len(f)-100] ^= 1
	writeFile(t, path, f)
	rep, errs := rewrap(t, s)
	if rep.Failed != 1 || len(errs) != 1 || !errors.Is(errs[0], ErrCorrupt) || kekOf(t, s, a) != oldID {
		t.Errorf("rewrap of a changed file: %+v %v; want it refused and left under %s", rep, errs, oldID)
	}
	if !bytes.Equal(readFile(t, path), f) {
		t.Errorf("the changed file was written to")
	}
	if len(rep.Retirable) != 0 {
		t.Errorf("retirable %v while a file needs the old key", rep.Retirable)
	}
}

func TestRotateRefusedWithCredential(t *testing.T) {
	dir := t.TempDir()
	cred := writeCredential(t, bytes.Repeat([]byte{0xa5}, 32))
	s, err := Open(Config{Dir: dir, CredentialsDir: cred}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := s.KEKID()
	_, _, err = s.RotateKEK("", 0)
	if !errors.Is(err, ErrCredentialKEK) || !strings.Contains(err.Error(), filepath.Join(dir, "keys", "kek-"+id)) ||
		!strings.Contains(err.Error(), "install a new credential") {
		t.Errorf("RotateKEK with a credential: %v; want ErrCredentialKEK saying to keep the key as keys/kek-%s", err, id)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "keys")); len(entries) != 0 || s.KEKID() != id {
		t.Errorf("keys dir after a refused rotation: %v, KEK %s", entries, s.KEKID())
	}
}

// TestCredentialRotatedByHand follows what the refusal says: the old key
// kept as keys/kek-<id>, a new credential, a restart.
func TestCredentialRotatedByHand(t *testing.T) {
	dir := t.TempDir()
	oldRaw := bytes.Repeat([]byte{0xa5}, 32)
	s, err := Open(Config{Dir: dir, CredentialsDir: writeCredential(t, oldRaw)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	head, audio := fakeMP3(5000)
	a := record(t, s, Recording{}, head, audio)
	oldID := s.KEKID()
	s.Close()

	cred := writeCredential(t, []byte(strings.Repeat("3c", 32)+"\n"))
	if _, err := Open(Config{Dir: dir, CredentialsDir: cred}, nil); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("a new credential without the old key kept: %v, want ErrWrongKey", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "kek-"+oldID), oldRaw, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Config{Dir: dir, CredentialsDir: cred, Location: testZone}, nil)
	if err != nil {
		t.Fatalf("Open with the new credential and the old key kept: %v", err)
	}
	defer s.Close()
	if s.KEKID() == oldID {
		t.Fatalf("still under %s", oldID)
	}
	wantExports(t, s, append(head, audio...), a)
	if got := auditOf(t, s, AuditKeyRotated); len(got) != 1 || !strings.Contains(got[0].Detail, oldID+" -> "+s.KEKID()) {
		t.Errorf("audit: %+v, want the rotation taken at start", got)
	}
	if rep, errs := rewrap(t, s); rep.Rewrapped != 1 || len(errs) != 0 || !slices.Equal(rep.Retirable, []string{oldID}) {
		t.Errorf("rewrap: %+v %v", rep, errs)
	}
}

func TestRotateCrash(t *testing.T) {
	for _, step := range []string{"retired", "replaced"} {
		t.Run(step, func(t *testing.T) {
			s := openTest(t, t.TempDir())
			head, audio := fakeMP3(5000)
			want := append(head, audio...)
			a := record(t, s, Recording{}, head, audio)
			oldID := s.KEKID()
			crashAt(s, step)
			if _, _, err := s.RotateKEK("", 0); !errors.Is(err, errCrash) {
				t.Fatalf("RotateKEK crashing at %s: %v", step, err)
			}
			s = reopen(t, s)
			wantExports(t, s, want, a)
			b := record(t, s, Recording{}, head, audio)
			wantExports(t, s, want, b)
			rotated := s.KEKID() != oldID
			if metaKEK(t, s) != s.KEKID() {
				t.Errorf("meta/kek %s, store under %s", metaKEK(t, s), s.KEKID())
			}
			if rotated != (step == "replaced") {
				t.Errorf("after a crash at %s the store is under %s (old %s)", step, s.KEKID(), oldID)
			}
			if got := auditOf(t, s, AuditKeyRotated); len(got) != map[bool]int{false: 0, true: 1}[rotated] {
				t.Errorf("audit after a crash at %s: %+v", step, got)
			}
			// The rotation can be done (again) from there.
			if _, newID := rotate(t, s); kekOf(t, s, record(t, s, Recording{}, head, audio)) != newID {
				t.Errorf("a rotation after the crash does not take")
			}
			wantExports(t, s, want, a, b)
		})
	}
}

func TestRetiredKeyRemovedTooSoon(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	a := record(t, s, Recording{}, []byte("ID3"), []byte("audio"))
	oldID, _ := rotate(t, s)
	s.Close()
	if err := os.Remove(filepath.Join(dir, "keys", "kek-"+oldID)); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	if _, err := exportBytes(s, a.ID); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "kek-"+oldID) {
		t.Errorf("export under a removed key: %v, want ErrWrongKey naming keys/kek-%s", err, oldID)
	}
}

// TestFreshKeyNeverTaken: a lost keys/kek is not replaced by a new key
// even when the index's key is kept as a retired one.
func TestFreshKeyNeverTaken(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	id := s.KEKID()
	s.Close()
	keys := filepath.Join(dir, "keys")
	if err := os.Rename(filepath.Join(keys, "kek"), filepath.Join(keys, "kek-"+id)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{Dir: dir}, nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open with keys/kek lost: %v, want ErrWrongKey", err)
	}
	if _, err := os.Stat(filepath.Join(keys, "kek")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new keys/kek was left: %v", err)
	}
}

// TestRewrapEvicted: a recording whose file is only on a target keeps
// the KEK it was written under (recorded at the eviction), and only that
// one; one whose KEK the index does not know keeps every retired key.
func TestRewrapEvicted(t *testing.T) {
	s := openTest(t, t.TempDir())
	a := record(t, s, Recording{}, []byte("ID3"), []byte("audio"))
	first := s.KEKID()
	copied := Copy{Target: "nas", State: CopyCopied, Key: "x/" + a.ID, SHA256: a.SHA256}
	if _, err := s.SetCopy(a.ID, copied, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Evict(a.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(a.ID); got.EvictedKEK != first {
		t.Fatalf("evicted under KEK %q, want %s", got.EvictedKEK, first)
	}
	rotate(t, s)
	second := s.KEKID()
	record(t, s, Recording{}, []byte("ID3"), []byte("audio")) // under the second KEK
	rotate(t, s)
	rep, errs := rewrap(t, s)
	if rep.Evicted != 0 || !slices.Contains(rep.InUse, first) || !slices.Equal(rep.Retirable, []string{second}) || len(errs) != 0 {
		t.Errorf("rewrap with an evicted recording: %+v %v; want its KEK %s in use and %s retirable", rep, errs, first, second)
	}
	// Evicted before the index kept the KEK: nothing can be retired.
	rec, _ := s.Get(a.ID)
	rec.EvictedKEK = ""
	if err := s.update("test", func(txn *badger.Txn) error { return setRecordValue(txn, rec) }); err != nil {
		t.Fatal(err)
	}
	rep, errs = rewrap(t, s)
	if rep.Evicted != 1 || len(rep.Retirable) != 0 || len(errs) != 0 {
		t.Errorf("rewrap with an evicted recording of unknown KEK: %+v %v; want it counted and nothing retirable", rep, errs)
	}
}

// TestRotateWhileRecording: Creates and exports running during rotations
// all succeed (run with -race).
func TestRotateWhileRecording(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(5000)
	want := append(head, audio...)
	var wg sync.WaitGroup
	recs := make(chan Recording, 40)
	for range 4 {
		wg.Go(func() {
			for range 10 {
				rec := record(t, s, Recording{}, head, audio)
				if got, err := exportBytes(s, rec.ID); err != nil || !bytes.Equal(got, want) {
					t.Errorf("export %s during a rotation: %v", rec.ID, err)
				}
				recs <- rec
			}
		})
	}
	for range 3 {
		rotate(t, s)
	}
	wg.Wait()
	close(recs)
	for rec := range recs {
		wantExports(t, s, want, rec)
	}
	if rep, errs := rewrap(t, s); len(errs) != 0 || rep.Rewrapped+rep.Skipped != 40 || len(rep.Retirable) != 3 {
		t.Errorf("rewrap: %+v %v; want 40 files and 3 keys retirable", rep, errs)
	}
}

// BenchmarkRewrap: the rewrap of one sealed recording of about 4 minutes
// (1 MiB): hash read, key block write and fsync, two index transactions.
func BenchmarkRewrap(b *testing.B) {
	s := openTest(b, b.TempDir())
	head, audio := fakeMP3(1 << 20)
	const files = 16
	for range files {
		record(b, s, Recording{}, head, audio)
	}
	b.SetBytes(files << 20)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if _, _, err := s.RotateKEK("", 0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := s.Rewrap(nil)
		if err != nil || rep.Rewrapped != files {
			b.Fatalf("rewrap: %+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*files)/1000, "ms/file")
}

// metaKEK reads meta/kek (tests).
func metaKEK(t *testing.T, s *Store) string {
	t.Helper()
	var v []byte
	err := s.view("meta", func(txn *badger.Txn) error {
		item, err := txn.Get([]byte("meta/kek"))
		if err == nil {
			v, err = item.ValueCopy(nil)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}
