package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/callvault/callvault/internal/atomicfile"
)

// KeyFile is the name of the signing key `callvaultd license keygen`
// writes in its output directory.
const KeyFile = "license.key"

const (
	keyPrefix = "ed25519:"
	pemType   = "PRIVATE KEY"
)

// b64 is the strict standard encoding: padding required, no stray bits.
var b64 = base64.StdEncoding.Strict()

// GenerateKey makes a new signing key pair from crypto/rand.
func GenerateKey() (ed25519.PrivateKey, ed25519.PublicKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		// crypto/rand does not fail on a supported system.
		panic("license: generate key: " + err.Error())
	}
	return priv, pub
}

// FormatPublicKey writes pub as [license] public_keys lists it:
// "ed25519:" and the standard base64 of its 32 bytes.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return keyPrefix + b64.EncodeToString(pub)
}

// ParsePublicKey reads a public key written by FormatPublicKey.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := decodePrefixed(s, ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("public key %q: %w", s, err)
	}
	return ed25519.PublicKey(b), nil
}

// decodePrefixed decodes "ed25519:<base64>" of n bytes.
func decodePrefixed(s string, n int) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return nil, fmt.Errorf("want %s<base64>", keyPrefix)
	}
	b, err := b64.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("not standard base64: %w", err)
	}
	if len(b) != n {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), n)
	}
	return b, nil
}

// MarshalPrivateKey is the content of a key file: PEM "PRIVATE KEY",
// PKCS#8.
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// ParsePrivateKey reads a key file's content.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("PEM block %q, want %q", block.Type, pemType)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("data after the PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, want an Ed25519 key", key)
	}
	return priv, nil
}

// ReadKeyFile reads the signing key at path.
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	priv, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return priv, nil
}

// WriteKeyFile writes priv to path with mode 0600, never over an existing
// file: the error then wraps fs.ErrExist. The key is written whole beside
// path first and linked into place, so a crash leaves no half key there.
func WriteKeyFile(path string, priv ed25519.PrivateKey) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return existing(path)
	}
	data, err := MarshalPrivateKey(priv)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // the link, once made, keeps the key
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("signing key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("signing key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("signing key: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return existing(path)
		}
		return fmt.Errorf("signing key: %w", err)
	}
	os.Remove(tmp)
	return atomicfile.SyncDir(dir)
}

func existing(path string) error {
	return fmt.Errorf("%s already exists; refusing to overwrite a signing key (move it away first): %w", path, fs.ErrExist)
}
