package vault

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/callvault/callvault/internal/atomicfile"
	badger "github.com/dgraph-io/badger/v4"
)

// Key rotation (FORMAT.md, "Key rotation"): RotateKEK makes a fresh KEK
// current and keeps the old one as a retired key, keys/kek-<id>, so that
// every recording stays readable; Rewrap (rewrap.go) then moves the data
// keys of the older files to the current KEK, after which the retired key
// files can be removed.

// ErrCredentialKEK: the current KEK comes from the systemd credential,
// which the store cannot replace; the error's text says how to rotate it.
var ErrCredentialKEK = errors.New("the key-encryption key comes from the systemd credential")

// RotateKEK makes a fresh random KEK current and returns the old and new
// ids. New recordings are written under the new KEK from then on; older
// ones stay readable through the old KEK, kept as keys/kek-<old id>.
// The steps, each durable before the next (a crash at any point leaves
// every recording readable and the store opening; see FORMAT.md):
//
//  1. the old KEK is written to keys/kek-<old id> (0600; temp file, fsync,
//     rename, dir fsync; the keys dir is made 0700);
//  2. the new KEK replaces keys/kek atomically (the same way);
//  3. the index's meta/kek is set to the new id;
//  4. the store's current KEK is swapped (concurrent Creates and reads
//     are safe: they load it atomically).
//
// It then appends an AuditKeyRotated entry ("kek <old> -> <new>") by
// actor and uid, or by ActorSystem when actor is empty. With a KEK from
// the systemd credential it refuses (ErrCredentialKEK) and changes
// nothing: the error says what to do instead.
func (s *Store) RotateKEK(actor string, uid int) (oldID, newID string, err error) {
	r := s.kek
	r.rotateMu.Lock()
	defer r.rotateMu.Unlock()
	if err := s.checkOpen("rotate key"); err != nil {
		return "", "", err
	}
	old := r.current()
	if old.source == "credential" {
		return "", "", fmt.Errorf("rotate key: %w", s.credentialRotation(old))
	}
	nk, err := s.installKEK(old)
	if err != nil {
		return "", "", fmt.Errorf("rotate key %s: %w", old.idHex(), err)
	}
	r.retire(old)
	r.cur.Store(nk)
	s.log.Info("key-encryption key rotated", "old_kek_id", old.idHex(), "kek_id", nk.idHex())
	if actor == "" {
		actor, uid = ActorSystem, -1
	}
	_, err = s.AuditAppend(AuditEntry{Action: AuditKeyRotated, Actor: actor, UID: uid,
		Detail: fmt.Sprintf("kek %s -> %s", old.idHex(), nk.idHex())})
	if err != nil {
		err = fmt.Errorf("rotate key: rotated %s -> %s, but the audit entry was not written: %w", old.idHex(), nk.idHex(), err)
	}
	return old.idHex(), nk.idHex(), err
}

// credentialRotation is the refusal of a rotation under a credential KEK,
// saying what the admin does instead.
func (s *Store) credentialRotation(old *kek) error {
	retired := filepath.Join(s.keysDir(), retiredName(old.idHex()))
	return fmt.Errorf("%w (callvault.kek), which callvaultd cannot replace: "+
		"copy the current key (its 32 raw bytes or 64 hex characters) to %s (mode 0600), "+
		"install a new credential callvault.kek and restart callvaultd: it takes the new key as current, "+
		"reads older recordings through %s and records the rotation; "+
		"then stop it and run `callvaultd keys rewrap`",
		ErrCredentialKEK, retired, retired)
}

// installKEK does steps 1 to 3 of RotateKEK and returns the new KEK.
func (s *Store) installKEK(old *kek) (*kek, error) {
	oldRaw, err := s.readCurrentKEK(old)
	if err != nil {
		return nil, err
	}
	defer clear(oldRaw)
	newRaw := make([]byte, keySize)
	defer clear(newRaw)
	if _, err := rand.Read(newRaw); err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	nk, err := newKEK(newRaw, "file")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(s.keysDir(), keysDirPerm); err != nil {
		return nil, fmt.Errorf("tighten the keys dir: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(s.keysDir(), retiredName(old.idHex())), oldRaw, 0o600); err != nil {
		return nil, fmt.Errorf("keep the old key: %w", err)
	}
	if err := s.kek.step("retired"); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteBytes(filepath.Join(s.keysDir(), "kek"), newRaw, 0o600); err != nil {
		return nil, fmt.Errorf("write the new key: %w", err)
	}
	if err := s.kek.step("replaced"); err != nil {
		return nil, err
	}
	if err := s.setMetaKEK(nk.idHex()); err != nil {
		// keys/kek holds the new key and the old one is retired: the next
		// Open takes the new one (checkKEK), and until then the old one
		// stays current here. Either reads every recording.
		return nil, fmt.Errorf("the new key %s is in keys/kek but the index still names the old one (a restart completes the rotation): %w", nk.idHex(), err)
	}
	return nk, nil
}

// readCurrentKEK reads keys/kek back and checks that it is still the
// current KEK (the store keeps no raw key in memory).
func (s *Store) readCurrentKEK(cur *kek) ([]byte, error) {
	path := filepath.Join(s.keysDir(), "kek")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the current key: %w", err)
	}
	k, err := newKEK(raw, "file")
	if err != nil || k.id != cur.id {
		clear(raw)
		return nil, fmt.Errorf("%s is no longer the key the store opened with (%s): %w", path, cur.idHex(), ErrWrongKey)
	}
	return raw, nil
}

// setMetaKEK sets the index's KEK id.
func (s *Store) setMetaKEK(idHex string) error {
	return s.update("set key id", func(txn *badger.Txn) error {
		return txn.Set([]byte("meta/kek"), []byte(idHex))
	})
}

// keysDir is <Dir>/keys.
func (s *Store) keysDir() string { return filepath.Join(s.dir, "keys") }

// auditAdopted records a rotation that Open completed: the index named
// the retired KEK from, and the current one took its place (a rotation
// cut short after keys/kek was replaced, or a new credential installed by
// an admin). A failure is logged: the rotation itself is done.
func (s *Store) auditAdopted(from string) {
	to := s.kek.idHex()
	s.log.Warn("key-encryption key changed since the index was written; the old key is kept as a retired key: taking the new one as current",
		"old_kek_id", from, "kek_id", to, "kek_source", s.kek.current().source)
	_, err := s.AuditAppend(AuditEntry{Action: AuditKeyRotated, Actor: ActorSystem, UID: -1,
		Detail: fmt.Sprintf("kek %s -> %s (%s, taken at start)", from, to, s.kek.current().source)})
	if err != nil {
		s.log.Error("key rotation not audited", "err", err)
	}
}

// tightenKeysDir makes the keys dir owner-only once it holds more than
// one key.
func tightenKeysDir(dir string, log *slog.Logger) {
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() == keysDirPerm {
		return
	}
	if err := os.Chmod(dir, keysDirPerm); err != nil {
		log.Warn("keys dir not tightened", "path", dir, "err", err)
	}
}

// RotateDir is the offline rotation (callvaultd keys rotate): it opens
// the store in cfg.Dir (never creating a data dir or a key; refusing
// while a daemon holds the index), runs RotateKEK by actor and uid, and
// closes the store.
func RotateDir(cfg Config, log *slog.Logger, actor string, uid int) (oldID, newID string, err error) {
	s, err := openExisting(cfg, log, "index in use (is callvaultd running? stop it first)")
	if err != nil {
		return "", "", fmt.Errorf("rotate key %s: %w", cfg.Dir, err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("rotate key %s: close: %w", cfg.Dir, cerr))
		}
	}()
	return s.RotateKEK(actor, uid)
}
