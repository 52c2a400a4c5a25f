package vault

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDestroyShredsTheKeyFirst: a destroyed recording is gone, and a copy
// of its blocks that outlived the removal (here a hard link) holds zeros
// where the wrapped data key was, so nothing opens it, recovery included.
func TestDestroyShredsTheKeyFirst(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	w, err := s.Create(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	_, audio := fakeMP3(3 * segmentSize)
	if _, err := w.Write(audio); err != nil {
		t.Fatal(err)
	}
	ghost := filepath.Join(t.TempDir(), "ghost")
	if err := os.Link(w.partPath, ghost); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := w.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := os.Stat(w.partPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf(".part after Destroy: %v", err)
	}
	b := readFile(t, ghost)
	if !bytes.Equal(b[identitySize:headerSize], make([]byte, headerSize-identitySize)) {
		t.Fatal("the key block survives Destroy")
	}
	// Put the shredded file back as a .part: recovery cannot open it and
	// leaves it, saying why.
	part := filepath.Join(filepath.Dir(w.partPath), w.ID()+partSuffix)
	writeFile(t, part, b)
	rs := s.RecoverParts(copyAudio(nil))
	if len(rs) != 1 || rs[0].Err == nil || rs[0].Destroyed {
		t.Fatalf("RecoverParts of a shredded .part = %+v, want an error", rs)
	}
	if recs, err := s.Search(Query{}); err != nil || len(recs) != 0 {
		t.Fatalf("index after Destroy: %+v, %v", recs, err)
	}
	if err := w.Destroy(); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
}

// TestRecoveryDestroysUnkeptLiveKeep: a crash during a Live Keep call not
// kept leaves a .part whose draft says KeepPending: recovery destroys it
// instead of recovering it; once kept (a newer draft without the mark) it
// is recovered like any call.
func TestRecoveryDestroysUnkeptLiveKeep(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	_, audio := fakeMP3(2 * segmentSize)
	start := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	unkept := Recording{User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "OUT", KeepPending: true}
	_, part := leavePart(t, s, start, unkept, audio)

	w, err := s.Create(start)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Describe(unkept); err != nil {
		t.Fatal(err)
	}
	kept := unkept
	kept.KeepPending = false
	if err := w.Describe(kept); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(audio); err != nil {
		t.Fatal(err)
	}
	keptID := w.ID()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	rs := s.RecoverParts(copyAudio(nil))
	if len(rs) != 2 {
		t.Fatalf("RecoverParts = %+v, want two results", rs)
	}
	for _, r := range rs {
		switch r.Path {
		case part:
			if !r.Destroyed || r.Err != nil || r.Recording.ID != "" {
				t.Errorf("unkept live keep .part: %+v, want destroyed", r)
			}
		default:
			if r.Destroyed || r.Err != nil || r.Recording.ID != keptID || r.Recording.KeepPending {
				t.Errorf("kept live keep .part: %+v, want recovered", r)
			}
		}
	}
	if _, err := os.Stat(part); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unkept .part still there: %v", err)
	}
	recs, err := s.Search(Query{})
	if err != nil || len(recs) != 1 || recs[0].ID != keptID {
		t.Fatalf("index = %+v, %v; want only the kept call", recs, err)
	}
}
