package vault

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Usage is what the sealed recordings under records/ take on disk, and how
// fast that grows: the figures behind the console's disk pane and the
// status's disk.usage.
type Usage struct {
	Files int64 // sealed recordings
	Bytes int64 // their size on disk
	// TodayBytes is the size of today's day directory (in the store's
	// location).
	TodayBytes int64
	// GrowthBytesPerDay is the mean size a day of the GrowthDays full days
	// before today (at most GrowthWindow, none before the first day with
	// recordings); when there is no such day, today's size so far.
	GrowthBytesPerDay int64
	GrowthDays        int
}

// GrowthWindow is the number of full days Usage's growth is the mean of.
const GrowthWindow = 7

// usageBook keeps the size of each day directory: counted once by a scan
// (ScanUsage) and then kept by Seal and recovery, which add the files
// they rename into place. Files removed or added behind the daemon's back
// are seen at the next scan.
type usageBook struct {
	mu      sync.Mutex
	scanned bool
	days    map[string]*dayTotal // by day directory, records/YYYY/MM/DD
}

// dayTotal is one day directory's sealed files. Its lock is held across a
// rename into the directory and across the directory's scan, so a file is
// counted by one or the other, never twice.
type dayTotal struct {
	mu    sync.Mutex
	files int64
	bytes int64
}

// day returns the total of a day directory, made on first use.
func (b *usageBook) day(dir string) *dayTotal {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.days == nil {
		b.days = map[string]*dayTotal{}
	}
	d, ok := b.days[dir]
	if !ok {
		d = &dayTotal{}
		b.days[dir] = d
	}
	return d
}

// placed renames a sealed file from src to its place dst (under the data
// dir, relative path rel) and counts its size in its day.
func (b *usageBook) placed(src, dst, rel string, size int64) error {
	d := b.day(path.Dir(rel))
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	d.files++
	d.bytes += size
	return nil
}

// ScanUsage counts the sealed files of every day directory under records/
// afresh. The daemon runs it once in the background at start: with a
// million recordings it stats a million files. Until it has finished,
// Usage reports false.
func (s *Store) ScanUsage() error {
	days, err := s.dayDirs()
	if err != nil {
		return err
	}
	for _, rel := range days {
		if err := s.scanDay(rel); err != nil {
			return err
		}
	}
	s.usage.mu.Lock()
	s.usage.scanned = true
	s.usage.mu.Unlock()
	return nil
}

// scanDay sets a day directory's total from its sealed files.
func (s *Store) scanDay(rel string) error {
	d := s.usage.day(rel)
	d.mu.Lock()
	defer d.mu.Unlock()
	entries, err := os.ReadDir(filepath.Join(s.dir, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		d.files, d.bytes = 0, 0
		return nil
	}
	if err != nil {
		return err
	}
	var files, bytes int64
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), sealedSuffix) {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return err
		}
		files++
		bytes += fi.Size()
	}
	d.files, d.bytes = files, bytes
	return nil
}

// dayDirs lists the day directories records/YYYY/MM/DD, oldest first.
func (s *Store) dayDirs() ([]string, error) {
	var out []string
	root := filepath.Join(s.dir, "records")
	matches, err := filepath.Glob(filepath.Join(root, "[0-9][0-9][0-9][0-9]", "[0-9][0-9]", "[0-9][0-9]"))
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.IsDir() {
			rel, _ := filepath.Rel(s.dir, m)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Usage returns the recordings' use of the disk at now, and false until
// the first ScanUsage has finished.
func (s *Store) Usage(now time.Time) (Usage, bool) {
	b := &s.usage
	b.mu.Lock()
	scanned := b.scanned
	days := make(map[string]dayUsage, len(b.days))
	for dir, d := range b.days {
		d.mu.Lock()
		days[dir] = dayUsage{files: d.files, bytes: d.bytes}
		d.mu.Unlock()
	}
	b.mu.Unlock()
	if !scanned {
		return Usage{}, false
	}
	return usageOf(days, now.In(s.loc)), true
}

// dayUsage is a day directory's count and size.
type dayUsage struct{ files, bytes int64 }

// usageOf sums the days and works out the growth at now (in the store's
// location): the mean of the full days before today, back to the first day
// with recordings, at most GrowthWindow of them.
func usageOf(days map[string]dayUsage, now time.Time) Usage {
	var u Usage
	first := ""
	for dir, d := range days {
		u.Files += d.files
		u.Bytes += d.bytes
		if d.files > 0 && (first == "" || dir < first) {
			first = dir
		}
	}
	today := dayDir(now, now.Location())
	u.TodayBytes = days[today].bytes
	var sum int64
	for i := 1; i <= GrowthWindow; i++ {
		dir := dayDir(now.AddDate(0, 0, -i), now.Location())
		if first == "" || dir < first {
			break
		}
		sum += days[dir].bytes
		u.GrowthDays++
	}
	if u.GrowthDays > 0 {
		u.GrowthBytesPerDay = sum / int64(u.GrowthDays)
	} else {
		u.GrowthBytesPerDay = u.TodayBytes
	}
	return u
}
