package license

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestInstallAndLoad(t *testing.T) {
	dir := t.TempDir()
	data, _, pub := issue(t, acme())
	trusted := []ed25519.PublicKey{pub}

	lic, eval, err := Load(dir, trusted, issued)
	if err != nil || !eval || lic != Evaluation() {
		t.Fatalf("Load with no file = %+v, %v, %v; want the evaluation licence", lic, eval, err)
	}

	got, err := Install(dir, data, trusted, issued)
	if err != nil || got != acme() {
		t.Fatalf("Install = %+v, %v", got, err)
	}
	path := filepath.Join(dir, FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("licence file mode %v, want 0640", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != string(data) {
		t.Errorf("installed file differs from the one given")
	}
	lic, eval, err = Load(dir, trusted, issued)
	if err != nil || eval || lic != acme() {
		t.Errorf("Load = %+v, %v, %v; want ACME's licence", lic, eval, err)
	}

	// A bad file is not installed: the good one stays.
	if _, err := Install(dir, []byte(`{}`), trusted, issued); !errors.Is(err, ErrMalformed) {
		t.Errorf("Install of a bad file = %v", err)
	}
	_, otherPub := GenerateKey()
	if _, err := Install(dir, data, []ed25519.PublicKey{otherPub}, issued); !errors.Is(err, ErrUntrusted) {
		t.Errorf("Install of an untrusted file = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(data) {
		t.Errorf("a refused install changed the file")
	}
}

func TestLoadFallsBackToEvaluation(t *testing.T) {
	dir := t.TempDir()
	data, _, pub := issue(t, acme())
	trusted := []ed25519.PublicKey{pub}
	if _, err := Install(dir, data, trusted, issued); err != nil {
		t.Fatal(err)
	}
	_, otherPub := GenerateKey()
	path := filepath.Join(dir, FileName)

	check := func(name string, trusted []ed25519.PublicKey, now time.Time, want error) {
		t.Helper()
		lic, eval, err := Load(dir, trusted, now)
		if !eval || lic != Evaluation() || !lic.IsEvaluation() {
			t.Errorf("%s: Load = %+v, eval %v; want the evaluation licence", name, lic, eval)
		}
		if err == nil || want != nil && !errors.Is(err, want) {
			t.Errorf("%s: Load error %v, want %v", name, err, want)
		}
	}
	check("expired", trusted, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), ErrExpired)
	check("key no longer trusted", []ed25519.PublicKey{otherPub}, issued, ErrUntrusted)

	os.WriteFile(path, edit(t, data, func(_, l map[string]any) { l["count"] = 800 }), 0o640)
	check("tampered", trusted, issued, ErrBadSignature)

	os.Remove(path)
	os.Mkdir(path, 0o750) // unreadable as a file
	check("unreadable", trusted, issued, nil)
	if _, err := Install(dir, data, trusted, issued); err == nil {
		t.Error("Install over a directory succeeded")
	}
	if lic, eval, err := Load(filepath.Join(dir, "none"), trusted, issued); err != nil || !eval || lic != Evaluation() {
		t.Errorf("Load of a missing data dir = %+v, %v, %v; want the evaluation licence", lic, eval, err)
	}
}
