package vault

import (
	"testing"
	"time"
)

func createID(t *testing.T, s *Store, start time.Time) uint64 {
	t.Helper()
	w, err := s.Create(start)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	n, ok := parseID(w.ID())
	if !ok {
		t.Fatalf("id %q is not 13 digits", w.ID())
	}
	return n
}

func TestIDsIncreaseAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var last uint64
	for round := range 3 {
		s := openTest(t, dir)
		for i := range 5 {
			n := createID(t, s, start)
			if n <= last {
				t.Fatalf("round %d #%d: id %d not above %d", round, i, n, last)
			}
			if round == 0 && i == 0 && n != 2026000000001 {
				t.Errorf("first id %d, want 2026000000001", n)
			}
			if last != 0 && n != last+1 {
				t.Errorf("clean reopen skipped ids: %d after %d", n, last)
			}
			last = n
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestIDsNeverReusedAfterCrash(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s := openTest(t, dir)
	a := createID(t, s, start)
	if err := s.closeAsCrash(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s = openTest(t, dir)
	b := createID(t, s, start)
	if b <= a {
		t.Fatalf("id %d after crash not above %d", b, a)
	}
	if b != a+seqBandwidth {
		t.Logf("after crash: %d then %d (lease of %d skipped)", a, b, seqBandwidth)
	}
}

func TestIDsPerYear(t *testing.T) {
	s := openTest(t, t.TempDir())
	y26 := time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC)  // 23:00 in testZone: still 2026
	y27 := time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC) // 00:30 on 2027-01-01 in testZone
	got := []uint64{createID(t, s, y26), createID(t, s, y27), createID(t, s, y26), createID(t, s, y27)}
	want := []uint64{2026000000001, 2027000000001, 2026000000002, 2027000000002}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("id %d = %d, want %d", i, got[i], want[i])
		}
	}
}

func TestIDsConcurrent(t *testing.T) {
	s := openTest(t, t.TempDir())
	const n = 50
	ch := make(chan string, n)
	for range n {
		go func() {
			w, err := s.Create(time.Now())
			if err != nil {
				ch <- "error: " + err.Error()
				return
			}
			w.Abort()
			ch <- w.ID()
		}()
	}
	seen := map[string]bool{}
	for range n {
		id := <-ch
		if _, ok := parseID(id); !ok || seen[id] {
			t.Errorf("bad or duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2026000001344", true},
		{"202600000134", false},
		{"20260000013444", false},
		{"2026-00001344", false},
		{"../../etc/pas", false},
		{"", false},
	} {
		if _, ok := parseID(tc.in); ok != tc.ok {
			t.Errorf("parseID(%q) ok = %v", tc.in, ok)
		}
	}
	if formatID(2026000001344) != "2026000001344" || formatID(12) != "0000000000012" {
		t.Errorf("formatID")
	}
}
