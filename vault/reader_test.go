package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"
)

func TestTamper(t *testing.T) {
	s := openTest(t, t.TempDir())
	head, audio := fakeMP3(10_000)
	a := record(t, s, Recording{User: "a"}, head, audio)
	b := record(t, s, Recording{User: "b"}, head, audio)
	pathA := s.Path(a)
	orig := readFile(t, pathA)
	other := readFile(t, s.Path(b))
	// A file with 10,000 audio bytes: three segments, the last (final)
	// one holding 1808 bytes.
	if len(orig) != seg3+lenSize+1808+tagSize {
		t.Fatalf("file size %d, layout assumption broken", len(orig))
	}
	flip := func(off int) func([]byte) []byte {
		return func(f []byte) []byte { f[off] ^= 0x01; return f }
	}
	cut := func(n int) func([]byte) []byte {
		return func(f []byte) []byte { return f[:n] }
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"flip segment 2", flip(seg2 + lenSize + 100), ErrCorrupt},
		{"flip segment 1 tag", flip(seg2 - 1), ErrCorrupt},
		{"flip final segment", flip(seg3 + lenSize), ErrCorrupt},
		{"flip segment length", flip(seg1 + 2), ErrCorrupt},
		{"flip head slot", flip(headerSize + 200), ErrCorrupt},
		{"flip head slot tag", flip(draftOffset - 1), ErrCorrupt},
		{"flip draft slot A seq", flip(draftOffset + 7), ErrCorrupt},
		{"flip draft slot A", flip(draftOffset + 100), ErrCorrupt},
		{"flip draft slot B", flip(draftOffset + draftSlotSize + 100), ErrCorrupt},
		{"flip draft slot B last byte", flip(dataOffset - 1), ErrCorrupt},
		{"flip header magic", flip(0), ErrCorrupt},
		{"flip header version", flip(6), ErrCorrupt},
		{"flip header flags", flip(7), ErrCorrupt},
		{"flip header record id", flip(15), ErrCorrupt},
		{"flip header start", flip(23), ErrCorrupt},
		{"flip header head slot size", flip(27), ErrCorrupt},
		{"flip header segment size", flip(31), ErrCorrupt},
		{"flip header key id", flip(33), ErrWrongKey},
		{"flip header wrap nonce", flip(45), ErrCorrupt},
		{"flip header wrapped key", flip(60), ErrCorrupt},
		{"flip header last byte", flip(headerSize - 1), ErrCorrupt},
		{"truncate last segment", cut(seg3), ErrTruncated},
		{"truncate inside last segment", cut(seg3 + 100), ErrTruncated},
		{"truncate last byte", cut(len(orig) - 1), ErrTruncated},
		{"truncate inside length", cut(seg2 + 2), ErrTruncated},
		{"truncate to first segment", cut(dataOffset), ErrTruncated},
		{"truncate inside draft slots", cut(draftOffset + 10), ErrTruncated},
		{"truncate to draft slots", cut(draftOffset), ErrTruncated},
		{"truncate inside head slot", cut(headerSize + 10), ErrTruncated},
		{"truncate inside header", cut(50), ErrTruncated},
		{"empty file", cut(0), ErrTruncated},
		{"swap segments 1 and 2", func(f []byte) []byte {
			s1 := bytes.Clone(f[seg1:seg2])
			copy(f[seg1:seg2], f[seg2:seg3])
			copy(f[seg2:seg3], s1)
			return f
		}, ErrCorrupt},
		{"drop segment 2", func(f []byte) []byte {
			return append(f[:seg2:seg2], f[seg3:]...)
		}, ErrCorrupt},
		{"repeat segment 1", func(f []byte) []byte {
			return append(f[:seg2:seg2], f[seg1:]...)
		}, ErrCorrupt},
		{"splice segment 2 from another recording", func(f []byte) []byte {
			copy(f[seg2:seg3], other[seg2:seg3])
			return f
		}, ErrCorrupt},
		{"splice final segment from another recording", func(f []byte) []byte {
			copy(f[seg3:], other[seg3:])
			return f
		}, ErrCorrupt},
		{"splice head slot from another recording", func(f []byte) []byte {
			copy(f[headerSize:draftOffset], other[headerSize:draftOffset])
			return f
		}, ErrCorrupt},
		{"splice key block from another recording", func(f []byte) []byte {
			copy(f[identitySize:headerSize], other[identitySize:headerSize])
			return f
		}, ErrCorrupt},
		{"header of another recording", func(f []byte) []byte {
			copy(f[:headerSize], other[:headerSize])
			return f
		}, ErrCorrupt},
		{"trailing garbage", func(f []byte) []byte { return append(f, 1, 2, 3) }, ErrCorrupt},
		{"trailing zero segment", func(f []byte) []byte { return append(f, make([]byte, 20)...) }, ErrCorrupt},
		{"head slot erased", func(f []byte) []byte {
			clear(f[headerSize:draftOffset])
			return f
		}, ErrTruncated},
		{"version 1 in the identity", func(f []byte) []byte {
			f[6] = formatVersion1
			return f
		}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, pathA, tt.mutate(bytes.Clone(orig)))
			_, err := exportBytes(s, a.ID)
			if err == nil {
				t.Fatalf("Export of a tampered file: no error")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Export: %v, want %v", err, tt.want)
			}
		})
	}
	writeFile(t, pathA, orig)
	if _, err := exportBytes(s, a.ID); err != nil {
		t.Errorf("Export of the restored file: %v", err)
	}
}

func TestExportUnsealedPart(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	w, err := s.Create(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	defer w.Abort()
	_, audio := fakeMP3(9000)
	w.Write(audio)
	part := filepath.Join(dir, "records/2026/03/04", w.ID()+".part")
	_, err = s.ExportFile(part, io.Discard)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("ExportFile of a .part: %v, want ErrTruncated", err)
	}
}

func TestExportWrongKEK(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a := openTest(t, dirA)
	b := openTest(t, dirB)
	head, audio := fakeMP3(5000)
	rec := record(t, a, Recording{}, head, audio)
	if _, err := b.ExportFile(a.Path(rec), io.Discard); !errors.Is(err, ErrWrongKey) {
		t.Errorf("ExportFile under another KEK: %v, want ErrWrongKey", err)
	}
}

func TestExportMissingFile(t *testing.T) {
	s := openTest(t, t.TempDir())
	rec := record(t, s, Recording{}, nil, []byte("x"))
	if err := os.Remove(s.Path(rec)); err != nil {
		t.Fatal(err)
	}
	if _, err := exportBytes(s, rec.ID); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Export of a removed file: %v", err)
	}
	if _, err := exportBytes(s, "2026999999999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Export of an unknown id: %v", err)
	}
}

// TestReadVersion1 reads version 1 files (no draft slots) written by
// buildFile, the independent encoder, through ExportFile and Export.
func TestReadVersion1(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	kekRaw := readFile(t, filepath.Join(dir, "keys", "kek"))
	head, audio := fakeMP3(10_000)
	rec := Recording{ID: "2026000000500", Start: time.Unix(0, 1_700_000_000_000_000_000).UTC(), User: "v1", Status: StatusComplete}
	rec.File = relPath(rec, rec.Start, testZone)
	meta, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	f := buildFile(t, kekRaw, randomBytes(t, keySize), 2026000000500, headSlotSize, segmentSize, meta, head, audio)
	if f[6] != formatVersion1 {
		t.Fatalf("fixture is version %d", f[6])
	}
	if err := ensureDir(dir, path.Dir(rec.File)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.Path(rec), f)
	var out bytes.Buffer
	got, err := s.ExportFile(s.Path(rec), &out)
	if err != nil {
		t.Fatalf("ExportFile of a version 1 file: %v", err)
	}
	if got.User != "v1" || !bytes.Equal(out.Bytes(), append(bytes.Clone(head), audio...)) {
		t.Errorf("ExportFile: %+v, %d bytes", got, out.Len())
	}
	if err := s.index(rec); err != nil {
		t.Fatal(err)
	}
	if b, err := exportBytes(s, rec.ID); err != nil || !bytes.Equal(b, out.Bytes()) {
		t.Errorf("Export of a version 1 file: %v", err)
	}
	// Its last byte flipped: still authenticated.
	f[len(f)-1] ^= 1
	writeFile(t, s.Path(rec), f)
	if _, err := exportBytes(s, rec.ID); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Export of a tampered version 1 file: %v", err)
	}
}

func TestHeaderVersions(t *testing.T) {
	h := header{recordID: 2026000000001, headSlot: headSlotSize, segment: segmentSize}
	b := h.marshal()
	if b[6] != formatVersion {
		t.Fatalf("marshal writes version %d, want %d", b[6], formatVersion)
	}
	for _, v := range []byte{0, formatVersion + 1, 0xff} {
		b[6] = v
		if _, err := parseHeader(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("version %d: %v, want ErrCorrupt", v, err)
		}
	}
	for v, want := range map[byte]layout{
		formatVersion1: {data: headerSize + slotCTSize},
		formatVersion:  {drafts: draftOffset, data: dataOffset},
	} {
		b[6] = v
		h, err := parseHeader(b)
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		if got := h.layout(); got != want {
			t.Errorf("version %d: layout %+v, want %+v", v, got, want)
		}
	}
	if dataOffset != 16500 {
		t.Errorf("dataOffset = %d, FORMAT.md says 16500", dataOffset)
	}
}
