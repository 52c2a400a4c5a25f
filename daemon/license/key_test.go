package license

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPublicKeyRoundTrip(t *testing.T) {
	_, pub := GenerateKey()
	s := FormatPublicKey(pub)
	if !regexp.MustCompile(`^ed25519:[A-Za-z0-9+/]+=*$`).MatchString(s) {
		t.Errorf("public key %q is not ed25519:<base64>", s)
	}
	got, err := ParsePublicKey(s)
	if err != nil || !got.Equal(pub) {
		t.Errorf("ParsePublicKey(%q) = %v, %v", s, got, err)
	}
	enc := strings.TrimPrefix(s, "ed25519:")
	for _, bad := range []string{
		"", enc, "ED25519:" + enc, "rsa:" + enc, "ed25519:" + enc[:len(enc)-4],
		"ed25519:" + strings.TrimRight(enc, "="), "ed25519:" + enc + "AAAA", "ed25519: " + enc,
		"ed25519:" + strings.NewReplacer("+", "-", "/", "_").Replace(enc) + "-_", // URL alphabet
	} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFile)
	priv, _ := GenerateKey()
	if err := WriteKeyFile(path, priv); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("key file is not PEM PRIVATE KEY:\n%s", data)
	}
	got, err := ReadKeyFile(path)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("ReadKeyFile = %v, %v", got, err)
	}

	other, _ := GenerateKey()
	err = WriteKeyFile(path, other)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("WriteKeyFile over a key = %v, want a refusal", err)
	}
	if got, _ := ReadKeyFile(path); !got.Equal(priv) {
		t.Error("the existing key was replaced")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the key dir, want the key alone", len(entries))
	}
}

func TestReadKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadKeyFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key file: %v", err)
	}
	for name, content := range map[string]string{
		"not PEM":     "hello",
		"other type":  "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		"bad DER":     "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"public only": "-----BEGIN PRIVATE KEY-----\nMCowBQYDK2VwAyEA\n-----END PRIVATE KEY-----\n",
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := ReadKeyFile(path); err == nil {
			t.Errorf("%s: ReadKeyFile succeeded", name)
		}
	}
}
