package vault

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// copyAudio is a RecoverFunc that keeps the salvaged audio as it is and
// uses the draft and head as they are.
func copyAudio(head []byte) RecoverFunc {
	return func(draft Recording, audio io.Reader, out io.Writer) (Recording, []byte, error) {
		_, err := io.Copy(out, audio)
		return draft, head, err
	}
}

// leavePart writes a recording's audio and closes its Writer without
// sealing it, as a crash would leave it (the unflushed tail is lost), and
// returns the .part's path.
func leavePart(t testing.TB, s *Store, start time.Time, draft Recording, audio []byte) (string, string) {
	t.Helper()
	w, err := s.Create(start)
	if err != nil {
		t.Fatal(err)
	}
	if draft.User != "" {
		if err := w.Describe(draft); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Write(audio); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.ID(), w.partPath
}

// TestRecoverTornLastSegment cuts a .part at every byte offset of its last
// segment: recovery keeps exactly the segments before it, or all of them
// when it is whole.
func TestRecoverTornLastSegment(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(3 * segmentSize)
	id, part := leavePart(t, s, time.Date(2026, 11, 25, 17, 1, 2, 0, time.UTC),
		Recording{User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "IN"}, audio)
	orig := readFile(t, part)
	if len(orig) != seg4 {
		t.Fatalf(".part is %d bytes, want %d (three segments)", len(orig), seg4)
	}
	for _, cut := range tornCuts(seg3, seg4) {
		writeFile(t, part, orig[:cut])
		rs := s.RecoverParts(copyAudio(head))
		want := 2
		if cut == seg4 {
			want = 3
		}
		if len(rs) != 1 || rs[0].Err != nil || rs[0].Segments != want || rs[0].Path != part {
			t.Fatalf("cut at %d: RecoverParts = %+v, want one recovery of %d segments", cut, rs, want)
		}
		rec := rs[0].Recording
		if rec.ID != id || rec.Status != StatusRecovered || rec.User != "john_doe" || rec.SHA256 == "" {
			t.Fatalf("cut at %d: recording %+v", cut, rec)
		}
		got, err := exportBytes(s, id)
		if err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio[:want*segmentSize]...)) {
			t.Fatalf("cut at %d: Export: %d bytes, %v", cut, len(got), err)
		}
		if got, err := s.Get(id); err != nil || got.SHA256 != rec.SHA256 || got.File != rec.File {
			t.Fatalf("cut at %d: Get = %+v, %v", cut, got, err)
		}
		// Search walks every version of the re-indexed keys: it grows
		// slower with each cut, so it runs at some.
		if (cut-seg3)%8 == 0 || cut == seg4 {
			if found, err := s.Search(Query{User: "john_doe"}); err != nil || len(found) != 1 || found[0].ID != id {
				t.Fatalf("cut at %d: Search = %v, %v", cut, found, err)
			}
		}
		if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("cut at %d: .part left: %v", cut, err)
		}
		if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(part), "*"+salvageSuffix)); len(leftovers) != 0 {
			t.Fatalf("cut at %d: %v left", cut, leftovers)
		}
		if err := os.Remove(s.Path(rec)); err != nil { // for the next cut
			t.Fatal(err)
		}
	}
}

// tornCuts are the lengths at which the test cuts a last segment that
// spans [from, to]: every byte of its length prefix and of the ends of its
// ciphertext, where a torn write changes what is salvaged, and a prime
// stride through the rest (every offset would take minutes under -race).
func tornCuts(from, to int) []int {
	var cuts []int
	for c := from; c <= to; c++ {
		if c-from < 24 || to-c < 24 || (c-from)%61 == 0 {
			cuts = append(cuts, c)
		}
	}
	return cuts
}

func TestRecoverUsesBestDraft(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(2 * segmentSize)
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.Describe(Recording{User: "alice", Participants: []Participant{{AOR: "sip:2501@pbx"}}})
	w.Describe(Recording{User: "bob"})
	w.Write(audio)
	w.Close()
	f := readFile(t, w.partPath)
	f[draftOffset+draftSlotSize+500] ^= 1 // draft 2 torn
	writeFile(t, w.partPath, f)
	var draft Recording
	rs := s.RecoverParts(func(d Recording, a io.Reader, out io.Writer) (Recording, []byte, error) {
		draft = d
		return copyAudio(head)(d, a, out)
	})
	if len(rs) != 1 || rs[0].Err != nil {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	if draft.User != "alice" || draft.ID != w.ID() || !draft.Start.Equal(w.start) || len(draft.Participants) != 1 {
		t.Errorf("draft = %+v, want alice's", draft)
	}
	if rs[0].Recording.User != "alice" || rs[0].Recording.Status != StatusRecovered {
		t.Errorf("recovered %+v", rs[0].Recording)
	}
}

func TestRecoverWithoutDraftOrAudio(t *testing.T) {
	s := openTest(t, t.TempDir())
	start := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	id, _ := leavePart(t, s, start, Recording{}, nil)
	var draft Recording
	rs := s.RecoverParts(func(d Recording, a io.Reader, out io.Writer) (Recording, []byte, error) {
		draft = d
		return copyAudio(nil)(d, a, out)
	})
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Segments != 0 {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	if !reflect.DeepEqual(draft, Recording{ID: id, Start: start}) {
		t.Errorf("draft = %+v, want only ID and Start", draft)
	}
	if rec := rs[0].Recording; rec.Status != StatusFailed || rec.ID != id || !rec.Start.Equal(start) {
		t.Errorf("recovered %+v, want status failed", rec)
	}
}

// TestRecoverCrashBeforeRename: the crash hit inside Seal after the head
// slot was written, before the draft slots were cleared and the rename.
func TestRecoverCrashBeforeRename(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.Describe(Recording{User: "draft"})
	ff := &faultyFile{recordFile: w.f, fail: func(p []byte, off int64) int {
		if off == draftOffset && len(p) == 2*draftSlotSize {
			return 0 // "crash" right after the head slot
		}
		return -1
	}}
	w.f = ff
	w.Write(audio)
	if _, err := w.Seal(Recording{User: "sealed", Status: StatusComplete}, head); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("Seal: %v", err)
	}
	rs := s.RecoverParts(func(Recording, io.Reader, io.Writer) (Recording, []byte, error) {
		t.Errorf("RecoverFunc called for a complete .part")
		return Recording{}, nil, nil
	})
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Segments != 3 {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	rec := rs[0].Recording
	if rec.User != "sealed" || rec.Status != StatusComplete || !strings.HasSuffix(rec.File, sealedSuffix) {
		t.Errorf("recovered %+v, want the head slot's record", rec)
	}
	if sum, err := fileSHA256(s.Path(rec)); err != nil || sum != rec.SHA256 {
		t.Errorf("SHA256 %q, file %q (%v)", rec.SHA256, sum, err)
	}
	if got, err := s.Get(rec.ID); err != nil || got.SHA256 != rec.SHA256 {
		t.Errorf("indexed %+v, %v", got, err)
	}
	if got, err := exportBytes(s, rec.ID); err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio...)) {
		t.Errorf("Export: %v", err)
	}
}

// TestRecoverHeadSlotButTornAudio: the head slot authenticates but a
// segment does not (power loss lost unsynced data): the audio is salvaged
// and the head slot's metadata kept.
func TestRecoverHeadSlotButTornAudio(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.f = &faultyFile{recordFile: w.f, fail: func(p []byte, off int64) int {
		if off == draftOffset && len(p) == 2*draftSlotSize {
			return 0
		}
		return -1
	}}
	w.Write(audio)
	w.Seal(Recording{User: "sealed", Direction: "OUT"}, head)
	f := readFile(t, w.partPath)
	f[seg2+100] ^= 1
	writeFile(t, w.partPath, f)
	var draft Recording
	rs := s.RecoverParts(func(d Recording, a io.Reader, out io.Writer) (Recording, []byte, error) {
		draft = d
		return copyAudio(head)(d, a, out)
	})
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Segments != 1 {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	if draft.User != "sealed" || draft.Direction != "OUT" || draft.File != "" || draft.Status != "" {
		t.Errorf("draft = %+v, want the head slot's metadata", draft)
	}
	if got, err := exportBytes(s, w.ID()); err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio[:segmentSize]...)) {
		t.Errorf("Export: %v", err)
	}
}

func TestRecoverLeavesLiveWriters(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	live, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	live.Describe(Recording{User: "live"})
	live.Write(audio[:5000])
	before := readFile(t, live.partPath)
	idClosed, _ := leavePart(t, s, time.Now(), Recording{User: "closed"}, audio)

	rs := s.RecoverParts(copyAudio(head))
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Recording.ID != idClosed {
		t.Fatalf("RecoverParts = %+v, want only the closed recording", rs)
	}
	if !bytes.Equal(readFile(t, live.partPath), before) {
		t.Errorf("the live .part was touched")
	}
	live.Write(audio[5000:])
	rec, err := live.Seal(Recording{User: "live"}, head)
	if err != nil || rec.Status != StatusComplete {
		t.Fatalf("Seal of the live recording: %+v, %v", rec, err)
	}
	if got, err := exportBytes(s, rec.ID); err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio...)) {
		t.Errorf("Export of the live recording: %v", err)
	}
}

func TestRecoverUnreadableParts(t *testing.T) {
	dirA := t.TempDir()
	s := openTest(t, dirA)
	other := openTest(t, t.TempDir())
	_, audio := fakeMP3(10_000)
	_, foreign := leavePart(t, other, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Recording{}, audio)
	day := filepath.Join(dirA, "records", "2026", "03", "01")
	if err := os.MkdirAll(day, 0o750); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data []byte
		want error
	}{
		filepath.Join(day, filepath.Base(foreign)):       {readFile(t, foreign), ErrWrongKey},
		filepath.Join(day, "2026000000777.part"):         {bytes.Repeat([]byte{0x42}, 300), ErrCorrupt},
		filepath.Join(day, "2026000000778.part"):         {[]byte("CVAULT"), ErrTruncated},
		filepath.Join(day, "2026000000779_garbage.part"): {[]byte("x"), nil},
	}
	for p, c := range cases {
		writeFile(t, p, c.data)
	}
	rs := s.RecoverParts(copyAudio(nil))
	if len(rs) != len(cases) {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	for _, r := range rs {
		c := cases[r.Path]
		if r.Err == nil || (c.want != nil && !errors.Is(r.Err, c.want)) || r.Recording.ID != "" {
			t.Errorf("%s: %+v, want an error wrapping %v", r.Path, r, c.want)
		}
		if !bytes.Equal(readFile(t, r.Path), c.data) {
			t.Errorf("%s: changed", r.Path)
		}
	}
}

func TestRecoverRemovesStaleSalvage(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	id, part := leavePart(t, s, time.Now(), Recording{User: "u"}, audio)
	stale := filepath.Join(filepath.Dir(part), id+salvageSuffix)
	writeFile(t, stale, []byte("a recovery cut short"))
	rs := s.RecoverParts(copyAudio(head))
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Recording.ID != id {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale .salvage: %v", err)
	}
}

// TestRecoverAfterRecoveryCrash: a crash after the salvaged file was
// sealed but before the .part was removed. The next run must not salvage
// it twice.
func TestRecoverAfterRecoveryCrash(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	id, part := leavePart(t, s, time.Now(), Recording{User: "u"}, audio)
	saved := readFile(t, part)
	first := s.RecoverParts(copyAudio(head))
	if len(first) != 1 || first[0].Err != nil {
		t.Fatalf("RecoverParts = %+v", first)
	}
	writeFile(t, part, saved)
	again := s.RecoverParts(func(Recording, io.Reader, io.Writer) (Recording, []byte, error) {
		t.Errorf("RecoverFunc called again")
		return Recording{}, nil, nil
	})
	if len(again) != 1 || again[0].Err != nil || again[0].Recording.File != first[0].Recording.File || again[0].Recording.SHA256 != first[0].Recording.SHA256 {
		t.Fatalf("second RecoverParts = %+v, want %+v", again, first)
	}
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".part left: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(filepath.Dir(part), id+"*")); len(files) != 1 {
		t.Errorf("files of %s: %v, want the sealed one only", id, files)
	}
}

func TestRecoverFuncFailure(t *testing.T) {
	s := openTest(t, t.TempDir())
	_, audio := fakeMP3(10_000)
	id, part := leavePart(t, s, time.Now(), Recording{User: "u"}, audio)
	boom := errors.New("boom")
	rs := s.RecoverParts(func(Recording, io.Reader, io.Writer) (Recording, []byte, error) { return Recording{}, nil, boom })
	if len(rs) != 1 || !errors.Is(rs[0].Err, boom) {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	if _, err := os.Stat(part); err != nil {
		t.Errorf(".part not left in place: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(filepath.Dir(part), id+"*")); len(files) != 1 {
		t.Errorf("files of %s: %v, want the .part only", id, files)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("indexed: %v", err)
	}
	if rs := s.RecoverParts(nil); len(rs) != 1 || rs[0].Err == nil {
		t.Errorf("RecoverParts(nil) = %+v", rs)
	}
}

// TestRecoverVersion1Part salvages a .part of the previous format (no
// drafts), made by buildFile with its head slot erased. Its final segment
// is there: the walk ends on it.
func TestRecoverVersion1Part(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	head, audio := fakeMP3(10_000)
	f := buildFile(t, readFile(t, filepath.Join(dir, "keys", "kek")), randomBytes(t, keySize), 2026000000500, headSlotSize, segmentSize, nil, nil, audio)
	clear(f[headerSize : headerSize+slotCTSize])
	day := filepath.Join(dir, "records", "2023", "11", "15")
	if err := os.MkdirAll(day, 0o750); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(day, "2026000000500.part")
	writeFile(t, part, f)
	rs := s.RecoverParts(copyAudio(head))
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Segments != 3 {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	rec := rs[0].Recording
	if rec.ID != "2026000000500" || !rec.Start.Equal(time.Unix(0, 1_700_000_000_000_000_000)) || !strings.HasPrefix(rec.File, "records/2023/11/15/") {
		t.Errorf("recovered %+v", rec)
	}
	if got, err := exportBytes(s, rec.ID); err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio...)) {
		t.Errorf("Export: %v", err)
	}
}

// BenchmarkRecoverParts salvages 100 .parts of 60 s (240 KB) each.
func BenchmarkRecoverParts(b *testing.B) {
	s := openTest(b, b.TempDir())
	head, audio := fakeMP3(60 * 4000)
	const parts = 100
	b.SetBytes(parts * int64(len(audio)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for range parts {
			leavePart(b, s, time.Now(), Recording{User: "john_doe", Extension: "2501"}, audio)
		}
		b.StartTimer()
		rs := s.RecoverParts(copyAudio(head))
		if len(rs) != parts {
			b.Fatalf("%d recovered, want %d", len(rs), parts)
		}
		for _, r := range rs {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}
