package vault

// The index on a full disk.
//
// Badger writes through mmap: its memtable logs (*.mem, created sparse by
// ftruncate at twice the memtable size), its DISCARD file and every new
// table. A store into a mapped page with no disk block behind it, on a file
// system with no free block left, is not an error Badger can return: the
// kernel sends SIGBUS and the process dies. (The value log is mapped too,
// but stays empty: every value is below valueThreshold.) Three measures
// keep the index clear of that:
//
//   - Preallocate gives every *.mem and DISCARD file its disk blocks, at
//     Open, after the index write that starts a new memtable and from the
//     daemon's disk monitor, so memtable writes land on allocated blocks.
//   - An index write starts only with indexHeadroom bytes free (room for a
//     new memtable log and the table its predecessor flushes to). Below
//     that it releases the reserve, and if that is not enough it fails with
//     ENOSPC: the sealed file stays on disk, unindexed, and IndexUnindexed
//     indexes it once there is room. Open releases the reserve too when
//     the disk is that full, before Badger replays and flushes.
//   - The reserve, <Dir>/index.reserve, holds IndexReserve bytes of disk
//     blocks that ReleaseReserve hands back to Badger for its flushes and
//     compactions when the disk fills (the daemon's monitor does, below
//     its floor).
//
// What remains is in Preallocate's doc comment.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// DefaultIndexReserve is the size of the index reserve when
	// Config.IndexReserve is 0: 64 MiB, several memtable flushes and a
	// compaction of the small tables this index writes.
	DefaultIndexReserve = 64 << 20

	// indexHeadroom is the free space an index write requires: a new
	// memtable log (2 x memTableSize, allocated by Preallocate), the table
	// the full memtable flushes to (at most memTableSize) and as much to
	// spare.
	indexHeadroom = 4 * memTableSize

	reserveName = "index.reserve"
)

// Space returns the bytes available for recordings and the size of the
// file system holding the data dir. The index reserve always counts as
// used: while it is held statfs sees it so, and once released (its blocks
// handed to the index on a nearly full disk) its size is still taken off,
// so that releasing it never looks like space returning.
func (s *Store) Space() (free, total uint64, err error) {
	free, total, err = s.statfs(s.dir)
	if err != nil || s.reserveSize <= 0 {
		return free, total, err
	}
	if _, serr := os.Stat(s.reserve); errors.Is(serr, fs.ErrNotExist) {
		free -= min(free, uint64(s.reserveSize))
	}
	return free, total, nil
}

// statfs is Store.statfs outside tests.
func statfs(path string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	unit := uint64(st.Frsize) // the unit of the block counts
	if unit == 0 {
		unit = uint64(st.Bsize)
	}
	return st.Bavail * unit, st.Blocks * unit, nil
}

// ReleaseReserve deletes the index reserve, giving its blocks to Badger on
// a nearly full disk. It reports whether there was a reserve to release.
func (s *Store) ReleaseReserve() (bool, error) {
	s.reserveMu.Lock()
	defer s.reserveMu.Unlock()
	err := os.Remove(s.reserve)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("release index reserve: %w", err)
	}
	return true, nil
}

// RestoreReserve (re)creates the index reserve with its blocks allocated.
// It does nothing when the reserve is in place or none is configured, and
// fails, taking nothing, unless the reserve and indexHeadroom both fit in
// the free space.
func (s *Store) RestoreReserve() error {
	if s.reserveSize <= 0 {
		return nil
	}
	s.reserveMu.Lock()
	defer s.reserveMu.Unlock()
	if fi, err := os.Stat(s.reserve); err == nil && fi.Size() >= s.reserveSize {
		return nil
	}
	free, _, err := s.statfs(s.dir)
	if err != nil {
		return fmt.Errorf("restore index reserve: %w", err)
	}
	if need := uint64(s.reserveSize) + indexHeadroom; free < need {
		return fmt.Errorf("restore index reserve: %d bytes free, need %d (reserve %d + index headroom %d): %w",
			free, need, s.reserveSize, indexHeadroom, syscall.ENOSPC)
	}
	f, err := os.OpenFile(s.reserve, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("restore index reserve: %w", err)
	}
	err = allocate(f, s.reserveSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.reserve)
		return fmt.Errorf("restore index reserve %s: %w", s.reserve, err)
	}
	return nil
}

// allocate gives the empty file f disk blocks for size bytes. Where the
// file system cannot fallocate it writes zeros instead.
func allocate(f *os.File, size int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if !errors.Is(err, unix.EOPNOTSUPP) {
		return err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off); err != nil {
			return err
		}
	}
	return nil
}

// Preallocate backs every memtable log (*.mem) and the DISCARD file in the
// index dir with disk blocks up to its current size (fallocate with
// FALLOC_FL_KEEP_SIZE: contents and size unchanged, so a file Badger
// shrinks meanwhile is never grown back), so Badger's writes through mmap
// cannot fault for want of a block. Files already fully allocated cost one
// fstat. The daemon calls it every second; the store calls it after Open
// and after an index write that made Badger start a new memtable.
//
// The residual risk: Badger writes new tables through mmap when it flushes
// a memtable or compacts, in the background. If something outside
// callvault takes the last free blocks after an index write checked for
// indexHeadroom and before that work is done (and before the daemon's next
// check releases the reserve), a mapped write can still fault.
func (s *Store) Preallocate() error {
	ents, err := os.ReadDir(s.indexDir())
	if err != nil {
		return fmt.Errorf("preallocate index files: %w", err)
	}
	var errs []error
	last := -1
	for _, e := range ents {
		name := e.Name()
		if fid, ok := strings.CutSuffix(name, ".mem"); ok {
			if n, err := strconv.Atoi(fid); err == nil {
				last = max(last, n)
			}
		} else if name != "DISCARD" {
			continue
		}
		if err := preallocateFile(filepath.Join(s.indexDir(), name)); err != nil {
			errs = append(errs, err)
		}
	}
	if last >= 0 {
		s.memMu.Lock()
		// Badger numbers memtable logs in sequence (its nextMemFid).
		s.nextMem = filepath.Join(s.indexDir(), fmt.Sprintf("%05d.mem", last+1))
		s.memMu.Unlock()
	}
	return errors.Join(errs...)
}

// preallocateFile allocates the blocks of one file Badger maps; a file
// Badger deleted meanwhile is not an error.
func preallocateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("preallocate: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("preallocate %s: %w", path, err)
	}
	if st.Blocks*512 >= st.Size {
		return nil
	}
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, st.Size); err != nil {
		return fmt.Errorf("preallocate %s (%d bytes): %w", path, st.Size, err)
	}
	return nil
}

// preallocate is Preallocate for the store's own calls: failures are
// logged, and a file system that cannot fallocate is reported once.
func (s *Store) preallocate() {
	if s.noPrealloc.Load() {
		return
	}
	err := s.Preallocate()
	switch {
	case errors.Is(err, unix.EOPNOTSUPP):
		s.noPrealloc.Store(true)
		s.log.Warn("the data dir's file system cannot preallocate: the index may fault if the disk fills", "err", err)
	case err != nil:
		s.log.Warn("preallocate index files", "err", err)
	}
}

// preallocateNew runs preallocate when Badger has started the memtable
// log that follows the newest one Preallocate saw: after an index write
// that costs one lstat, and the directory is listed only when a memtable
// was started (every few hundred recordings).
func (s *Store) preallocateNew() {
	s.memMu.Lock()
	next := s.nextMem
	s.memMu.Unlock()
	if next == "" {
		return
	}
	if _, err := os.Lstat(next); err == nil {
		s.preallocate()
	}
}

// makeIndexRoom ensures indexHeadroom bytes are free before Badger writes,
// releasing the reserve if need be. The error wraps syscall.ENOSPC when
// there is still too little room.
func (s *Store) makeIndexRoom() error {
	free, _, err := s.statfs(s.dir)
	if err != nil {
		return err
	}
	if free >= indexHeadroom {
		return nil
	}
	released, err := s.ReleaseReserve()
	if err != nil {
		return err
	}
	if released {
		s.log.Warn("disk nearly full: index reserve released", "free", free, "need", indexHeadroom)
		if free, _, err = s.statfs(s.dir); err != nil {
			return err
		}
		if free >= indexHeadroom {
			return nil
		}
	}
	return fmt.Errorf("disk full: %d bytes free, the index needs %d: %w", free, indexHeadroom, syscall.ENOSPC)
}
