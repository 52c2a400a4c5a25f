package vault

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir())
	for _, n := range []int{0, 1, 4095, 4096, 4097, 3 * 4096, 10_240, 100_000} {
		head, audio := fakeMP3(n)
		rec := record(t, s, Recording{User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "IN", Codec: "mp3"}, head, audio)
		got, err := exportBytes(s, rec.ID)
		if err != nil {
			t.Fatalf("%d bytes: Export: %v", n, err)
		}
		if want := append(bytes.Clone(head), audio...); !bytes.Equal(got, want) {
			t.Errorf("%d bytes: export differs: got %d bytes, want %d", n, len(got), len(want))
		}
	}
}

func TestSealFillsRecording(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	start := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC) // 01:30 on the 26th in testZone
	head, audio := fakeMP3(10_000)
	rec := record(t, s, Recording{Start: start, User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "OUT", Participants: []Participant{{AOR: "sip:2501@pbx"}}}, head, audio)
	if rec.ID != "2026000000001" {
		t.Errorf("ID = %q, want 2026000000001", rec.ID)
	}
	if rec.Status != StatusComplete {
		t.Errorf("Status = %q", rec.Status)
	}
	wantFile := "records/2026/11/26/2026000000001_20261126013000_john_doe_2501_+15551234_OUT.mp3.enc"
	if rec.File != wantFile {
		t.Errorf("File = %q, want %q", rec.File, wantFile)
	}
	fi, err := os.Stat(s.Path(rec))
	if err != nil {
		t.Fatalf("stat sealed file: %v", err)
	}
	if fi.Size() != rec.Size {
		t.Errorf("Size = %d, file has %d", rec.Size, fi.Size())
	}
	if s.Path(rec) != filepath.Join(s.Dir(), filepath.FromSlash(wantFile)) {
		t.Errorf("Path = %q", s.Path(rec))
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "records/2026/11/26/*.part")); len(parts) != 0 {
		t.Errorf(".part left: %v", parts)
	}
	di, err := os.Stat(filepath.Join(dir, "records/2026/11/26"))
	if err != nil || di.Mode().Perm() != 0o750 {
		t.Errorf("day dir: %v %v", di.Mode(), err)
	}
	got, err := s.Get(rec.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.File != rec.File || !got.Start.Equal(start) || len(got.Participants) != 1 || got.Start.Location() != time.UTC {
		t.Errorf("Get = %+v, want %+v", got, rec)
	}
	var b bytes.Buffer
	meta, err := s.ExportFile(s.Path(rec), &b)
	if err != nil {
		t.Fatalf("ExportFile: %v", err)
	}
	if meta.ID != rec.ID || meta.File != rec.File || meta.Size != rec.Size {
		t.Errorf("head slot metadata = %+v", meta)
	}
	sum, err := fileSHA256(s.Path(rec))
	if err != nil {
		t.Fatal(err)
	}
	if rec.SHA256 != sum || got.SHA256 != sum {
		t.Errorf("SHA256: returned %q, indexed %q, file %q", rec.SHA256, got.SHA256, sum)
	}
	if meta.SHA256 != "" {
		t.Errorf("head slot holds a SHA256 %q: a file cannot hold its own hash", meta.SHA256)
	}
}

func TestFileHasNoPlaintext(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(50_000)
	rec := record(t, s, Recording{User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "IN", FullName: "John Doe"}, head, audio)
	data := readFile(t, s.Path(rec))
	// Needles of 4 bytes and more: a 3-byte one ("ID3") turns up in ~60 KB
	// of ciphertext by chance once in about 300 runs. The tag's whole
	// 10-byte header stands for it.
	for _, needle := range [][]byte{head[:10], []byte("LAME"), []byte("Info"), []byte("john"), []byte("John Doe"), []byte("+15551234"), {0xff, 0xe3, 0x18, 0xc4}} {
		if bytes.Contains(data, needle) {
			t.Errorf("file contains plaintext %q", needle)
		}
	}
	// Any 16-byte window of the audio would be a leak.
	for i := 0; i+16 <= len(audio); i += 997 {
		if bytes.Contains(data, audio[i:i+16]) {
			t.Fatalf("file contains audio bytes at %d", i)
		}
	}
}

func TestAbort(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	w, err := s.Create(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	w.Write(make([]byte, 9000))
	part := filepath.Join(dir, "records/2026/01/02", w.ID()+".part")
	if _, err := os.Stat(part); err != nil {
		t.Fatalf(".part missing: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".part still there: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Abort: %v", err)
	}
	if _, err := s.Get(w.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get aborted: %v", err)
	}
}

func TestSealTwice(t *testing.T) {
	s := openTest(t, t.TempDir())
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := w.Seal(Recording{}, nil); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if _, err := w.Seal(Recording{}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("second Seal: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Seal: %v", err)
	}
	if err := w.Abort(); err == nil {
		t.Errorf("Abort after Seal: no error")
	}
}

func TestSealWrongID(t *testing.T) {
	s := openTest(t, t.TempDir())
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	defer w.Abort()
	if _, err := w.Seal(Recording{ID: "2000000000001"}, nil); err == nil {
		t.Errorf("Seal with a foreign id: no error")
	}
}

func TestHeadSlotFull(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(5000)
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	w.Write(audio)
	if _, err := w.Seal(Recording{User: "john_doe"}, make([]byte, 8192)); !errors.Is(err, ErrHeadSlotFull) {
		t.Fatalf("Seal with an 8192-byte audio head: %v, want ErrHeadSlotFull", err)
	}
	// The Writer is still usable.
	rec, err := w.Seal(Recording{FullName: "short"}, head)
	if err != nil {
		t.Fatalf("Seal after ErrHeadSlotFull: %v", err)
	}
	got, err := exportBytes(s, rec.ID)
	if err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio...)) {
		t.Errorf("Export after retry: %v", err)
	}
}

func TestSealAfterClose(t *testing.T) {
	s := openTest(t, t.TempDir())
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	s.Close()
	rec, err := w.Seal(Recording{}, nil)
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Seal after Close: %v", err)
	}
	if _, serr := os.Stat(s.Path(rec)); serr != nil {
		t.Errorf("file not sealed on disk: %v", serr)
	}
	if _, err := s.Create(time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close: %v", err)
	}
}

// faultyFile is a Writer's file that fails as a full disk does: fail says,
// for each WriteAt, how many bytes reach the disk before ENOSPC (negative:
// the write succeeds). It records whether the Writer closed it.
type faultyFile struct {
	recordFile
	fail   func(p []byte, off int64) int
	closed bool
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fail != nil {
		if k := f.fail(p, off); k >= 0 {
			n, _ := f.recordFile.WriteAt(p[:k], off)
			return n, syscall.ENOSPC
		}
	}
	return f.recordFile.WriteAt(p, off)
}

func (f *faultyFile) Close() error {
	f.closed = true
	return f.recordFile.Close()
}

// diskFullFrom makes every write at or beyond off fail after k bytes.
func diskFullFrom(off int64, k int) func([]byte, int64) int {
	return func(_ []byte, at int64) int {
		if at >= off {
			return k
		}
		return -1
	}
}

// Segment records (length prefix, 4096 bytes, tag) of a written file.
const (
	segRecord = lenSize + segmentSize + tagSize
	seg1      = dataOffset
	seg2      = seg1 + segRecord
	seg3      = seg2 + segRecord
	seg4      = seg3 + segRecord
)

// partDraft reads the best draft of a .part file, as recovery does.
func partDraft(t *testing.T, s *Store, part string) (Recording, bool) {
	t.Helper()
	f := readFile(t, part)
	h, raw, aead, err := readHeader(bytes.NewReader(f), s.kek, 0)
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	lay := h.layout()
	meta := bestDraft(bytes.Clone(f[lay.drafts:lay.data]), aead, raw[:identitySize])
	if meta == nil {
		return Recording{}, false
	}
	var rec Recording
	if err := json.Unmarshal(meta, &rec); err != nil {
		t.Fatalf("draft JSON: %v", err)
	}
	return rec, true
}

func TestCreatePreallocatesSlots(t *testing.T) {
	s := openTest(t, t.TempDir())
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	fi, err := os.Stat(w.partPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != dataOffset {
		t.Errorf(".part is %d bytes after Create, want %d (header, head slot, drafts)", fi.Size(), dataOffset)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 < dataOffset {
		t.Errorf(".part has %d bytes of disk blocks, want at least %d: the slots are holes", st.Blocks*512, dataOffset)
	}
	if err := w.Describe(Recording{User: "john_doe"}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(w.partPath); fi.Size() != dataOffset {
		t.Errorf(".part grew to %d bytes with a draft", fi.Size())
	}
}

func TestDescribeDrafts(t *testing.T) {
	s := openTest(t, t.TempDir())
	start := time.Date(2026, 5, 6, 7, 8, 9, 0, testZone)
	w, err := s.Create(start)
	if err != nil {
		t.Fatal(err)
	}
	part := w.partPath
	if d, ok := partDraft(t, s, part); ok {
		t.Fatalf("draft before any Describe: %+v", d)
	}
	describe := func(user string) {
		t.Helper()
		if err := w.Describe(Recording{User: user, Participants: []Participant{{AOR: "sip:" + user + "@pbx"}}, Size: 5, File: "x"}); err != nil {
			t.Fatalf("Describe %s: %v", user, err)
		}
	}
	describe("alice") // seq 1, slot A
	describe("bob")   // seq 2, slot B
	d, ok := partDraft(t, s, part)
	if !ok || d.User != "bob" || d.ID != w.ID() || !d.Start.Equal(start) || d.Start.Location() != time.UTC || len(d.Participants) != 1 {
		t.Fatalf("draft after two Describes = %+v, %v", d, ok)
	}
	if d.File != "" || d.Size != 0 || d.Status != "" {
		t.Errorf("draft holds File %q, Size %d, Status %q", d.File, d.Size, d.Status)
	}
	// A torn write of draft 2 destroys slot B only: draft 1 (slot A) wins.
	f := readFile(t, part)
	f[draftOffset+draftSlotSize+100] ^= 0x40
	writeFile(t, part, f)
	if d, ok := partDraft(t, s, part); !ok || d.User != "alice" {
		t.Fatalf("draft with slot B torn = %+v, %v; want alice's", d, ok)
	}
	describe("carol") // seq 3, slot A
	if d, ok := partDraft(t, s, part); !ok || d.User != "carol" {
		t.Fatalf("draft after the third Describe = %+v, %v", d, ok)
	}
	if err := w.Describe(Recording{ID: "2000000000001"}); err == nil {
		t.Errorf("Describe with a foreign id: no error")
	}
	head, audio := fakeMP3(9000)
	w.Write(audio)
	rec, err := w.Seal(Recording{User: "carol"}, head)
	if err != nil {
		t.Fatal(err)
	}
	sealed := readFile(t, s.Path(rec))
	if !allZero(sealed[draftOffset:dataOffset]) {
		t.Errorf("draft slots of the sealed file not cleared")
	}
	if err := w.Describe(Recording{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Describe after Seal: %v, want ErrClosed", err)
	}
}

func TestWriteFailureSealsInPlace(t *testing.T) {
	for _, tc := range []struct{ said, want string }{
		{"", StatusRecovered},
		{StatusComplete, StatusRecovered},
		{StatusFailed, StatusFailed},
	} {
		t.Run("status "+tc.said, func(t *testing.T) {
			s := openTest(t, t.TempDir())
			head, audio := fakeMP3(20_000)
			w, err := s.Create(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ff := &faultyFile{recordFile: w.f, fail: diskFullFrom(seg3, 1000)} // segment 3 torn after 1000 bytes
			w.f = ff
			n, err := w.Write(audio)
			if !errors.Is(err, syscall.ENOSPC) || n != 3*segmentSize {
				t.Fatalf("Write on a full disk: %d, %v; want %d, ENOSPC", n, err, 3*segmentSize)
			}
			if w.Err() != err {
				t.Errorf("Err = %v, want %v", w.Err(), err)
			}
			if n, err2 := w.Write([]byte{1}); n != 0 || err2 != err {
				t.Errorf("Write after the failure: %d, %v", n, err2)
			}
			ff.fail = nil // space returns
			rec, err := w.Seal(Recording{User: "john_doe", Status: tc.said}, head)
			if err != nil {
				t.Fatalf("Seal in place: %v", err)
			}
			if rec.Status != tc.want {
				t.Errorf("Status = %q, want %q", rec.Status, tc.want)
			}
			got, err := exportBytes(s, rec.ID)
			if err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio[:3*segmentSize]...)) {
				t.Errorf("Export: %d bytes, %v; want the audio head and the first %d audio bytes", len(got), err, 3*segmentSize)
			}
			if fi, err := os.Stat(s.Path(rec)); err != nil || fi.Size() != rec.Size {
				t.Errorf("sealed file: %v, size %d, want %d", err, fi.Size(), rec.Size)
			}
			if !ff.closed {
				t.Errorf("file not closed")
			}
		})
	}
}

func TestSealFailureKeepsPart(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(20_000)
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Describe(Recording{User: "john_doe"}); err != nil {
		t.Fatal(err)
	}
	ff := &faultyFile{recordFile: w.f, fail: diskFullFrom(seg3, 1000)} // and the disk stays full
	w.f = ff
	if _, err := w.Write(audio); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write: %v", err)
	}
	_, err = w.Seal(Recording{User: "john_doe"}, head)
	if !errors.Is(err, ErrNotSealed) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Seal on a full disk: %v, want ErrNotSealed and ENOSPC", err)
	}
	if !ff.closed {
		t.Errorf("file left open after the failed Seal")
	}
	if _, serr := os.Stat(w.partPath); serr != nil {
		t.Fatalf(".part not kept: %v", serr)
	}
	if !errors.Is(w.Err(), ErrNotSealed) {
		t.Errorf("Err = %v", w.Err())
	}
	if _, err := w.Seal(Recording{}, head); !errors.Is(err, ErrNotSealed) {
		t.Errorf("second Seal: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrNotSealed) {
		t.Errorf("Write after the failed Seal: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after the failed Seal: %v", err)
	}
	// Recovery keeps the two segments that reached the disk.
	rs := s.RecoverParts(copyAudio(head))
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Segments != 2 || rs[0].Recording.Status != StatusRecovered || rs[0].Recording.User != "john_doe" {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	got, err := exportBytes(s, w.ID())
	if err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio[:2*segmentSize]...)) {
		t.Errorf("Export of the recovered recording: %d bytes, %v", len(got), err)
	}
}

func TestSealRenameFailureKeepsPart(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	w, err := s.Create(time.Date(2026, 11, 25, 17, 1, 2, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	ff := &faultyFile{recordFile: w.f}
	w.f = ff
	w.Write(audio)
	rec := Recording{User: "john_doe", Extension: "2501", Direction: "IN"}
	// A directory where the sealed file goes makes the rename fail.
	block := s.Path(Recording{ID: w.ID(), Start: w.start, User: rec.User, Extension: rec.Extension, Direction: rec.Direction})
	if err := os.MkdirAll(filepath.Join(block, "x"), 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Seal(rec, head); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("Seal with the rename blocked: %v, want ErrNotSealed", err)
	}
	if !ff.closed {
		t.Errorf("file left open")
	}
	if err := os.RemoveAll(block); err != nil {
		t.Fatal(err)
	}
	// The .part is complete: recovery only renames and indexes it.
	rs := s.RecoverParts(func(Recording, io.Reader, io.Writer) (Recording, []byte, error) {
		t.Errorf("RecoverFunc called for a complete .part")
		return Recording{}, nil, nil
	})
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Recording.Status != StatusComplete || rs[0].Segments != 3 {
		t.Fatalf("RecoverParts = %+v", rs)
	}
	if sum, _ := fileSHA256(block); rs[0].Recording.SHA256 != sum {
		t.Errorf("SHA256 %q, file %q", rs[0].Recording.SHA256, sum)
	}
	if got, err := exportBytes(s, w.ID()); err != nil || !bytes.Equal(got, append(bytes.Clone(head), audio...)) {
		t.Errorf("Export: %v", err)
	}
}

func TestCloseKeepsPart(t *testing.T) {
	s := openTest(t, t.TempDir())
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 5000))
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(w.partPath); err != nil {
		t.Fatalf(".part removed by Close: %v", err)
	}
	if w.s.live.has(w.partPath) {
		t.Errorf("closed .part still live")
	}
	if _, err := w.Seal(Recording{}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Seal after Close: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := w.Describe(Recording{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Describe after Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Close: %v", err)
	}
	if _, err := os.Stat(w.partPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Abort after Close left the .part: %v", err)
	}
}

// nonceLog wraps a data key's AEAD and records every nonce it seals with.
type nonceLog struct {
	cipher.AEAD
	used []string
}

func (a *nonceLog) Seal(dst, nonce, plaintext, aad []byte) []byte {
	a.used = append(a.used, fmt.Sprintf("%d/%#x", binary.BigEndian.Uint64(nonce[:8]), nonce[11]))
	return a.AEAD.Seal(dst, nonce, plaintext, aad)
}

// TestNoncesUsedOnce runs a Writer through drafts, a failed segment write
// and a Seal in place, and checks that no nonce was used twice.
func TestNoncesUsedOnce(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(20_000)
	w, err := s.Create(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	log := &nonceLog{AEAD: w.aead}
	w.aead = log
	ff := &faultyFile{recordFile: w.f}
	w.f = ff
	w.Describe(Recording{User: "a"})
	w.Describe(Recording{User: "b"})
	ff.fail = diskFullFrom(draftOffset, 10) // the third draft is torn too
	if err := w.Describe(Recording{User: "c"}); err == nil {
		t.Fatalf("Describe on a full disk: no error")
	}
	ff.fail = diskFullFrom(seg4, 0)
	if _, err := w.Write(audio); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write: %v", err)
	}
	ff.fail = nil
	w.Describe(Recording{User: "d"})
	if _, err := w.Seal(Recording{}, head); err != nil {
		t.Fatalf("Seal in place: %v", err)
	}
	want := []string{"1/0x3", "2/0x3", "3/0x3", "1/0x0", "2/0x0", "3/0x0", "4/0x0", "4/0x3", "4/0x1", "0/0x2"}
	if fmt.Sprint(log.used) != fmt.Sprint(want) {
		t.Errorf("nonces (counter/flag) = %v, want %v", log.used, want)
	}
	seen := map[string]bool{}
	for _, n := range log.used {
		if seen[n] {
			t.Errorf("nonce %s used twice", n)
		}
		seen[n] = true
	}
}
