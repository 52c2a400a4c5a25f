package vault

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// indexAll indexes recs straight (no files), failing the test on error.
func indexAll(t *testing.T, s *Store, recs ...Recording) {
	t.Helper()
	for _, r := range recs {
		if err := s.index(r); err != nil {
			t.Fatalf("index %s: %v", r.ID, err)
		}
	}
}

func searchIDs(t *testing.T, s *Store, q Query) []string {
	t.Helper()
	recs, err := s.Search(q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestSearchRemotePartial(t *testing.T) {
	s := openTest(t, t.TempDir())
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	indexAll(t, s,
		Recording{ID: "2026000000001", Start: at, Remote: "+15558201320"},
		Recording{ID: "2026000000002", Start: at.Add(time.Minute), Remote: "5558201320"},
		Recording{ID: "2026000000003", Start: at.Add(2 * time.Minute), Remote: "+44 20 7946 0958"},
		Recording{ID: "2026000000004", Start: at.Add(3 * time.Minute), Remote: "anonymous"},
		Recording{ID: "2026000000005", Start: at.Add(4 * time.Minute), Remote: "<82&01>"}, // JSON escapes <, & and >
		Recording{ID: "2026000000006", Start: at.Add(5 * time.Minute), Remote: ""},
	)
	for _, tt := range []struct {
		remote string
		want   []string
	}{
		{"5558201320", []string{"2026000000002", "2026000000001"}},
		{"+15558201320", []string{"2026000000001"}},
		{"8201", []string{"2026000000005", "2026000000002", "2026000000001"}},
		{"+1 555-820", []string{"2026000000001"}},
		{"1320", []string{"2026000000002", "2026000000001"}},
		{"7946 0958", []string{"2026000000003"}},
		{"79460958", []string{"2026000000003"}},
		{"999", nil},
		{"anonymous", []string{"2026000000004"}}, // no digit: exact
		{"anon", nil},
	} {
		if got := searchIDs(t, s, Query{Remote: tt.remote}); !slices.Equal(got, tt.want) {
			t.Errorf("remote %q: %v, want %v", tt.remote, got, tt.want)
		}
	}
	// Partial remote with another index filter and a range.
	indexAll(t, s, Recording{ID: "2026000000007", Start: at.Add(6 * time.Minute), User: "jdoe", Remote: "+15558201320"})
	if got := searchIDs(t, s, Query{User: "jdoe", Remote: "8201"}); !slices.Equal(got, []string{"2026000000007"}) {
		t.Errorf("user and remote: %v", got)
	}
	if got := searchIDs(t, s, Query{Remote: "8201", From: at.Add(time.Minute), To: at.Add(4 * time.Minute)}); !slices.Equal(got, []string{"2026000000005", "2026000000002"}) {
		t.Errorf("remote in range: %v", got)
	}
}

func TestSearchMinDuration(t *testing.T) {
	s := openTest(t, t.TempDir())
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	indexAll(t, s,
		Recording{ID: "2026000000001", Start: at, DurationMS: 59_999, User: "u"},
		Recording{ID: "2026000000002", Start: at.Add(time.Minute), DurationMS: 60_000, User: "u"},
		Recording{ID: "2026000000003", Start: at.Add(2 * time.Minute), DurationMS: 3_600_000, User: "v"},
		Recording{ID: "2026000000004", Start: at.Add(3 * time.Minute), DurationMS: 0, User: "u"},
	)
	for _, tt := range []struct {
		q    Query
		want []string
	}{
		{Query{MinDurationMS: 60_000}, []string{"2026000000003", "2026000000002"}},
		{Query{MinDurationMS: 60_000, User: "u"}, []string{"2026000000002"}},
		{Query{MinDurationMS: 1}, []string{"2026000000003", "2026000000002", "2026000000001"}},
		{Query{MinDurationMS: 3_600_001}, nil},
		{Query{MinDurationMS: 60_000, Limit: 1}, []string{"2026000000003"}},
	} {
		if got := searchIDs(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestSearchRangeInclusive(t *testing.T) {
	s := openTest(t, t.TempDir())
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	indexAll(t, s,
		Recording{ID: "2026000000001", Start: at.Add(-time.Nanosecond), User: "u"},
		Recording{ID: "2026000000002", Start: at, User: "u"},
		Recording{ID: "2026000000003", Start: at.Add(time.Hour), User: "u"},
		Recording{ID: "2026000000004", Start: at.Add(time.Hour + time.Nanosecond), User: "u"},
	)
	for _, q := range []Query{
		{From: at, To: at.Add(time.Hour)},
		{From: at, To: at.Add(time.Hour), User: "u"},
		{From: at.In(testZone), To: at.Add(time.Hour).In(testZone), Remote: ""},
	} {
		if got := searchIDs(t, s, q); !slices.Equal(got, []string{"2026000000003", "2026000000002"}) {
			t.Errorf("%+v: %v, want both bounds", q, got)
		}
	}
	if got := searchIDs(t, s, Query{From: at, To: at}); !slices.Equal(got, []string{"2026000000002"}) {
		t.Errorf("From = To: %v", got)
	}
}

// TestSearchPaging pages through recordings newest first, sealing new ones
// between
// pages: every recording there at the start is listed once, none skipped,
// in the order of one whole listing.
func TestSearchPaging(t *testing.T) {
	s := openTest(t, t.TempDir())
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	next := uint64(2026000000001)
	add := func(start time.Time, user string) Recording {
		r := Recording{ID: formatID(next), Start: start, User: user, Remote: "+15558201320", DurationMS: 90_000}
		next++
		indexAll(t, s, r)
		return r
	}
	var want []string
	for i := range 23 {
		// Pairs of recordings share a start: the id orders them.
		r := add(base.Add(time.Duration(i/2)*time.Minute), []string{"a", "b"}[i%3%2])
		want = append(want, r.ID)
	}
	slices.Reverse(want)
	for _, q := range []Query{
		{Limit: 5},
		{Limit: 4, Remote: "8201", MinDurationMS: 60_000},
		{Limit: 1, To: base.Add(time.Hour)},
	} {
		var got []string
		seen := map[string]bool{}
		for page := 0; ; page++ {
			if page > 30 {
				t.Fatalf("%+v: no end of pages", q)
			}
			recs, err := s.Search(q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if seen[r.ID] {
					t.Fatalf("%+v: %s listed twice", q, r.ID)
				}
				seen[r.ID] = true
				if r.Start.Before(base.Add(time.Hour)) {
					got = append(got, r.ID)
				}
			}
			if len(recs) < q.Limit {
				break
			}
			q.After = PositionOf(recs[len(recs)-1])
			// New calls between pages: sealed now, and none changes
			// what the next page holds.
			add(base.Add(2*time.Hour+time.Duration(page)*time.Second), "new")
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: pages gave\n%v, want\n%v", q, got, want)
		}
	}
}

func TestSearchAfterWithFilters(t *testing.T) {
	s := openTest(t, t.TempDir())
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := range 10 {
		indexAll(t, s, Recording{ID: formatID(2026000000001 + uint64(i)), Start: base.Add(time.Duration(i) * time.Minute),
			User: fmt.Sprint("u", i%2), Extension: "2501"})
	}
	after := Position{Start: base.Add(6 * time.Minute), ID: "2026000000007"}
	for _, tt := range []struct {
		q    Query
		want []string
	}{
		{Query{After: after, Limit: 2}, []string{"2026000000006", "2026000000005"}},
		{Query{After: after, User: "u0", Limit: 2}, []string{"2026000000005", "2026000000003"}},
		{Query{After: after, Extension: "2501", From: base.Add(4 * time.Minute)}, []string{"2026000000006", "2026000000005"}},
		{Query{After: after, To: base.Add(2 * time.Minute)}, []string{"2026000000003", "2026000000002", "2026000000001"}},
		// A position between keys (no such recording) works the same.
		{Query{After: Position{Start: base.Add(6*time.Minute + time.Second)}, Limit: 1}, []string{"2026000000007"}},
	} {
		if got := searchIDs(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestRawFilterAgreesWithDecoded(t *testing.T) {
	for _, rec := range []Recording{
		{Remote: "+15558201320", DurationMS: 61_000},
		{Remote: "a\"remote\":\"8201", FullName: `"remote":"8201"`, DurationMS: 5},
		{Remote: "<8201>", User: `"duration_ms":99999999,`},
		{},
	} {
		for _, f := range []rawFilter{{remoteDigits: "8201"}, {minDurationMS: 60_000}, {remoteDigits: "1", minDurationMS: 1}} {
			v, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			q := Query{Remote: f.remoteDigits, MinDurationMS: f.minDurationMS}
			if want := q.matches(rec, f.remoteDigits); want && !f.pass(v) {
				t.Errorf("raw filter %+v rejects %s, which matches", f, v)
			}
		}
	}
}

// TestSearchIDsOutOfStartOrder: ids that do not follow the starts (a
// recovered call, a clock step) and a stale index key are read right.
func TestSearchIDsOutOfStartOrder(t *testing.T) {
	s := openTest(t, t.TempDir())
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var want []string
	for i := range 60 {
		// Starts descend as ids ascend, with jumps.
		id := formatID(2026000000001 + uint64((i*37)%60))
		indexAll(t, s, Recording{ID: id, Start: base.Add(-time.Duration(i) * time.Minute), Remote: "+15558201320"})
		want = append(want, id)
	}
	// A stale start key: no record behind it.
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(fieldPrefix("start", "")+Position{Start: base.Add(-90 * time.Second), ID: "2026000000999"}.keyTail()), nil)
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{{Limit: 100}, {Limit: 100, Remote: "8201"}} {
		if got := searchIDs(t, s, q); !slices.Equal(got, want) {
			t.Errorf("%+v:\n%v, want\n%v", q, got, want)
		}
	}
}

// TestSearchRemoteTrigrams: a partial remote of 3 digits or more is found
// through the trigram lists wherever its digits lie in the number, and
// only where they are contiguous.
func TestSearchRemoteTrigrams(t *testing.T) {
	s := openTest(t, t.TempDir())
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	indexAll(t, s,
		Recording{ID: "2026000000001", Start: at, Remote: "+15558201320", User: "ann"},
		Recording{ID: "2026000000002", Start: at.Add(time.Minute), Remote: "5820 7201", User: "bob"}, // 820 and 201, not 8201
		Recording{ID: "2026000000003", Start: at.Add(2 * time.Minute), Remote: "+44 20 7946 0958", User: "ann"},
		Recording{ID: "2026000000004", Start: at.Add(3 * time.Minute), Remote: "8201", Extension: "2501"},
		Recording{ID: "2026000000005", Start: at.Add(4 * time.Minute), Remote: "12"},
		Recording{ID: "2026000000006", Start: at.Add(5 * time.Minute), Remote: "sip:555@x"},
	)
	for _, tt := range []struct {
		q    Query
		want []string
	}{
		{Query{Remote: "155"}, []string{"2026000000001"}},                                 // start
		{Query{Remote: "8201"}, []string{"2026000000004", "2026000000001"}},               // middle, and the whole number
		{Query{Remote: "1320"}, []string{"2026000000001"}},                                // end
		{Query{Remote: "+1 555 820"}, []string{"2026000000001"}},                          // + and spaces
		{Query{Remote: "(555) 820-1320"}, []string{"2026000000001"}},                      // punctuation
		{Query{Remote: "555"}, []string{"2026000000006", "2026000000001"}},                // 3 digits: one list
		{Query{Remote: "2079460958"}, []string{"2026000000003"}},                          // across the spaces of the number
		{Query{Remote: "58207201"}, []string{"2026000000002"}},                            // the number whose trigrams mislead
		{Query{Remote: "82013"}, []string{"2026000000001"}},                               // 8201 is in 4 too, 82013 only in 1
		{Query{Remote: "8201", User: "ann"}, []string{"2026000000001"}},                   // joined with the user's list
		{Query{Remote: "8201", User: "bob"}, nil},                                         // bob's has 820 and 201 only
		{Query{Remote: "8201", Extension: "2501"}, []string{"2026000000004"}},             // joined with the extension's list
		{Query{Remote: "8201", Direction: "in"}, nil},                                     // direction checked on the record
		{Query{Remote: "8201", To: at.Add(2 * time.Minute)}, []string{"2026000000001"}},   // To
		{Query{Remote: "8201", From: at.Add(time.Nanosecond)}, []string{"2026000000004"}}, // From
		{Query{Remote: "8201", From: at, To: at.Add(3 * time.Minute)}, []string{"2026000000004", "2026000000001"}},
		{Query{Remote: "8201", Limit: 1}, []string{"2026000000004"}},
		{Query{Remote: "999"}, nil},
		{Query{Remote: "12"}, []string{"2026000000005"}}, // under 3 digits: the scan
		{Query{Remote: "+1"}, []string{"2026000000005", "2026000000004", "2026000000002", "2026000000001"}},
	} {
		if got := searchIDs(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.q, got, tt.want)
		}
	}
	// The answers above come from the trigram lists: a match whose
	// trigram keys are gone is not found any more (the scan finds it).
	if err := s.db.Update(func(txn *badger.Txn) error {
		for _, k := range trigramKeys("8201", Position{Start: at.Add(3 * time.Minute), ID: "2026000000004"}.keyTail()) {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, s, Query{Remote: "8201"}); !slices.Equal(got, []string{"2026000000001"}) {
		t.Errorf("without 4's trigram keys: %v, want only 1", got)
	}
	if got, err := s.search(Query{Remote: "8201"}, false); err != nil || len(got) != 2 {
		t.Errorf("scan: %d results, %v; want 2", len(got), err)
	}
}

// TestSearchRemoteTrigramsPaging: pages of a trigram search, joined with a
// user's list or not, list what one big page does, in its order.
func TestSearchRemoteTrigramsPaging(t *testing.T) {
	s := openTest(t, t.TempDir())
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var recs []Recording
	for i := range 200 {
		recs = append(recs, Recording{
			ID:     formatID(2026000000001 + uint64(i)),
			Start:  base.Add(time.Duration(i/3) * time.Minute), // starts shared by 3: the id orders them
			User:   []string{"a", "b", "c"}[i%3],
			Remote: fmt.Sprintf("+1 555 %04d", i%17*37),
		})
	}
	if err := s.indexNew(recs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{
		{Remote: "555"},
		{Remote: "5550"},
		{Remote: "0111", User: "b"},
		{Remote: "555 03", From: base.Add(5 * time.Minute), To: base.Add(50 * time.Minute)},
	} {
		whole := q
		whole.Limit = 1000
		want := searchIDs(t, s, whole)
		if len(want) == 0 {
			t.Fatalf("%+v: no match", q)
		}
		var got []string
		q.Limit = 4
		for page := 0; ; page++ {
			if page > 200 {
				t.Fatalf("%+v: no end of pages", q)
			}
			recs, err := s.Search(q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				got = append(got, r.ID)
			}
			if len(recs) < q.Limit {
				break
			}
			q.After = PositionOf(recs[len(recs)-1])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: pages gave\n%v, one page\n%v", q, got, want)
		}
	}
}

// TestReindexRemoteDropsOldTrigrams: a re-index that changes the remote
// deletes the old number's trigram keys in the same transaction.
func TestReindexRemoteDropsOldTrigrams(t *testing.T) {
	s := openTest(t, t.TempDir())
	rec := Recording{ID: "2026000000001", Start: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Remote: "+15558201320"}
	indexAll(t, s, rec)
	if got := searchIDs(t, s, Query{Remote: "8201"}); len(got) != 1 {
		t.Fatalf("before: %v", got)
	}
	rec.Remote = "+4930 1234"
	indexAll(t, s, rec)
	if got := searchIDs(t, s, Query{Remote: "8201"}); got != nil {
		t.Errorf("old number still found: %v", got)
	}
	if got := searchIDs(t, s, Query{Remote: "301234"}); !slices.Equal(got, []string{rec.ID}) {
		t.Errorf("new number: %v", got)
	}
	want := map[string]bool{}
	for _, k := range trigramKeys(rec.Remote, PositionOf(rec).keyTail()) {
		want[string(k)] = true
	}
	if got := trigramKeysIn(t, s); !maps.Equal(got, want) {
		t.Errorf("trigram keys %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// TestSearchTrigramsApartNotRead: a recording whose trigram keys hold the
// query's trigrams apart is rejected on its keys: its record is not read
// (here it could not be decoded).
func TestSearchTrigramsApartNotRead(t *testing.T) {
	s := openTest(t, t.TempDir())
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	indexAll(t, s,
		Recording{ID: "2026000000001", Start: at, Remote: "+15558201320"},
		Recording{ID: "2026000000002", Start: at.Add(time.Minute), Remote: "5820 7201"},
	)
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(recordKey("2026000000002"), []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, s, Query{Remote: "8201"}); !slices.Equal(got, []string{"2026000000001"}) {
		t.Errorf("8201: %v", got)
	}
	if _, err := s.Search(Query{Remote: "5820"}); err == nil {
		t.Error("5820: the undecodable record was not read")
	}
}
