package vault

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"os"
	"testing"
	"time"
)

// testZone is a fixed non-UTC zone so day dirs and names differ from UTC.
var testZone = time.FixedZone("UTC+2", 2*3600)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(Config{Dir: dir, Location: testZone}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("rand: %v", err)
	}
	return b
}

// fakeMP3 is plaintext that is easy to spot: an ID3 head and frames that
// start with the MPEG sync pattern.
func fakeMP3(n int) (head, audio []byte) {
	head = append([]byte("ID3\x03\x00\x00\x00\x00\x01\x00TIT2\x00\x00\x00\x0e\x00\x00\x002026000000001"),
		bytes.Repeat([]byte{0xff, 0xe3, 0x18, 0xc4, 'I', 'n', 'f', 'o'}, 36)...)
	frame := append([]byte{0xff, 0xe3, 0x18, 0xc4}, bytes.Repeat([]byte("LAME3.100"), 10)...)
	for len(audio) < n {
		audio = append(audio, frame...)
	}
	return head, audio[:n]
}

// record writes one recording with audio through a Writer and seals it.
func record(t testing.TB, s *Store, rec Recording, head, audio []byte) Recording {
	t.Helper()
	if rec.Start.IsZero() {
		rec.Start = time.Date(2026, 11, 25, 17, 1, 2, 0, time.UTC)
	}
	w, err := s.Create(rec.Start)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// Odd-sized writes exercise the buffering.
	for p := audio; len(p) > 0; {
		n := min(len(p), 1000)
		if k, err := w.Write(p[:n]); err != nil || k != n {
			t.Fatalf("Write: %d, %v", k, err)
		}
		p = p[n:]
	}
	out, err := w.Seal(rec, head)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return out
}

func exportBytes(s *Store, id string) ([]byte, error) {
	var b bytes.Buffer
	err := s.Export(id, &b)
	return b.Bytes(), err
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatalf("write: %v", err)
	}
}
