package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
}

func TestFileHasNoPlaintext(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(50_000)
	rec := record(t, s, Recording{User: "john_doe", Extension: "2501", Remote: "+15551234", Direction: "IN", FullName: "John Doe"}, head, audio)
	data := readFile(t, s.Path(rec))
	for _, needle := range [][]byte{[]byte("ID3"), []byte("LAME"), []byte("Info"), []byte("john"), []byte("John Doe"), []byte("+15551234"), {0xff, 0xe3, 0x18, 0xc4}} {
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
	big := Recording{FullName: strings.Repeat("x", 9000)}
	if _, err := w.Seal(big, head); !errors.Is(err, ErrHeadSlotFull) {
		t.Fatalf("Seal with 9000-byte name: %v, want ErrHeadSlotFull", err)
	}
	if _, err := w.Seal(Recording{}, make([]byte, 8192)); !errors.Is(err, ErrHeadSlotFull) {
		t.Fatalf("Seal with 8192-byte head: %v, want ErrHeadSlotFull", err)
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
