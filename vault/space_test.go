package vault

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// allocated returns the size and the allocated bytes of the file at path.
func allocated(t testing.TB, path string) (size, blocks int64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatalf("stat: %v", err)
	}
	return st.Size, st.Blocks * 512
}

func openReserve(t testing.TB, dir string, reserve int64) *Store {
	t.Helper()
	s, err := Open(Config{Dir: dir, Location: testZone, IndexReserve: reserve}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fakeFree makes the store's file system report free bytes: freeWith while
// the reserve file exists, freeWithout once it is gone.
func fakeFree(s *Store, freeWith, freeWithout uint64) {
	s.statfs = func(string) (uint64, uint64, error) {
		if _, err := os.Stat(s.reserve); err == nil {
			return freeWith, 1 << 40, nil
		}
		return freeWithout, 1 << 40, nil
	}
}

func TestSpace(t *testing.T) {
	s := openTest(t, t.TempDir())
	free, total, err := s.Space()
	if err != nil || total == 0 || free > total {
		t.Errorf("Space = %d, %d, %v", free, total, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(s.Dir(), &st); err != nil {
		t.Fatal(err)
	}
	if want := st.Blocks * uint64(st.Frsize); total != want {
		t.Errorf("total %d, want %d", total, want)
	}
}

func TestReserve(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 20
	s := openReserve(t, dir, size)
	path := filepath.Join(dir, "index.reserve")
	if n, blocks := allocated(t, path); n != size || blocks < size {
		t.Fatalf("reserve: size %d, allocated %d; want %d allocated", n, blocks, size)
	}
	if err := s.RestoreReserve(); err != nil {
		t.Errorf("RestoreReserve with the reserve in place: %v", err)
	}
	if released, err := s.ReleaseReserve(); !released || err != nil {
		t.Errorf("ReleaseReserve = %v, %v", released, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reserve still there: %v", err)
	}
	if released, err := s.ReleaseReserve(); released || err != nil {
		t.Errorf("second ReleaseReserve = %v, %v", released, err)
	}
	if err := s.RestoreReserve(); err != nil {
		t.Fatalf("RestoreReserve: %v", err)
	}
	if n, blocks := allocated(t, path); n != size || blocks < size {
		t.Errorf("restored reserve: size %d, allocated %d", n, blocks)
	}
}

func TestReserveDefaultAndNone(t *testing.T) {
	dir := t.TempDir()
	s := openReserve(t, dir, 0)
	if n, _ := allocated(t, filepath.Join(dir, "index.reserve")); n != DefaultIndexReserve {
		t.Errorf("default reserve %d bytes, want %d", n, DefaultIndexReserve)
	}
	s.Close()
	// No reserve configured: a reserve left from before is given back.
	openReserve(t, dir, -1)
	if _, err := os.Stat(filepath.Join(dir, "index.reserve")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reserve kept with none configured: %v", err)
	}
}

func TestRestoreReserveNeedsRoom(t *testing.T) {
	s := openReserve(t, t.TempDir(), 1<<20)
	if _, err := s.ReleaseReserve(); err != nil {
		t.Fatal(err)
	}
	fakeFree(s, 0, 1<<20+indexHeadroom-1)
	if err := s.RestoreReserve(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("RestoreReserve short of room: %v, want ENOSPC", err)
	}
	if _, err := os.Stat(s.reserve); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a reserve was taken without room: %v", err)
	}
	fakeFree(s, 0, 1<<20+indexHeadroom)
	if err := s.RestoreReserve(); err != nil {
		t.Errorf("RestoreReserve with just enough room: %v", err)
	}
}

func TestIndexReleasesReserveWhenLow(t *testing.T) {
	s := openReserve(t, t.TempDir(), 1<<20)
	fakeFree(s, indexHeadroom-1, indexHeadroom)
	rec := Recording{ID: "2026000000001", Start: time.Unix(1e9, 0).UTC()}
	if err := s.index(rec); err != nil {
		t.Fatalf("index on a nearly full disk: %v", err)
	}
	if _, err := os.Stat(s.reserve); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reserve not released: %v", err)
	}
	if _, err := s.Get(rec.ID); err != nil {
		t.Errorf("Get: %v", err)
	}
}

func TestIndexRefusesFullDisk(t *testing.T) {
	s := openReserve(t, t.TempDir(), 1<<20)
	fakeFree(s, 4096, indexHeadroom-1)
	head, audio := fakeMP3(5000)
	w, err := s.Create(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(audio)
	rec, err := w.Seal(Recording{User: "full"}, head)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Seal with no room for the index: %v, want ENOSPC", err)
	}
	if _, err := s.Get(rec.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("indexed without room: %v", err)
	}
	// With room again the sealed file is found and indexed.
	s.statfs = statfs
	done, errs := s.IndexUnindexed()
	if len(done) != 1 || done[0].ID != rec.ID || len(errs) != 0 {
		t.Errorf("IndexUnindexed = %+v, %v", done, errs)
	}
}

func TestPreallocate(t *testing.T) {
	s := openTest(t, t.TempDir())
	mapped, _ := filepath.Glob(filepath.Join(s.Dir(), "index", "*.mem"))
	mapped = append(mapped, filepath.Join(s.Dir(), "index", "DISCARD"))
	for _, p := range mapped {
		if n, blocks := allocated(t, p); n == 0 || blocks < n {
			t.Errorf("%s after Open: size %d, allocated %d", filepath.Base(p), n, blocks)
		}
	}
	// A sparse memtable log with data in it, as Badger leaves a new one.
	sparse := filepath.Join(s.Dir(), "index", "99999.mem")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("memtable entry")
	if err := f.Truncate(1 << 20); err == nil {
		_, err = f.WriteAt(data, 4096)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, blocks := allocated(t, sparse); blocks >= 1<<20 {
		t.Fatalf("the test file is not sparse (%d bytes allocated)", blocks)
	}
	if err := s.Preallocate(); err != nil {
		t.Fatalf("Preallocate: %v", err)
	}
	if n, blocks := allocated(t, sparse); n != 1<<20 || blocks < n {
		t.Errorf("after Preallocate: size %d, allocated %d", n, blocks)
	}
	if got := readFile(t, sparse); !bytes.Equal(got[4096:4096+len(data)], data) || !bytes.Equal(got[:4096], make([]byte, 4096)) {
		t.Error("Preallocate changed the contents")
	}
	if err := os.Remove(sparse); err != nil {
		t.Fatal(err)
	}
}

func TestNewMemtableAllocatedByTheWriteThatStartsIt(t *testing.T) {
	s := openTest(t, t.TempDir())
	mems := func() []string {
		m, _ := filepath.Glob(filepath.Join(s.Dir(), "index", "*.mem"))
		return m
	}
	first := mems()
	big := strings.Repeat("x", 4000)
	for i := range 2 * memTableSize / len(big) {
		rec := Recording{ID: formatID(2026000000001 + uint64(i)), Start: time.Unix(int64(i), 0).UTC(), FullName: big}
		if err := s.index(rec); err != nil {
			t.Fatal(err)
		}
		now := mems()
		if slices.Equal(now, first) {
			continue
		}
		for _, p := range now {
			if n, blocks := allocated(t, p); blocks < n {
				t.Errorf("after the write that started %s: %s has %d of %d bytes allocated", filepath.Base(now[len(now)-1]), filepath.Base(p), blocks, n)
			}
		}
		return
	}
	t.Fatalf("no new memtable after %d bytes of records", 2*memTableSize)
}

// fill writes to a file in dir until the file system is full.
func fill(t *testing.T, dir, name string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for _, chunk := range []int{64 << 10, 4 << 10} {
		for {
			if _, err := f.Write(buf[:chunk]); errors.Is(err, syscall.ENOSPC) {
				break
			} else if err != nil {
				t.Fatalf("fill: %v", err)
			}
		}
	}
}

// TestFullDisk runs the store on a real, small file system (a tmpfs) and
// fills it: nothing may fault, indexing makes room with the reserve, then
// fails cleanly, and the daemon's moves (release, restore) work.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=128m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): the full-disk test needs root", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	const reserve = 32 << 20
	s := openReserve(t, dir, reserve)
	free0, total, err := s.Space()
	if err != nil || total != 128<<20 || free0 > total-reserve {
		t.Fatalf("Space = %d free of %d, %v; want 128 MiB with the reserve taken", free0, total, err)
	}
	head, audio := fakeMP3(20_000)
	first := record(t, s, Recording{User: "before"}, head, audio)

	fill(t, dir, "filler1")
	if free, _, _ := s.Space(); free >= 64<<10 {
		t.Fatalf("filled, %d bytes still free", free)
	}
	// The index makes its own room from the reserve.
	rec := Recording{ID: "2026000000900", Start: time.Now().UTC(), User: "full"}
	if err := s.index(rec); err != nil {
		t.Fatalf("index on a full disk with a reserve: %v", err)
	}
	if released, _ := s.ReleaseReserve(); released {
		t.Error("the index wrote on a full disk without releasing the reserve")
	}
	// No reserve left: the index refuses rather than fault.
	fill(t, dir, "filler2")
	rec.ID = "2026000000901"
	if err := s.index(rec); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("index on a full disk without a reserve: %v, want ENOSPC", err)
	}
	if err := s.RestoreReserve(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("RestoreReserve on a full disk: %v, want ENOSPC", err)
	}

	// The daemon's moves: space returns, the reserve is taken back; the
	// disk fills; the monitor releases the reserve; calls are sealed.
	for _, f := range []string{"filler1", "filler2"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RestoreReserve(); err != nil {
		t.Fatalf("RestoreReserve: %v", err)
	}
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(audio[:10_000])
	fill(t, dir, "filler3")
	free, _, _ := s.Space()
	raw, _, _ := s.statfs(dir)
	if released, err := s.ReleaseReserve(); !released || err != nil {
		t.Fatalf("ReleaseReserve = %v, %v", released, err)
	}
	if after, _, _ := s.statfs(dir); after < raw+reserve {
		t.Errorf("releasing the reserve freed %d bytes, want %d", after-raw, reserve)
	}
	// For recordings the released reserve is still taken: releasing it
	// must not look like space returning.
	if after, _, _ := s.Space(); after > free {
		t.Errorf("Space after the release = %d, before %d: the released reserve counts as free", after, free)
	}
	w.Write(audio[10_000:])
	last, err := w.Seal(Recording{User: "sealed-on-full-disk"}, head)
	if err != nil {
		t.Fatalf("Seal after the reserve was released: %v", err)
	}
	for _, r := range []Recording{first, last} {
		if c, err := s.Verify(r.ID); err != nil || c.Status != CheckIntact {
			t.Errorf("Verify %s = %+v, %v", r.ID, c, err)
		}
	}

	// Reopened on a full disk with its reserve: Open gives the reserve to
	// the index before Badger writes.
	if err := os.Remove(filepath.Join(dir, "filler3")); err != nil {
		t.Fatal(err)
	}
	if err := s.RestoreReserve(); err != nil {
		t.Fatalf("RestoreReserve: %v", err)
	}
	s.Close()
	fill(t, dir, "filler4")
	s = openReserve(t, dir, reserve)
	if _, err := os.Stat(s.reserve); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open on a full disk kept the reserve: %v", err)
	}
	rec.ID = "2026000000902"
	if err := s.index(rec); err != nil {
		t.Errorf("index after reopening on a full disk: %v", err)
	}
	if got, err := exportBytes(s, last.ID); err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio...)) {
		t.Errorf("Export after reopening: %v", err)
	}
}
