package vault

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
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
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for i := range n {
		rec := fillRecording(i)
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
	return fillBase
}

// fillBase is the start of fillIndex's first recording.
var fillBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fillRecording is the i-th recording of fillIndex's mix: user and
// extension i%100, remote i%1000, IN for even i, one a minute from
// fillBase.
func fillRecording(i int) Recording {
	return Recording{
		ID: formatID(2026000000001 + uint64(i)), Start: fillBase.Add(time.Duration(i) * time.Minute),
		DurationMS: 138000, User: fmt.Sprintf("user%03d", i%100), FullName: "Some Body",
		Extension: fmt.Sprintf("%d", 2000+i%100), Remote: fmt.Sprintf("+1555%04d", i%1000),
		Direction: []string{"IN", "OUT"}[i%2], Status: StatusComplete, Codec: "mp3", Size: 276000,
		File: "records/2026/01/01/x.mp3.enc",
	}
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
// recordings (one a minute for 694 days, fillIndex's mix). Filling the
// index takes about two minutes; run it alone:
//
//	go test ./vault -run '^$' -bench Search1M -benchtime 3s -benchmem
//
// The first cases are one per filter the console offers; each run takes
// the next value of its filter (another user, day, number, cursor), so
// the runs read different pages rather than one the block cache keeps.
// The others are fixed queries on a partial remote (the digit-trigram
// lists), each also as the scan that serves until the trigram keys are
// complete (…/scan). Every case but a scan runs at least minLatencyRuns
// times; see benchLatency for what it reports.
func BenchmarkSearch1M(b *testing.B) {
	const n = 1_000_000
	s := openTest(b, b.TempDir())
	start := time.Now()
	fillIndex(b, s, n)
	b.Logf("filled %d recordings in %v, index %d MiB", n, time.Since(start).Round(time.Second), dirSize(b, s.indexDir())>>20)
	for _, bc := range searchFilterCases(n) {
		b.Run(bc.name, func(b *testing.B) { benchLatency(b, s, bc.query, true, minLatencyRuns) })
	}
	mid := fillBase.Add(n / 2 * time.Minute)
	day := Query{From: mid, To: mid.Add(24*time.Hour - time.Nanosecond)}
	for _, bc := range []struct {
		name string
		q    Query
	}{
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
		fixed := func(int) Query { return bc.q }
		b.Run(bc.name, func(b *testing.B) { benchLatency(b, s, fixed, true, minLatencyRuns) })
		b.Run(bc.name+"/scan", func(b *testing.B) { benchLatency(b, s, fixed, false, 0) })
	}
}

// minLatencyRuns is the fewest runs BenchmarkSearch1M's percentiles come
// from.
const minLatencyRuns = 200

// searchCase is a query whose i-th run is query(i).
type searchCase struct {
	name  string
	query func(i int) Query
}

// searchFilterCases are the console's filters, each alone or as the
// console combines them, over n recordings of fillIndex's mix: each fills
// its page of 50 but a user's day (about 14 recordings) and the minimum
// duration (no recording of the mix is that long: every record of the
// day is read). A number, with or
// without its "+1555", goes to the digit-trigram lists; an exact remote
// key serves only remotes without digits ("anonymous"), which the mix has
// none of.
func searchFilterCases(n int) []searchCase {
	const days = 690 // whole days of the mix, with a day's margin
	user := func(i int) int { return spread(i, 100) }
	dir := func(u int) string { return []string{"IN", "OUT"}[u%2] } // the mix's direction for user or extension u
	day := func(i int) Query {
		from := fillBase.Add(time.Duration(spread(i, days)) * 24 * time.Hour)
		return Query{From: from, To: from.Add(24*time.Hour - time.Nanosecond), Limit: 50}
	}
	return []searchCase{
		{"newest50", func(int) Query { return Query{Limit: 50} }},
		{"user50", func(i int) Query { return Query{User: fmt.Sprintf("user%03d", user(i)), Limit: 50} }},
		{"ext50", func(i int) Query { return Query{Extension: fmt.Sprint(2000 + user(i)), Limit: 50} }},
		{"ext_direction50", func(i int) Query {
			return Query{Extension: fmt.Sprint(2000 + user(i)), Direction: dir(user(i)), Limit: 50}
		}},
		{"remote_number50", func(i int) Query { return Query{Remote: fmt.Sprintf("+1555%04d", spread(i, 1000)), Limit: 50} }},
		{"remote_digits50", func(i int) Query { return Query{Remote: fmt.Sprintf("%04d", spread(i, 1000)), Limit: 50} }},
		{"direction50", func(i int) Query { return Query{Direction: dir(i), Limit: 50} }},
		{"day50", day},
		{"page50", func(i int) Query {
			at := fillBase.Add(time.Duration(1000+spread(i, n-1000)) * time.Minute)
			return Query{After: Position{Start: at, ID: "~"}, Limit: 50}
		}},
		{"user_day50", func(i int) Query {
			q := day(i)
			q.User = fmt.Sprintf("user%03d", user(i))
			return q
		}},
		{"min_duration_day_miss", func(i int) Query {
			q := day(i)
			q.MinDurationMS = 200_000
			return q
		}},
	}
}

// spread is the i-th of a sequence over 0..n-1 in a scattered order:
// 7919 is prime, so for an n it does not divide, any n runs in a row
// take each value once.
func spread(i, n int) int { return i * 7919 % n }

// benchLatency runs query(0), query(1), … through search, with or without
// the trigram lists, timing each run. ns/op is the mean of the loop's
// runs; when they are fewer than minRuns more are run after it, outside
// the benchmark's timer. It reports the p50 and p99 of every run's
// latency (p50_ms, p99_ms), the runs they come from, and the mean results
// per page.
func benchLatency(b *testing.B, s *Store, query func(int) Query, trigrams bool, minRuns int) {
	b.ReportAllocs()
	var lat []time.Duration
	results := 0
	run := func() {
		q := query(len(lat))
		t0 := time.Now()
		recs, err := s.search(q, trigrams)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		results += len(recs)
	}
	for b.Loop() {
		run()
	}
	for len(lat) < minRuns {
		run()
	}
	slices.Sort(lat)
	b.ReportMetric(msOf(percentile(lat, 50)), "p50_ms")
	b.ReportMetric(msOf(percentile(lat, 99)), "p99_ms")
	b.ReportMetric(float64(len(lat)), "runs")
	b.ReportMetric(float64(results)/float64(len(lat)), "results")
}

// percentile is the p-th percentile (nearest rank) of sorted, which is
// not empty.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × len)
	return sorted[max(rank, 1)-1]
}

// msOf is d in milliseconds.
func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkIndexInsert1M measures the index insert rate into an index
// that holds 1,000,000 recordings (fillIndex's mix, no compaction waited
// for): Store.index, what Seal runs once the file is in place, so one
// synced transaction per recording holding its record, field keys and
// trigram keys. serial inserts one recording at a time, parallel32 from
// 32 goroutines, as many calls hanging up at once. The new recordings
// continue the mix. It reports recordings/s; run it alone, with a time:
//
//	go test ./vault -run '^$' -bench IndexInsert1M -benchtime 3s -benchmem
func BenchmarkIndexInsert1M(b *testing.B) {
	const n = 1_000_000
	s := openTest(b, b.TempDir())
	fillIndex(b, s, n)
	var next atomic.Int64
	next.Store(n)
	insert := func() error { return s.index(fillRecording(int(next.Add(1) - 1))) }
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := insert(); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b)
	})
	b.Run("parallel32", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := insert(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b)
	})
	b.Logf("index after %d inserts: %d MiB", next.Load()-n, dirSize(b, s.indexDir())>>20)
}

// reportRate reports the benchmark's operations per second as recs/s.
func reportRate(b *testing.B) {
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "recs/s")
	}
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
