package vault

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWrite measures Write alone: encrypting and appending segments,
// the per-second cost of a live call. 4000 bytes per Write, 1 s of 32 kbps
// audio. A new file every hour of audio keeps the disk use bounded.
func BenchmarkWrite(b *testing.B) {
	s := openTest(b, b.TempDir())
	p := make([]byte, 4000)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	var w *Writer
	defer func() { w.Abort() }()
	i := 0
	for b.Loop() {
		if i%3600 == 0 {
			b.StopTimer()
			if w != nil {
				w.Abort()
			}
			var err error
			if w, err = s.Create(time.Now()); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		i++
		if _, err := w.Write(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteSeal measures a whole 60 s recording (240 KB of audio):
// Create, Write, Seal (fsync, rename, dir fsync, indexed transaction).
func BenchmarkWriteSeal(b *testing.B) {
	s := openTest(b, b.TempDir())
	head, audio := fakeMP3(60 * 4000)
	b.SetBytes(int64(len(audio)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := s.Create(time.Now())
		if err != nil {
			b.Fatal(err)
		}
		for p := audio; len(p) > 0; p = p[160:] {
			w.Write(p[:160]) // 40 ms of audio per Write, as an encoder hands it over
		}
		if _, err := w.Seal(Recording{User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "IN"}, head); err != nil {
			b.Fatal(err)
		}
	}
}

// fillIndex writes n recordings straight into the index in one batch:
// 100 users, 1000 remotes, both directions, one call a minute.
func fillIndex(b *testing.B, s *Store, n int) time.Time {
	return fillIndexWith(b, s, n, true)
}

// fillIndexWith is fillIndex; without trigrams it writes the records and
// their field keys only, as before trigram keys existed.
func fillIndexWith(b *testing.B, s *Store, n int, trigrams bool) time.Time {
	b.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for i := range n {
		rec := Recording{
			ID: formatID(2026000000001 + uint64(i)), Start: base.Add(time.Duration(i) * time.Minute),
			DurationMS: 138000, User: fmt.Sprintf("user%03d", i%100), FullName: "Some Body",
			Extension: fmt.Sprintf("%d", 2000+i%100), Remote: fmt.Sprintf("+1555%04d", i%1000),
			Direction: []string{"IN", "OUT"}[i%2], Status: StatusComplete, Codec: "mp3", Size: 276000,
			File: "records/2026/01/01/x.mp3.enc",
		}
		val, _ := json.Marshal(rec)
		if err := wb.Set(recordKey(rec.ID), val); err != nil {
			b.Fatal(err)
		}
		keys, vals := indexEntries(rec)
		if !trigrams {
			keys = keys[:5]
		}
		for i, k := range keys {
			if err := wb.Set(k, vals[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	return base
}

// BenchmarkSearch runs typical console queries over 10,000 recordings.
func BenchmarkSearch(b *testing.B) {
	s := openTest(b, b.TempDir())
	base := fillIndex(b, s, 10_000)
	for _, bc := range []struct {
		name string
		q    Query
		want int
	}{
		{"newest100", Query{}, 100},
		{"user100", Query{User: "user042"}, 100},
		{"user_range", Query{User: "user042", From: base.Add(24 * time.Hour), To: base.Add(48 * time.Hour)}, 15},
		{"remote_rare", Query{Remote: "+15550042"}, 10},
		{"remote_partial", Query{Remote: "0042"}, 10},
		{"remote_partial_miss", Query{Remote: "99999"}, 0},
		{"direction_and_user", Query{Direction: "OUT", User: "user043"}, 100},
		{"ext_and_direction_miss", Query{Extension: "2042", Direction: "OUT"}, 0},
		{"range_1h", Query{From: base.Add(100 * time.Hour), To: base.Add(101 * time.Hour)}, 61},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				recs, err := s.Search(bc.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) != bc.want {
					b.Fatalf("%d results, want %d", len(recs), bc.want)
				}
			}
		})
	}
}

// BenchmarkWriteSealParallel seals 20 s recordings from 32 goroutines, as
// many calls hang up at once: fsyncs of files, dirs and Badger overlap.
func BenchmarkWriteSealParallel(b *testing.B) {
	s := openTest(b, b.TempDir())
	head, audio := fakeMP3(20 * 4000)
	b.SetBytes(int64(len(audio)))
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w, err := s.Create(time.Now())
			if err != nil {
				b.Fatal(err)
			}
			w.Write(audio)
			if _, err := w.Seal(Recording{User: "john_doe", Extension: "2501", Direction: "OUT"}, head); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkExport measures the export of a one-hour recording (14.4 MB of
// 32 kbps audio): the whole file authenticated and hashed first, then
// decrypted again to the writer.
func BenchmarkExport(b *testing.B) {
	s := openTest(b, b.TempDir())
	head, audio := fakeMP3(3600 * 4000)
	rec := record(b, s, Recording{User: "bench"}, head, audio)
	b.SetBytes(int64(len(audio)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Export(rec.ID, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch1M runs console queries, 50 a page, over 1,000,000
// recordings (one a minute for 694 days, fillIndex's mix), each query with
// a partial remote also as the scan that serves until the trigram keys are
// complete (…/scan). Filling the index takes about two minutes; run it
// alone:
//
//	go test ./vault -run '^$' -bench Search1M -benchtime 20x
func BenchmarkSearch1M(b *testing.B) {
	const n = 1_000_000
	s := openTest(b, b.TempDir())
	start := time.Now()
	base := fillIndex(b, s, n)
	b.Logf("filled %d recordings in %v, index %d MiB", n, time.Since(start).Round(time.Second), dirSize(b, s.indexDir())>>20)
	mid := base.Add(n / 2 * time.Minute)
	day := Query{From: mid, To: mid.Add(24*time.Hour - time.Nanosecond)}
	for _, bc := range []struct {
		name string
		q    Query
	}{
		{"newest50", Query{Limit: 50}},
		{"user50", Query{User: "user042", Limit: 50}},
		{"ext_direction50", Query{Extension: "2042", Direction: "IN", Limit: 50}},
		{"day_middle50", Query{From: day.From, To: day.To, Limit: 50}},
		{"page_middle50", Query{After: Position{Start: mid, ID: "~"}, Limit: 50}},
		{"user_day_middle50", Query{User: "user042", From: day.From, To: day.To, Limit: 50}},
		{"min_duration_day_miss", Query{MinDurationMS: 200_000, From: day.From, To: day.To, Limit: 50}},
		// Partial remote: the trigram lists.
		{"remote_partial50", Query{Remote: "0042", Limit: 50}},
		{"remote_partial_day_middle50", Query{Remote: "0042", From: day.From, To: day.To, Limit: 50}},
		{"remote_partial_day_miss", Query{Remote: "99999", From: day.From, To: day.To, Limit: 50}},
		{"remote_partial_miss_all", Query{Remote: "99999", Limit: 50}},
		{"remote_3digits50", Query{Remote: "042", Limit: 50}},
		{"remote_whole_number50", Query{Remote: "+1 555 0042", Limit: 50}},
		{"remote_partial_page_middle50", Query{Remote: "0042", After: Position{Start: mid, ID: "~"}, Limit: 50}},
		{"remote_partial_user50", Query{Remote: "0042", User: "user042", Limit: 50}},
		{"remote_partial_user_miss", Query{Remote: "0042", User: "user043", Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchSearch(b, s, bc.q, true) })
		if RemoteDigits(bc.q.Remote) != "" {
			b.Run(bc.name+"/scan", func(b *testing.B) { benchSearch(b, s, bc.q, false) })
		}
	}
}

// benchSearch runs q, with or without the trigram lists, and reports the
// results of the last run.
func benchSearch(b *testing.B, s *Store, q Query, trigrams bool) {
	b.ReportAllocs()
	var got int
	for b.Loop() {
		recs, err := s.search(q, trigrams)
		if err != nil {
			b.Fatal(err)
		}
		got = len(recs)
	}
	b.ReportMetric(float64(got), "results")
}

// BenchmarkTrigramBackfill1M measures the backfill of the trigram keys of
// 1,000,000 recordings written without them (fillIndex's mix), from Open
// to the marker, with nothing else writing. Run it alone, once:
//
//	go test ./vault -run '^$' -bench TrigramBackfill1M -benchtime 1x
func BenchmarkTrigramBackfill1M(b *testing.B) {
	const n = 1_000_000
	dir := b.TempDir()
	s := openTest(b, dir)
	fillIndexWith(b, s, n, false)
	b.Logf("index without trigram keys: %d MiB", dirSize(b, s.indexDir())>>20)
	for b.Loop() {
		b.StopTimer()
		dropTrigrams(b, s)
		s.Close()
		b.StartTimer()
		s = openTest(b, dir)
		s.waitTrigrams()
		b.StopTimer()
		if !hasMeta(b, s, trigramMarker) {
			b.Fatal("backfill did not complete")
		}
		b.StartTimer()
	}
	b.Logf("index with trigram keys: %d MiB", dirSize(b, s.indexDir())>>20)
}

// dirSize is the size in bytes of the files under dir.
func dirSize(b *testing.B, dir string) int64 {
	b.Helper()
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			size += fi.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return size
}
