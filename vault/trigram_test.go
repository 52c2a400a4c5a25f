package vault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// trigramKeysIn returns every trigram key of s's index.
func trigramKeysIn(t testing.TB, s *Store) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte(trigramPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys[string(it.Item().Key())] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// dropTrigrams leaves s's index as one written before trigram keys: none,
// and no marker.
func dropTrigrams(t testing.TB, s *Store) {
	t.Helper()
	if err := s.db.DropPrefix([]byte(trigramPrefix), []byte(trigramMarker), []byte(trigramCursor)); err != nil {
		t.Fatal(err)
	}
}

// hasMeta reports whether s's index holds key.
func hasMeta(t testing.TB, s *Store, key string) bool {
	t.Helper()
	var found bool
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(key))
		found = err == nil
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestTrigrams(t *testing.T) {
	for _, tt := range []struct {
		remote string
		want   []string
	}{
		{"+1 555-820", []string{"155", "555", "558", "582", "820"}},
		{"5555555", []string{"555"}},
		{"1212121", []string{"121", "212"}},
		{"12", nil},
		{"anonymous", nil},
		{"", nil},
		{"sip:007@host", []string{"007"}},
	} {
		if got := trigrams(RemoteDigits(tt.remote)); !slices.Equal(got, tt.want) {
			t.Errorf("trigrams(%q) = %v, want %v", tt.remote, got, tt.want)
		}
	}
	// Keys and values: where each trigram starts, bit i for digit i.
	rec := Recording{ID: "2026000000001", Start: time.Unix(0, 1700000000123456789), Remote: "+4420 20202"}
	keys, vals := indexEntries(rec)
	var got []string
	for i, k := range keys[5:] {
		at, _ := positionsOf(vals[5+i])
		got = append(got, fmt.Sprintf("%s %b", k, at))
	}
	want := []string{
		"i/rtri/442/01700000000123456789/2026000000001 1",
		"i/rtri/420/01700000000123456789/2026000000001 10",
		"i/rtri/202/01700000000123456789/2026000000001 1010100",
		"i/rtri/020/01700000000123456789/2026000000001 101000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("trigram entries\n%q, want\n%q", got, want)
	}
	for i := range 5 {
		if vals[i] != nil {
			t.Errorf("field key %s has a value", keys[i])
		}
	}
	// Past 66 digits the starts do not fit 64 bits: no positions.
	keys, vals = indexEntries(Recording{Remote: strings.Repeat("0123456789", 7)})
	if len(keys) != 5+10 || slices.ContainsFunc(vals, func(v []byte) bool { return v != nil }) {
		t.Errorf("long remote: %d keys, values %q", len(keys), vals)
	}
}

// TestTrigramMarker: a new index is complete at once and stays so; Reindex
// leaves its fresh index complete, with every trigram key.
func TestTrigramMarker(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	s.waitTrigrams()
	if !hasMeta(t, s, trigramMarker) {
		t.Fatal("a new index has no trigram marker")
	}
	rec := record(t, s, Recording{User: "a", Remote: "+1 555 8201"}, nil, []byte("audio"))
	s.Close()
	if _, err := Reindex(Config{Dir: dir, Location: testZone}, nil); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	s.waitTrigrams()
	if !hasMeta(t, s, trigramMarker) || hasMeta(t, s, trigramCursor) {
		t.Error("after Reindex: trigram marker missing or cursor left")
	}
	if got := searchIDs(t, s, Query{Remote: "8201"}); !slices.Equal(got, []string{rec.ID}) {
		t.Errorf("after Reindex: %v, want %s", got, rec.ID)
	}
	if n := len(trigramKeysIn(t, s)); n != 6 {
		t.Errorf("%d trigram keys after Reindex, want 6", n)
	}
}

// randomRecordings returns n recordings of a seeded mix: numbers sharing
// prefixes (dense trigrams) and random ones, formatted several ways, a few
// users and extensions, starts often shared.
func randomRecordings(r *rand.Rand, n int) []Recording {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	recs := make([]Recording, n)
	for i := range recs {
		var remote string
		switch r.IntN(10) {
		case 8:
			remote = "+1 800 " + strings.Repeat(fmt.Sprint(r.IntN(100)), 1+r.IntN(4))
		case 9:
			if r.IntN(20) == 0 { // longer than a sealed remote: keys without positions
				remote = fmt.Sprintf("%d%s", r.IntN(1000), strings.Repeat("4215", 17))
				break
			}
			remote = fmt.Sprintf("+1 %d000%d", r.IntN(10), r.IntN(10000))
		case 0, 1, 2:
			remote = fmt.Sprintf("+1555%04d", r.IntN(300))
		case 3, 4:
			remote = fmt.Sprintf("+44 20 7946 %04d", r.IntN(10000))
		case 5:
			remote = fmt.Sprintf("%d", r.Int64N(1e12))
		case 6:
			remote = []string{"anonymous", "", "12", "7", "5-5-5"}[r.IntN(5)]
		default:
			remote = fmt.Sprintf("sip:%03d@pbx", r.IntN(1000))
		}
		recs[i] = Recording{
			ID:         formatID(2026000000001 + uint64(i)),
			Start:      base.Add(time.Duration(i/2+r.IntN(3)) * time.Minute),
			User:       fmt.Sprint("u", r.IntN(5)),
			Extension:  fmt.Sprint(2500 + r.IntN(5)),
			Remote:     remote,
			Direction:  []string{"IN", "OUT"}[r.IntN(2)],
			DurationMS: r.Int64N(300_000),
		}
	}
	return recs
}

// randomQuery returns a query of a seeded mix, its remote often cut from
// one of recs' numbers.
func randomQuery(r *rand.Rand, recs []Recording) Query {
	var q Query
	digits := RemoteDigits(recs[r.IntN(len(recs))].Remote)
	switch {
	case r.IntN(5) == 0 || len(digits) < 3:
		q.Remote = fmt.Sprintf("%05d", r.IntN(100000))[:1+r.IntN(5)]
	default:
		i := r.IntN(len(digits) - 2)
		j := i + 3 + r.IntN(len(digits)-i-2)
		q.Remote = digits[i:j]
		if r.IntN(4) == 0 {
			q.Remote = "+" + strings.Join(strings.Split(q.Remote, ""), " ") // digits anywhere
		}
	}
	base, span := recs[0].Start, recs[len(recs)-1].Start.Sub(recs[0].Start)
	at := func() time.Time { return base.Add(time.Duration(r.Int64N(int64(span)))) }
	if r.IntN(3) == 0 {
		q.User = fmt.Sprint("u", r.IntN(6))
	}
	if r.IntN(4) == 0 {
		q.Extension = fmt.Sprint(2500 + r.IntN(6))
	}
	if r.IntN(4) == 0 {
		q.Direction = []string{"in", "OUT"}[r.IntN(2)]
	}
	if r.IntN(4) == 0 {
		q.MinDurationMS = r.Int64N(300_000)
	}
	if r.IntN(3) == 0 {
		q.From = at()
	}
	if r.IntN(3) == 0 {
		q.To = at()
	}
	if r.IntN(3) == 0 {
		rec := recs[r.IntN(len(recs))]
		q.After = PositionOf(rec)
		if r.IntN(2) == 0 {
			q.After.ID = "" // between keys
		}
	}
	q.Limit = []int{1, 5, 50, 10000}[r.IntN(4)]
	return q
}

// sameAnswers checks that the trigram search and the scan answer queries
// alike over s's index.
func sameAnswers(t *testing.T, s *Store, r *rand.Rand, recs []Recording, queries int) {
	t.Helper()
	found := 0
	for range queries {
		q := randomQuery(r, recs)
		scan, err := s.search(q, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.search(q, true)
		if err != nil {
			t.Fatal(err)
		}
		found += len(got)
		if !slices.EqualFunc(got, scan, func(a, b Recording) bool { return a.ID == b.ID }) {
			t.Fatalf("%+v:\ntrigrams %v\nscan     %v", q, idsOf(got), idsOf(scan))
		}
	}
	if found == 0 {
		t.Fatal("no query found anything: the comparison proves nothing")
	}
}

func idsOf(recs []Recording) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// TestTrigramSearchEqualsScan: over a few thousand random recordings,
// random queries get from the trigram lists what the scan gives.
func TestTrigramSearchEqualsScan(t *testing.T) {
	s := openTest(t, t.TempDir())
	r := rand.New(rand.NewPCG(1, 2))
	recs := randomRecordings(r, 3000)
	if err := s.indexNew(recs); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, s, r, recs, 400)
}

// TestTrigramBackfill: an index written without trigram keys is searched
// by the scan until the backfill Open starts has written them all, and
// then gives the same answers from them.
func TestTrigramBackfill(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	r := rand.New(rand.NewPCG(3, 4))
	recs := randomRecordings(r, 2500)
	if err := s.indexNew(recs); err != nil {
		t.Fatal(err)
	}
	want := trigramKeysIn(t, s)
	dropTrigrams(t, s)
	// Without the marker, Search scans: the answer is right with no
	// trigram key at all.
	q := Query{Remote: RemoteDigits(recs[7].Remote), Limit: 10000}
	if got := searchIDs(t, s, q); !slices.Contains(got, recs[7].ID) {
		t.Fatalf("%+v before the backfill: %v lacks %s", q, got, recs[7].ID)
	}
	s.Close()

	s = openTest(t, dir)
	s.waitTrigrams()
	if !hasMeta(t, s, trigramMarker) || hasMeta(t, s, trigramCursor) {
		t.Fatal("after the backfill: marker missing or cursor left")
	}
	if got := trigramKeysIn(t, s); len(got) != len(want) {
		t.Fatalf("%d trigram keys after the backfill, %d written with the records", len(got), len(want))
	}
	sameAnswers(t, s, r, recs, 200)
}

// TestTrigramBackfillResumes: a backfill stopped half-way (a crash, or
// Close) resumes at its cursor on the next Open, and records indexed
// meanwhile keep their keys.
func TestTrigramBackfillResumes(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	r := rand.New(rand.NewPCG(5, 6))
	recs := randomRecordings(r, 2000)
	if err := s.indexNew(recs); err != nil {
		t.Fatal(err)
	}
	want := trigramKeysIn(t, s)
	dropTrigrams(t, s)
	// As a crash leaves it: the records before the cursor done, the rest
	// not; but for one record before the cursor, left without its keys to
	// show that the backfill resumes rather than starts again.
	half := recs[1000]
	skip := slices.IndexFunc(recs, func(r Recording) bool { return len(trigrams(RemoteDigits(r.Remote))) > 0 })
	skipped := trigramKeys(recs[skip].Remote, PositionOf(recs[skip]).keyTail())
	wb := s.db.NewWriteBatch()
	for i, rec := range recs[:1000] {
		if i == skip {
			continue
		}
		for _, k := range trigramKeys(rec.Remote, PositionOf(rec).keyTail()) {
			if err := wb.Set(k, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := wb.Set([]byte(trigramCursor), recordKey(half.ID)); err != nil {
		t.Fatal(err)
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Closed at once: the backfill stops within a batch, wherever it is.
	s = openTest(t, dir)
	s.Close()
	s = openTest(t, dir)
	late := Recording{ID: formatID(2026000009999), Start: recs[len(recs)-1].Start, Remote: "+1 555 0042"}
	indexAll(t, s, late)
	for _, k := range trigramKeys(late.Remote, PositionOf(late).keyTail()) {
		want[string(k)] = true
	}
	s.waitTrigrams()
	if !hasMeta(t, s, trigramMarker) || hasMeta(t, s, trigramCursor) {
		t.Fatal("after the backfill: marker missing or cursor left")
	}
	got := trigramKeysIn(t, s)
	for _, k := range skipped {
		if got[string(k)] {
			t.Fatalf("the backfill started again: %s before its cursor was written", k)
		}
		delete(want, string(k))
	}
	if len(got) != len(want) {
		t.Errorf("%d trigram keys after the backfill, want %d", len(got), len(want))
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		for _, k := range skipped {
			if err := txn.Set(k, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, s, r, append(recs, late), 200)
}
