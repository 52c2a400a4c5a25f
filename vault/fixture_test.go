package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The compatibility fixture (FORMAT.md, "Compatibility fixture"): a small
// data dir written by the Writer of format version N and committed under
// testdata/vN. Every later version must read it. With -update,
// TestFixture writes testdata/v<formatVersion> when it does not exist yet
// (a new format version); it never rewrites one (remove it by hand first,
// and only if it was never released). Without -update it reads
// every committed fixture from a copy and checks it against the values
// below, which describe the committed bytes: do not change them (a new
// version that needs other values gets its own).

var updateFixture = flag.Bool("update", false,
	"write the compatibility fixture testdata/v<format version> if it does not exist (only when the format version changes)")

// fixtureKEK is the fixture's key-encryption key: the TEST key bytes
// 0xa0, 0xa1, ..., 0xbf, public in this repository.
var fixtureKEK = func() []byte {
	k := make([]byte, keySize)
	for i := range k {
		k[i] = 0xa0 + byte(i)
	}
	return k
}()

// fixtureZone is the server zone the fixture was written in (day dirs and
// names).
var fixtureZone = time.FixedZone("UTC+2", 2*3600)

const (
	fixtureSealedID = "2026000000001"
	fixturePartID   = "2026000000002"
	// fixtureSealedFile is where the sealed recording lies, relative to the
	// data dir: its contract name in fixtureZone.
	fixtureSealedFile = "records/2026/03/02/2026000000001_20260302113000_jdoe_2501_+15558201320_OUT.mp3.enc"
	fixturePartFile   = "records/2026/03/02/2026000000002.part"
	// fixturePartSegments is how many whole segments the .part holds
	// before its torn last write.
	fixturePartSegments = 1
)

var (
	fixtureSealedStart = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	fixturePartStart   = time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)
)

// fixtureHead is the audio head sealed into the recording: an ID3v2.3 tag
// with a title frame, then a stand-in for the LAME Info frame.
func fixtureHead(title string) []byte {
	frame := append([]byte("TIT2"), 0, 0, 0, byte(1+len(title)), 0, 0, 0)
	frame = append(frame, title...)
	tag := append([]byte("ID3\x03\x00\x00"), 0, 0, 0, byte(len(frame)))
	tag = append(tag, frame...)
	info := append([]byte{0xff, 0xfb, 0x14, 0xc4}, make([]byte, 32)...)
	info = append(info, "Info\x00\x00\x00\x0fLAME3.100"...)
	return append(tag, info...)
}

// fixtureAudio is n bytes of fake MP3 frames: a sync word, then the frame
// number and a counting pattern, so that a misplaced byte shows.
func fixtureAudio(n int) []byte {
	b := make([]byte, 0, n+104)
	for f := 0; len(b) < n; f++ {
		b = append(b, 0xff, 0xfb, 0x14, 0xc4, byte(f>>8), byte(f))
		for i := range 98 {
			b = append(b, byte(f+i))
		}
	}
	return b[:n]
}

// fixtureSealedAudio is the sealed recording's audio (after its head).
func fixtureSealedAudio() []byte { return fixtureAudio(600) }

// fixturePartAudio is what the .part's Writer was given: two whole
// segments and a tail that was never flushed. The second segment is torn.
func fixturePartAudio() []byte { return fixtureAudio(2*segmentSize + 100) }

// fixtureSealedRecording is the metadata given to Seal.
func fixtureSealedRecording() Recording {
	return Recording{
		DurationMS: 150, User: "jdoe", FullName: "John Doe", Extension: "2501",
		Remote: "+15558201320", Direction: "OUT", Codec: "PCMU", CallID: "3c26f0a8-1f2e@10.0.0.1",
		Participants: []Participant{
			{AOR: "sip:2501@pbx.example", Name: "John Doe", Joined: fixtureSealedStart},
			{AOR: "sip:+15558201320@trunk.example", Joined: fixtureSealedStart.Add(10 * time.Millisecond),
				Left: fixtureSealedStart.Add(140 * time.Millisecond)},
		},
		Legs: []LegSummary{
			{Label: "1", Codec: "PCMU", Packets: 8, Late: 1, Concealed: 2},
			{Label: "2", Codec: "PCMU", Packets: 7, ForeignSource: 3, AuthFailed: 1},
		},
		Lost: []LostSpan{{AtMS: 40, DurMS: 52}},
	}
}

// fixtureDrafts are the .part's two drafts, Describe'd in this order (seq
// 1 in slot A, seq 2 in slot B); recovery must take the second.
func fixtureDrafts() []Recording {
	first := Recording{User: "asmith", Extension: "2502", Remote: "+15550000000", Direction: "IN",
		Codec: "PCMA", CallID: "b7e1@10.0.0.2",
		Participants: []Participant{{AOR: "sip:2502@pbx.example", Name: "Anna Smith", Joined: fixturePartStart}}}
	second := first
	second.FullName = "Anna Smith"
	second.Participants = append(first.Participants,
		Participant{AOR: "sip:+15550000000@trunk.example", Joined: fixturePartStart.Add(time.Second)})
	return []Recording{first, second}
}

func TestFixture(t *testing.T) {
	current := filepath.Join("testdata", fmt.Sprintf("v%d", formatVersion))
	if *updateFixture {
		writeFixture(t, current)
	}
	dirs, err := filepath.Glob(filepath.Join("testdata", "v*"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(current); err != nil {
		t.Fatalf("no compatibility fixture for format version %d (%v): run go test ./vault -run TestFixture -update", formatVersion, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkFixture(t, dir) })
	}
}

// writeFixture writes the fixture into dir, unless dir exists, through the
// Writer: one sealed recording, and one .part as a crash leaves it.
func writeFixture(t *testing.T, dir string) {
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Logf("%s exists: not rewritten (a committed fixture never is; a new format version gets a new directory)", dir)
		return
	}
	data := t.TempDir()
	if err := os.MkdirAll(filepath.Join(data, "keys"), dirPerm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "keys", "kek"), fixtureKEK, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Config{Dir: data, Location: fixtureZone, IndexReserve: -1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	w, err := s.Create(fixtureSealedStart)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(fixtureSealedAudio()); err != nil {
		t.Fatal(err)
	}
	rec, err := w.Seal(fixtureSealedRecording(), fixtureHead(fixtureSealedID))
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != fixtureSealedID || rec.File != fixtureSealedFile {
		t.Fatalf("sealed %s as %s, want %s as %s", rec.ID, rec.File, fixtureSealedID, fixtureSealedFile)
	}

	w, err = s.Create(fixturePartStart)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range fixtureDrafts() {
		if err := w.Describe(d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Write(fixturePartAudio()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil { // the unflushed tail is lost, as in a crash
		t.Fatal(err)
	}
	// A crash in the middle of the last segment's write(2): cut it in half.
	part := filepath.Join(data, filepath.FromSlash(fixturePartFile))
	seg := int64(lenSize + segmentSize + tagSize)
	if err := os.Truncate(part, dataOffset+fixturePartSegments*seg+seg/2); err != nil {
		t.Fatal(err)
	}

	copyTree(t, filepath.Join(data, "keys"), filepath.Join(dir, "keys"))
	copyTree(t, filepath.Join(data, "records"), filepath.Join(dir, "records"))
	readme := fmt.Sprintf(`Compatibility fixture of the recording file format, version %d: see
vault/FORMAT.md, "Compatibility fixture". Written by vault/fixture_test.go
(go test ./vault -run TestFixture -update) and never rewritten.

keys/kek is a TEST key (the bytes a0 a1 ... bf), public in this repository:
never use it for real recordings.
`, formatVersion)
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote the compatibility fixture %s", dir)
}

// checkFixture reads a committed fixture, from a copy, with the current
// code: the files, the reindex from them, verify, export, the metadata,
// and the recovery of the .part.
func checkFixture(t *testing.T, fixture string) {
	data := t.TempDir()
	copyTree(t, fixture, data)
	cfg := Config{Dir: data, Location: fixtureZone, IndexReserve: -1}
	sealedPath := filepath.Join(data, filepath.FromSlash(fixtureSealedFile))
	sealed := readFile(t, sealedPath)
	sum := sha256.Sum256(sealed)
	for _, p := range []string{sealedPath, filepath.Join(data, filepath.FromSlash(fixturePartFile))} {
		if b := readFile(t, p); len(b) < headerSize || string(b[:6]) != formatMagic || fmt.Sprintf("v%d", b[6]) != filepath.Base(fixture) {
			t.Errorf("%s: not a %s file (header % x)", p, filepath.Base(fixture), b[:min(len(b), 8)])
		}
	}

	// The index is not part of the fixture: rebuild it from the files.
	rep, err := Reindex(cfg, nil)
	if err != nil {
		t.Fatalf("Reindex: %v", err)
	}
	if rep.Indexed != 1 || len(rep.Failed) != 0 {
		t.Errorf("Reindex: %d indexed, failed %+v; want the sealed recording", rep.Indexed, rep.Failed)
	}

	s, err := Open(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	kekSum := sha256.Sum256(fixtureKEK)
	if got := s.KEKID(); got != hex.EncodeToString(kekSum[:kekIDSize]) {
		t.Errorf("KEK id %s: keys/kek is not the test key", got)
	}

	want := fixtureSealedRecording()
	want.ID, want.Start, want.Status = fixtureSealedID, fixtureSealedStart, StatusComplete
	want.File, want.Size, want.SHA256 = fixtureSealedFile, int64(len(sealed)), hex.EncodeToString(sum[:])
	got, err := s.Get(fixtureSealedID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameRecording(t, "indexed from the head slot", got, want)

	if c, err := s.Verify(fixtureSealedID); err != nil || c.Status != CheckIntact {
		t.Errorf("Verify: %+v, %v", c, err)
	}
	var checks []Check
	if err := s.VerifyAll(func(c Check) error { checks = append(checks, c); return nil }); err != nil {
		t.Fatalf("VerifyAll: %v", err)
	}
	if len(checks) != 1 || checks[0] != (Check{ID: fixtureSealedID, File: fixtureSealedFile, Status: CheckIntact}) {
		t.Errorf("VerifyAll: %+v", checks)
	}
	audio, err := exportBytes(s, fixtureSealedID)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if wantAudio := append(fixtureHead(fixtureSealedID), fixtureSealedAudio()...); !bytes.Equal(audio, wantAudio) {
		t.Errorf("Export: %d bytes, want the %d bytes written (head and audio)", len(audio), len(wantAudio))
	}

	// The .part: the newest draft says who, the whole segments are kept.
	var draft Recording
	head := fixtureHead(fixturePartID)
	res := s.RecoverParts(func(d Recording, audio io.Reader, out io.Writer) (Recording, []byte, error) {
		draft = d
		_, err := io.Copy(out, audio)
		return d, head, err
	})
	if len(res) != 1 || res[0].Err != nil || res[0].Segments != fixturePartSegments {
		t.Fatalf("RecoverParts: %+v, want the .part with %d segment(s)", res, fixturePartSegments)
	}
	wantDraft := fixtureDrafts()[1]
	wantDraft.ID, wantDraft.Start = fixturePartID, fixturePartStart
	sameRecording(t, "draft of the .part", draft, wantDraft)
	rec := res[0].Recording
	if rec.ID != fixturePartID || !rec.Start.Equal(fixturePartStart) || rec.Status != StatusRecovered {
		t.Errorf("recovered: %+v", rec)
	}
	if c, err := s.Verify(fixturePartID); err != nil || c.Status != CheckIntact {
		t.Errorf("Verify of the recovered recording: %+v, %v", c, err)
	}
	audio, err = exportBytes(s, fixturePartID)
	if err != nil {
		t.Fatalf("Export of the recovered recording: %v", err)
	}
	wantAudio := append(head, fixturePartAudio()[:fixturePartSegments*segmentSize]...)
	if !bytes.Equal(audio, wantAudio) {
		t.Errorf("Export of the recovered recording: %d bytes, want %d (head and the whole segments)", len(audio), len(wantAudio))
	}
	if _, err := os.Stat(filepath.Join(data, filepath.FromSlash(fixturePartFile))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(".part still there after its recovery: %v", err)
	}
}

// sameRecording compares two recordings through their JSON, which shows
// what differs.
func sameRecording(t *testing.T, what string, got, want Recording) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, g, w)
	}
}

// copyTree copies the regular files under src to dst, creating
// directories; keys/kek keeps its owner-only mode.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, dirPerm)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if filepath.Base(filepath.Dir(p)) == "keys" {
			mode = 0o600
		}
		return os.WriteFile(to, b, mode)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}
