package vault

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSearch(t *testing.T) {
	s := openTest(t, t.TempDir())
	at := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }
	ids := map[string]string{} // name -> id
	for _, r := range []struct {
		name string
		rec  Recording
	}{
		{"r6", Recording{Start: at(9, 0).AddDate(0, 0, -1), Extension: "2501", Remote: "+1777", Direction: "IN"}},
		{"r1", Recording{Start: at(10, 0), User: "alice", Extension: "2501", Remote: "+1555", Direction: "IN"}},
		{"r2", Recording{Start: at(10, 5), User: "bob", Extension: "2502", Remote: "+1666", Direction: "OUT"}},
		{"r3", Recording{Start: at(10, 10), User: "alice", Extension: "2501", Remote: "+1666", Direction: "OUT"}},
		{"r4", Recording{Start: at(10, 15), User: "a/b", Extension: "25/01", Remote: "x%2Fy", Direction: "in"}},
		{"r7", Recording{Start: at(10, 16), User: "a", Extension: "2504", Remote: "x/y", Direction: "OUT"}},
		{"r5", Recording{Start: at(10, 20), User: "alice", Extension: "2503", Remote: "+1555", Direction: "IN"}},
	} {
		ids[record(t, s, r.rec, nil, []byte("audio")).ID] = r.name
	}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"all", Query{}, []string{"r5", "r7", "r4", "r3", "r2", "r1", "r6"}},
		{"limit", Query{Limit: 3}, []string{"r5", "r7", "r4"}},
		{"user", Query{User: "alice"}, []string{"r5", "r3", "r1"}},
		{"user limit", Query{User: "alice", Limit: 2}, []string{"r5", "r3"}},
		{"user with slash", Query{User: "a/b"}, []string{"r4"}},
		{"user prefix is not a match", Query{User: "a"}, []string{"r7"}},
		{"user unknown", Query{User: "carol"}, nil},
		{"ext", Query{Extension: "2501"}, []string{"r3", "r1", "r6"}},
		{"ext with slash", Query{Extension: "25/01"}, []string{"r4"}},
		{"remote", Query{Remote: "+1666"}, []string{"r3", "r2"}},
		{"remote escaped lookalike", Query{Remote: "x%2Fy"}, []string{"r4"}},
		{"remote with slash", Query{Remote: "x/y"}, []string{"r7"}},
		{"direction", Query{Direction: "out"}, []string{"r7", "r3", "r2"}},
		{"direction IN", Query{Direction: "IN"}, []string{"r5", "r4", "r1", "r6"}},
		{"range inclusive", Query{From: at(10, 5), To: at(10, 15)}, []string{"r4", "r3", "r2"}},
		{"from only", Query{From: at(10, 16)}, []string{"r5", "r7"}},
		{"to only", Query{To: at(10, 0)}, []string{"r1", "r6"}},
		{"to in another zone", Query{To: at(10, 0).In(testZone)}, []string{"r1", "r6"}},
		{"user and range", Query{User: "alice", From: at(10, 5)}, []string{"r5", "r3"}},
		{"user and to", Query{User: "alice", To: at(10, 0)}, []string{"r1"}},
		{"user and direction", Query{User: "alice", Direction: "OUT"}, []string{"r3"}},
		{"ext and remote", Query{Extension: "2501", Remote: "+1555"}, []string{"r1"}},
		{"remote and direction", Query{Remote: "+1555", Direction: "in", Limit: 1}, []string{"r5"}},
		{"empty range", Query{From: at(11, 0)}, nil},
		{"inverted range", Query{From: at(10, 20), To: at(10, 0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := s.Search(tt.q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, ids[r.ID])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Search(%+v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestSearchDefaultLimit(t *testing.T) {
	s := openTest(t, t.TempDir())
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range DefaultLimit + 20 {
		rec := Recording{ID: formatID(2026000000001 + uint64(i)), Start: base.Add(time.Duration(i) * time.Minute), User: "u"}
		if err := s.index(rec); err != nil {
			t.Fatalf("index: %v", err)
		}
	}
	for _, q := range []Query{{}, {User: "u"}} {
		recs, err := s.Search(q)
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		if len(recs) != DefaultLimit {
			t.Errorf("Search(%+v): %d results, want %d", q, len(recs), DefaultLimit)
		}
		if !recs[0].Start.Equal(base.Add((DefaultLimit + 19) * time.Minute)) {
			t.Errorf("first result %v is not the newest", recs[0].Start)
		}
		for i := 1; i < len(recs); i++ {
			if !recs[i].Start.Before(recs[i-1].Start) {
				t.Fatalf("not newest first at %d", i)
			}
		}
	}
}

func TestReindexReplacesKeys(t *testing.T) {
	s := openTest(t, t.TempDir())
	rec := Recording{ID: "2026000000001", Start: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), User: "old"}
	if err := s.index(rec); err != nil {
		t.Fatal(err)
	}
	rec.User = "new"
	if err := s.index(rec); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.Search(Query{User: "old"}); len(recs) != 0 {
		t.Errorf("stale user key still matches: %v", recs)
	}
	if recs, _ := s.Search(Query{User: "new"}); len(recs) != 1 {
		t.Errorf("new user key: %v", recs)
	}
	if recs, _ := s.Search(Query{}); len(recs) != 1 {
		t.Errorf("start keys: %d results, want 1", len(recs))
	}
}

func TestGetNotFound(t *testing.T) {
	s := openTest(t, t.TempDir())
	for _, id := range []string{"2026000000001", "", "nope", "2026/../x/1234", "r/2026000000001"} {
		if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestIndexKeysEscape(t *testing.T) {
	rec := Recording{ID: "2026000000001", Start: time.Unix(0, 1700000000123456789), User: "a/b%c", Direction: "in"}
	keys := indexKeys(rec)
	want := []string{
		"i/start/01700000000123456789/2026000000001",
		"i/user/a%2Fb%25c/01700000000123456789/2026000000001",
		"i/ext//01700000000123456789/2026000000001",
		"i/remote//01700000000123456789/2026000000001",
		"i/dir/IN/01700000000123456789/2026000000001",
	}
	for i := range want {
		if string(keys[i]) != want[i] {
			t.Errorf("key %d = %q, want %q", i, keys[i], want[i])
		}
	}
}

func TestIndexed(t *testing.T) {
	s := openTest(t, t.TempDir())
	// Ids close together (stepped over) and far apart (sought).
	var recs []Recording
	for _, n := range []uint64{2, 5, 7} {
		recs = append(recs, Recording{ID: formatID(2026000000000 + n)})
	}
	for n := uint64(100); n < 150; n++ {
		recs = append(recs, Recording{ID: formatID(2026000000000 + n)})
	}
	if err := s.indexNew(recs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ids  []string
		want []bool
	}{
		{nil, []bool{}},
		{[]string{"2026000000149"}, []bool{true}},
		{[]string{"2026000000150"}, []bool{false}},
		{[]string{"2026000000007", "", "2026000000001", "2026000000005", "2026000000009", "2026000000005", "2026000000002",
			"2025000000007", "2026000000149", "2026000000150", "2026000000120", "2026000000099", "2026000000121"},
			[]bool{true, false, false, true, false, true, true, false, true, false, true, false, true}},
	}
	for _, tt := range tests {
		got, err := s.indexed(tt.ids)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("indexed(%q) = %v, want %v", tt.ids, got, tt.want)
		}
	}
}

func TestRecordsAfter(t *testing.T) {
	s := openTest(t, t.TempDir())
	for i := range 5 {
		if err := s.index(Recording{ID: formatID(2026000000001 + uint64(i)), Start: time.Unix(int64(5-i), 0).UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for after := ""; ; {
		page, err := s.recordsAfter(after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	want := []string{"2026000000001", "2026000000002", "2026000000003", "2026000000004", "2026000000005"}
	if !slices.Equal(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
}
