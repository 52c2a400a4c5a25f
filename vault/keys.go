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
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
	source string // "credential", "file" or "retired", for the log
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

// newDataKey makes a fresh random AES-256 data key for record recordID
// and returns its AEAD, the complete header (version 3: the key masked
// with a fresh erasure secret, wrapped under the current KEK with header
// bytes 0..51 as AAD) and the ticket of the secret's entry, which must be
// durable before the file is synced.
func (r *keyRing) newDataKey(recordID uint64, start int64) (cipher.AEAD, header, secretTicket, error) {
	h := header{recordID: recordID, start: start, headSlot: headSlotSize, segment: segmentSize}
	key := make([]byte, keySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return nil, h, secretTicket{}, fmt.Errorf("data key: %w", err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, h, secretTicket{}, err
	}
	secret, ticket, err := r.secrets.add(recordID, start)
	if err != nil {
		return nil, h, secretTicket{}, err
	}
	mask(key, &secret)
	if err := r.current().wrap(&h, key); err != nil {
		return nil, h, secretTicket{}, err
	}
	return aead, h, ticket, nil
}

// mask XORs key with secret in place and clears secret: masking twice
// with the same secret gives the key back.
func mask(key []byte, secret *[keySize]byte) {
	for i := range key {
		key[i] ^= secret[i]
	}
	clear(secret[:])
}

// wrap fills the key block of h (KEK id, a fresh random wrap nonce, the
// wrapped data key) with key wrapped under k, bytes 0..51 of the header as
// it then stands as AAD. A key rotation rewraps through it too.
func (k *kek) wrap(h *header, key []byte) error {
	h.kekID = k.id
	if _, err := rand.Read(h.wrapNonce[:]); err != nil {
		return fmt.Errorf("data key nonce: %w", err)
	}
	aad := h.marshal()[:wrapAADSize]
	k.aead.Seal(h.wrappedKey[:0], h.wrapNonce[:], key, aad)
	return nil
}

// unwrap opens the data key of a parsed header of a version that does
// not mask it (1, 2) and returns its AEAD; a masked one needs the key
// ring's erasure secrets.
func (k *kek) unwrap(h *header, raw []byte) (cipher.AEAD, error) {
	if h.masked() {
		return nil, fmt.Errorf("version %d data key: the erasure secrets of a key ring are needed: %w", h.version, ErrWrongKey)
	}
	key, err := k.openKey(h, raw)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return newGCM(key)
}

// openKey returns the data key of a parsed header (raw: its 100 bytes) as
// wrapped: masked in version 3. The caller clears it.
func (k *kek) openKey(h *header, raw []byte) ([]byte, error) {
	if h.kekID != k.id {
		return nil, fmt.Errorf("key id %x, have %s: %w", h.kekID, k.idHex(), ErrWrongKey)
	}
	key, err := k.aead.Open(nil, h.wrapNonce[:], h.wrappedKey[:], raw[:wrapAADSize])
	if err != nil {
		return nil, fmt.Errorf("unwrap data key: %w", ErrCorrupt)
	}
	return key, nil
}

// unwrapper opens the data key of a file's header: one KEK, or the
// store's key ring, which picks the KEK the header names.
type unwrapper interface {
	unwrap(h *header, raw []byte) (cipher.AEAD, error)
}

// retiredPrefix starts the name of a retired KEK's file in the keys dir:
// keys/kek-<16 hex digits of its id>.
const retiredPrefix = "kek-"

// keysDirPerm is the mode of the keys dir once it holds a retired key.
const keysDirPerm = 0o700

// keyRing is a store's key-encryption keys: the current one, which wraps
// the data key of every new recording, and the retired ones
// (keys/kek-<id>), which still unwrap the data keys of older files until
// Rewrap has moved them all to the current KEK. It is safe for concurrent
// use: Create and the readers never block on a rotation.
type keyRing struct {
	cur     atomic.Pointer[kek]
	mu      sync.RWMutex             // guards retired
	retired map[[kekIDSize]byte]*kek // never holds the current KEK

	// secrets are the erasure secrets of version 3 files (secrets.go).
	secrets *secretStore

	rotateMu sync.Mutex // serialises RotateKEK
	// fail, when set (tests), is called at each named step of a rotation
	// or a rewrap; an error stops it there as a crash would.
	fail func(step string) error
}

// current returns the KEK that wraps new data keys.
func (r *keyRing) current() *kek { return r.cur.Load() }

// idHex returns the hex id of the current KEK.
func (r *keyRing) idHex() string { return r.current().idHex() }

// find returns the KEK with id, current or retired, or nil.
func (r *keyRing) find(id [kekIDSize]byte) *kek {
	if k := r.current(); k.id == id {
		return k
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.retired[id]
}

// findHex is find by the hex id (as meta/kek holds it).
func (r *keyRing) findHex(idHex string) *kek {
	b, err := hex.DecodeString(idHex)
	if err != nil || len(b) != kekIDSize {
		return nil
	}
	var id [kekIDSize]byte
	copy(id[:], b)
	return r.find(id)
}

// unwrap opens the data key of a parsed header with the KEK its key block
// names; an id the ring lacks is ErrWrongKey, naming the id.
func (r *keyRing) unwrap(h *header, raw []byte) (cipher.AEAD, error) {
	k := r.find(h.kekID)
	if k == nil {
		return nil, fmt.Errorf("key id %x is neither the current key %s nor a retired key (keys/%s%x): %w",
			h.kekID, r.idHex(), retiredPrefix, h.kekID, ErrWrongKey)
	}
	if !h.masked() {
		return k.unwrap(h, raw)
	}
	key, err := k.openKey(h, raw)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	secret, err := r.secrets.lookup(h.recordID, h.start)
	if err != nil {
		return nil, err
	}
	mask(key, &secret)
	return newGCM(key)
}

// retire keeps k readable as a retired KEK.
func (r *keyRing) retire(k *kek) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retired == nil {
		r.retired = make(map[[kekIDSize]byte]*kek)
	}
	r.retired[k.id] = k
}

// retiredIDs returns the hex ids of the retired KEKs, sorted.
func (r *keyRing) retiredIDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]string, 0, len(r.retired))
	for _, k := range r.retired {
		ids = append(ids, k.idHex())
	}
	slices.Sort(ids)
	return ids
}

// step calls the test hook of a named step, if any.
func (r *keyRing) step(name string) error {
	if r.fail == nil {
		return nil
	}
	return r.fail(name)
}

// loadRing loads the current KEK (loadKEK: the credential, else
// keys/kek, created on first start) and every retired KEK in keysDir.
func loadRing(credDir, keysDir string, log *slog.Logger) (*keyRing, bool, error) {
	k, created, err := loadKEK(credDir, keysDir)
	if err != nil {
		return nil, false, err
	}
	r := &keyRing{secrets: openSecrets(keysDir)}
	r.cur.Store(k)
	if err := r.loadRetired(keysDir, log); err != nil {
		return nil, false, err
	}
	return r, created, nil
}

// loadRetired adds every keys/kek-<id> file to the ring (32 raw bytes or
// 64 hex characters, like the credential). A file that is not a key, or
// whose content is not the key its name says, is skipped or loaded under
// its real id with a warning: recordings under a key the ring lacks fail
// with ErrWrongKey naming the id, which says which file to restore. A key
// file readable by others is warned about, as keys/kek is.
func (r *keyRing) loadRetired(keysDir string, log *slog.Logger) error {
	entries, err := os.ReadDir(keysDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("load retired keys: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !isRetiredName(name) || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(keysDir, name)
		k, err := loadRetiredKEK(path)
		if err != nil {
			log.Warn("retired key-encryption key not loaded", "path", path, "err", err)
			continue
		}
		if name != retiredName(k.idHex()) {
			log.Warn("retired key-encryption key file named for another id: loaded under its own", "path", path, "kek_id", k.idHex())
		}
		warnOpenMode(log, path)
		if k.id != r.current().id {
			r.retire(k)
		}
	}
	return nil
}

// loadRetiredKEK reads one retired KEK file.
func loadRetiredKEK(path string) (*kek, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	key, err := parseKEK(raw)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return newKEK(key, "retired")
}

// isRetiredName reports whether name is kek-<16 lowercase hex digits>.
func isRetiredName(name string) bool {
	id, ok := strings.CutPrefix(name, retiredPrefix)
	if !ok || len(id) != 2*kekIDSize {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// retiredName is the file name of the retired KEK with hex id idHex.
func retiredName(idHex string) string { return retiredPrefix + idHex }

// warnOpenMode warns when the key file at path is readable by others than
// its owner.
func warnOpenMode(log *slog.Logger, path string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("key-encryption key file readable by others", "path", path, "mode", fi.Mode().Perm().String())
	}
}
