package vault

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func writeCredential(t testing.TB, content []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, credentialName), content, 0o400); err != nil {
		t.Fatalf("write credential: %v", err)
	}
	return dir
}

func TestKEKCreatedAndReused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	id := s.KEKID()
	head, audio := fakeMP3(6000)
	rec := record(t, s, Recording{}, head, audio)
	s.Close()

	path := filepath.Join(dir, "keys", "kek")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("kek not created: %v", err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Errorf("kek mode %v size %d, want 0600 and 32", fi.Mode().Perm(), fi.Size())
	}
	kek1 := readFile(t, path)
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "keys", ".*")); len(leftovers) != 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
	for d, want := range map[string]os.FileMode{"records": 0o750, "index": 0o750, "keys": 0o700} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("dir %q: mode %v, err %v; want %v", d, fi.Mode().Perm(), err, want)
		}
	}

	s2 := openTest(t, dir)
	if s2.KEKID() != id {
		t.Errorf("KEK id changed: %s, was %s", s2.KEKID(), id)
	}
	if !bytes.Equal(readFile(t, path), kek1) {
		t.Errorf("kek file rewritten")
	}
	if got, err := exportBytes(s2, rec.ID); err != nil || !bytes.Equal(got, append(head, audio...)) {
		t.Errorf("Export after reopen: %v", err)
	}
}

func TestKEKFromCredentials(t *testing.T) {
	raw := bytes.Repeat([]byte{0xa5}, 32)
	for name, content := range map[string][]byte{
		"raw":              raw,
		"hex":              []byte(hex.EncodeToString(raw)),
		"hex with newline": []byte(hex.EncodeToString(raw) + "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cred := writeCredential(t, content)
			s, err := Open(Config{Dir: dir, CredentialsDir: cred}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			k, _ := newKEK(raw, "test")
			if s.KEKID() != k.idHex() {
				t.Errorf("KEK id %s, want %s", s.KEKID(), k.idHex())
			}
			if _, err := os.Stat(filepath.Join(dir, "keys", "kek")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("keys/kek created with a credential: %v", err)
			}
			rec := record(t, s, Recording{}, []byte("ID3"), []byte("audio"))
			if got, err := exportBytes(s, rec.ID); err != nil || string(got) != "ID3audio" {
				t.Errorf("Export: %q, %v", got, err)
			}
		})
	}
}

func TestKEKCredentialInvalid(t *testing.T) {
	for name, content := range map[string][]byte{
		"short":   make([]byte, 31),
		"long":    make([]byte, 33),
		"not hex": bytes.Repeat([]byte("zz"), 32),
		"empty":   nil,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(Config{Dir: t.TempDir(), CredentialsDir: writeCredential(t, content)}, nil)
			if err == nil {
				t.Errorf("Open with an invalid credential: no error")
			}
		})
	}
}

func TestKEKCredentialsDirWithoutKey(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, CredentialsDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "keys", "kek")); err != nil {
		t.Errorf("no credential: keys/kek not created: %v", err)
	}
}

func TestKEKSwapRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	s.Close()
	// A different credential must not silently start a second key.
	_, err := Open(Config{Dir: dir, CredentialsDir: writeCredential(t, bytes.Repeat([]byte{1}, 32))}, nil)
	if !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open with another KEK: %v, want ErrWrongKey", err)
	}
	// A lost key file must not be replaced by a fresh one.
	path := filepath.Join(dir, "keys", "kek")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{Dir: dir}, nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open with the key file lost: %v, want ErrWrongKey", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new key file was left behind: %v", err)
	}
}

func TestKEKFileInvalid(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "keys"), 0o750)
	writeFile(t, filepath.Join(dir, "keys", "kek"), make([]byte, 16))
	if _, err := Open(Config{Dir: dir}, nil); err == nil {
		t.Errorf("Open with a 16-byte key file: no error")
	}
}

func TestNoKeyMaterialLogged(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Open(Config{Dir: dir}, log)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	record(t, s, Recording{}, []byte("ID3"), make([]byte, 5000))
	s.Close()
	raw := readFile(t, filepath.Join(dir, "keys", "kek"))
	if bytes.Contains(logs.Bytes(), raw) || bytes.Contains(logs.Bytes(), []byte(hex.EncodeToString(raw))) {
		t.Errorf("log contains the KEK")
	}
	if !bytes.Contains(logs.Bytes(), []byte(s.KEKID())) {
		t.Errorf("log does not name the KEK id: %s", logs.String())
	}
}

// TestOpenTightensModes: a data dir left open to others is closed on start.
func TestOpenTightensModes(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"records", "keys"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, d), 0o777)
	}
	os.Chmod(dir, 0o777)
	openTest(t, dir)
	for d, want := range map[string]os.FileMode{".": 0o750, "records": 0o750, "keys": 0o700} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", d, fi.Mode().Perm(), err, want)
		}
	}
}
