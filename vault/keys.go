package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/callvault/callvault/internal/atomicfile"
)

// credentialName is the systemd credential holding the KEK
// (LoadCredential=callvault.kek:...), 32 raw bytes or 64 hex characters.
const credentialName = "callvault.kek"

// kek is the key-encryption key: it wraps every recording's data key.
// The raw key is kept only inside the AEAD; nothing here is ever logged
// except the id.
type kek struct {
	id     [kekIDSize]byte
	aead   cipher.AEAD
	source string // "credential" or "file", for the log
}

func newKEK(raw []byte, source string) (*kek, error) {
	if len(raw) != keySize {
		return nil, fmt.Errorf("key-encryption key: %d bytes, want %d", len(raw), keySize)
	}
	aead, err := newGCM(raw)
	if err != nil {
		return nil, err
	}
	k := &kek{aead: aead, source: source}
	sum := sha256.Sum256(raw)
	copy(k.id[:], sum[:kekIDSize])
	return k, nil
}

func (k *kek) idHex() string { return hex.EncodeToString(k.id[:]) }

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new gcm: %w", err)
	}
	return aead, nil
}

// loadKEK returns the KEK from the credentials directory when it holds
// callvault.kek (nothing is created then), else from keysDir/kek, creating
// it on first start.
func loadKEK(credDir, keysDir string) (*kek, bool, error) {
	if credDir != "" {
		raw, err := os.ReadFile(filepath.Join(credDir, credentialName))
		switch {
		case err == nil:
			key, err := parseKEK(raw)
			clear(raw)
			if err != nil {
				return nil, false, fmt.Errorf("load credential %s: %w", credentialName, err)
			}
			k, err := newKEK(key, "credential")
			clear(key)
			return k, false, err
		case !errors.Is(err, fs.ErrNotExist):
			return nil, false, fmt.Errorf("load credential %s: %w", credentialName, err)
		}
	}
	path := filepath.Join(keysDir, "kek")
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		defer clear(raw)
		if len(raw) != keySize {
			return nil, false, fmt.Errorf("load key %s: %d bytes, want %d", path, len(raw), keySize)
		}
		k, err := newKEK(raw, "file")
		return k, false, err
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("load key %s: %w", path, err)
	}
	raw = make([]byte, keySize)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("create key: %w", err)
	}
	if err := atomicfile.WriteBytes(path, raw, 0o600); err != nil {
		return nil, false, fmt.Errorf("create key: %w", err)
	}
	k, err := newKEK(raw, "file")
	return k, true, err
}

// parseKEK accepts 32 raw bytes or 64 hex characters (surrounding white
// space allowed, as editors and `openssl rand -hex 32` leave a newline).
func parseKEK(b []byte) ([]byte, error) {
	if len(b) == keySize {
		return bytes.Clone(b), nil
	}
	t := bytes.TrimSpace(b)
	if len(t) == 2*keySize {
		key := make([]byte, keySize)
		if _, err := hex.Decode(key, t); err == nil {
			return key, nil
		}
		clear(key)
		return nil, errors.New("64 characters but not hex")
	}
	return nil, fmt.Errorf("%d bytes, want %d raw or %d hex", len(b), keySize, 2*keySize)
}

// newDataKey makes a fresh random AES-256 data key for one recording and
// returns its AEAD and the complete header, the key wrapped under the KEK
// with header bytes 0..51 (identity, KEK id, wrap nonce) as AAD.
func (k *kek) newDataKey(recordID uint64, start int64) (cipher.AEAD, header, error) {
	h := header{recordID: recordID, start: start, headSlot: headSlotSize, segment: segmentSize, kekID: k.id}
	key := make([]byte, keySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return nil, h, fmt.Errorf("data key: %w", err)
	}
	if _, err := rand.Read(h.wrapNonce[:]); err != nil {
		return nil, h, fmt.Errorf("data key nonce: %w", err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, h, err
	}
	aad := h.marshal()[:wrapAADSize]
	k.aead.Seal(h.wrappedKey[:0], h.wrapNonce[:], key, aad)
	return aead, h, nil
}

// unwrap opens the data key of a parsed header and returns its AEAD.
func (k *kek) unwrap(h *header, raw []byte) (cipher.AEAD, error) {
	if h.kekID != k.id {
		return nil, fmt.Errorf("key id %x, have %s: %w", h.kekID, k.idHex(), ErrWrongKey)
	}
	key, err := k.aead.Open(nil, h.wrapNonce[:], h.wrappedKey[:], raw[:wrapAADSize])
	if err != nil {
		return nil, fmt.Errorf("unwrap data key: %w", ErrCorrupt)
	}
	defer clear(key)
	return newGCM(key)
}
