package controltest

import (
	"context"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// TestVerifyAllOrder: the recordings by id whatever order they were added
// in, then the unindexed files by file name, the same on every run (the
// checks live in a map).
func TestVerifyAllOrder(t *testing.T) {
	b := New()
	for _, id := range []string{"2026000000003", "2026000000001", "2026000000002"} {
		b.AddRecording(control.Recording{ID: id, File: "records/" + id + ".mp3.enc"}, nil)
	}
	b.SetCheck(control.Check{ID: "2026000000002", File: "records/2026000000002.mp3.enc", Status: control.CheckTampered})
	for _, c := range []control.Check{
		{ID: "2026000000007", File: "records/2026/03/04/c.mp3.enc"},
		{ID: "2026000000009", File: "records/2026/03/01/b.mp3.enc"},
		{ID: "", File: "records/2026/03/01/a.mp3.enc"},
		{ID: "2026000000008", File: "records/2026/03/02/d.mp3.enc"},
	} {
		c.Status = control.CheckUnindexed
		b.SetCheck(c)
	}
	want := []string{
		"2026000000001 intact", "2026000000002 tampered", "2026000000003 intact",
		"records/2026/03/01/a.mp3.enc", "records/2026/03/01/b.mp3.enc",
		"records/2026/03/02/d.mp3.enc", "records/2026/03/04/c.mp3.enc",
	}
	for run := range 5 {
		var got []string
		err := b.VerifyAll(context.Background(), func(c control.Check) error {
			if c.Status == control.CheckUnindexed {
				got = append(got, c.File)
			} else {
				got = append(got, c.ID+" "+c.Status)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("run %d: %q, want %q", run, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("run %d: %q, want %q", run, got, want)
			}
		}
	}
}

// TestSearchBoundsInclusive: a recording that started exactly at From or
// at To is found, as the vault finds it.
func TestSearchBoundsInclusive(t *testing.T) {
	b := New()
	t0 := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	for i, id := range []string{"1", "2", "3"} {
		b.AddRecording(control.Recording{ID: id, Start: t0.Add(time.Duration(i) * time.Hour)}, nil)
	}
	for _, tt := range []struct {
		q    control.Query
		want string
	}{
		{control.Query{From: t0, To: t0}, "1"},
		{control.Query{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}, "3 2"},
		{control.Query{To: t0.Add(time.Hour - time.Nanosecond)}, "1"},
		{control.Query{From: t0.Add(time.Nanosecond)}, "3 2"},
	} {
		recs, err := b.Search(context.Background(), tt.q)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, r := range recs {
			got += " " + r.ID
		}
		if got != " "+tt.want {
			t.Errorf("search %v..%v = %q, want %q", tt.q.From, tt.q.To, got, tt.want)
		}
	}
}
