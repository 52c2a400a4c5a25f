package vault

import (
	"os"
	"testing"
	"time"
)

func TestUsageOf(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, testZone)
	day := func(back int) string { return dayDir(now.AddDate(0, 0, -back), testZone) }
	for _, tc := range []struct {
		name string
		days map[string]dayUsage
		want Usage
	}{
		{"empty", nil, Usage{}},
		{"only today: today so far", map[string]dayUsage{day(0): {2, 300}},
			Usage{Files: 2, Bytes: 300, TodayBytes: 300, GrowthBytesPerDay: 300}},
		{"two full days since the first", map[string]dayUsage{day(2): {1, 100}, day(1): {3, 500}, day(0): {1, 50}},
			Usage{Files: 5, Bytes: 650, TodayBytes: 50, GrowthBytesPerDay: 300, GrowthDays: 2}},
		{"a quiet day counts as a day", map[string]dayUsage{day(3): {1, 900}, day(1): {0, 0}},
			Usage{Files: 1, Bytes: 900, GrowthBytesPerDay: 300, GrowthDays: 3}},
		{"a week at most", map[string]dayUsage{day(30): {10, 7000}, day(8): {1, 7000}, day(7): {1, 700}, day(2): {1, 700}},
			Usage{Files: 13, Bytes: 15400, GrowthBytesPerDay: 200, GrowthDays: GrowthWindow}},
	} {
		if got := usageOf(tc.days, now); got != tc.want {
			t.Errorf("%s: usage %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestUsageCountsEachFileOnce: a scan counts what is on disk, a seal after
// it adds its file, and a second scan gives the same figures.
func TestUsageCountsEachFileOnce(t *testing.T) {
	s := openTest(t, t.TempDir())
	now := time.Now()
	if _, ok := s.Usage(now); ok {
		t.Fatal("usage known before any scan")
	}
	head, audio := fakeMP3(4000)
	old := record(t, s, Recording{Start: now.AddDate(0, 0, -1), User: "alice"}, head, audio)
	if err := s.ScanUsage(); err != nil {
		t.Fatal(err)
	}
	u, ok := s.Usage(now)
	if !ok || u.Files != 1 || u.Bytes != fileSize(t, s, old) || u.GrowthDays != 1 || u.GrowthBytesPerDay != u.Bytes {
		t.Fatalf("after the scan: %+v %v, want one file of %d bytes, yesterday's growth", u, ok, fileSize(t, s, old))
	}
	fresh := record(t, s, Recording{Start: now, User: "bob"}, head, audio)
	u, _ = s.Usage(now)
	want := fileSize(t, s, old) + fileSize(t, s, fresh)
	if u.Files != 2 || u.Bytes != want || u.TodayBytes != fileSize(t, s, fresh) {
		t.Fatalf("after a seal: %+v, want 2 files of %d bytes", u, want)
	}
	if err := s.ScanUsage(); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Usage(now); again != u {
		t.Fatalf("a second scan: %+v, want %+v", again, u)
	}
}

func fileSize(t *testing.T, s *Store, rec Recording) int64 {
	t.Helper()
	fi, err := os.Stat(s.Path(rec))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != rec.Size {
		t.Fatalf("%s: %d bytes on disk, the index says %d", rec.ID, fi.Size(), rec.Size)
	}
	return fi.Size()
}
