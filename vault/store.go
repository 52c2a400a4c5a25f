package vault

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// dirPerm is the mode of every directory the store creates.
const dirPerm = 0o750

// Config configures a Store.
type Config struct {
	// Dir is the data dir: <Dir>/records, <Dir>/index (Badger), <Dir>/keys.
	Dir string
	// CredentialsDir is systemd's $CREDENTIALS_DIRECTORY. If it holds a
	// file "callvault.kek" (32 raw bytes, or 64 hex characters) that KEK is
	// used and nothing is created.
	CredentialsDir string
	// Location is the server zone for dated dirs and names; nil: time.Local.
	Location *time.Location
}

// Store is the vault: recordings on disk, their keys and their index.
// It is safe for concurrent use.
type Store struct {
	dir string
	loc *time.Location
	log *slog.Logger
	kek *kek
	db  *badger.DB
	ids *ids

	mu     sync.RWMutex // held for reading by every index operation
	closed bool
}

// Open opens (creating on first start) the store in cfg.Dir.
func Open(cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir == "" {
		return nil, errors.New("open vault: no data dir")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", cfg.Dir, err)
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	for _, d := range []string{dir, filepath.Join(dir, "records"), filepath.Join(dir, "index"), filepath.Join(dir, "keys")} {
		if err := os.MkdirAll(d, dirPerm); err != nil {
			return nil, fmt.Errorf("open vault: %w", err)
		}
	}
	// The index first: Badger's directory lock keeps a second process out
	// before any key is created.
	db, err := openIndex(filepath.Join(dir, "index"), log)
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", dir, err)
	}
	k, created, err := loadKEK(cfg.CredentialsDir, filepath.Join(dir, "keys"))
	if err == nil {
		err = checkKEK(db, k)
		if err != nil && created {
			os.Remove(filepath.Join(dir, "keys", "kek"))
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open vault %s: %w", dir, err)
	}
	if k.source == "file" {
		if fi, err := os.Stat(filepath.Join(dir, "keys", "kek")); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("key-encryption key file readable by others", "path", filepath.Join(dir, "keys", "kek"), "mode", fi.Mode().Perm().String())
		}
	}
	log.Info("vault open", "dir", dir, "kek_id", k.idHex(), "kek_source", k.source, "kek_created", created)
	return &Store{dir: dir, loc: loc, log: log, kek: k, db: db, ids: newIDs(db)}, nil
}

// checkKEK records the KEK id in the index on first start and refuses a
// different KEK later: a lost or swapped key file must not silently start a
// second key generation that cannot read the existing recordings.
func checkKEK(db *badger.DB, k *kek) error {
	key := []byte("meta/kek")
	return db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(key, []byte(k.idHex()))
		}
		if err != nil {
			return fmt.Errorf("check key: %w", err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("check key: %w", err)
		}
		if string(v) != k.idHex() {
			return fmt.Errorf("check key: key id %s (%s) but the index was written under %s: restore that key: %w",
				k.idHex(), k.source, v, ErrWrongKey)
		}
		return nil
	})
}

// Close releases unused id leases and closes the index. Writers still open
// can no longer Seal. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.ids.release()
	return errors.Join(err, s.db.Close())
}

// closeAsCrash closes the index without returning id leases, as a crash
// would leave it (tests).
func (s *Store) closeAsCrash() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.db.Close()
}

// Path returns the absolute path of the sealed file of rec: rec.File under
// the data dir, or, when rec.File is empty, the contract path computed from
// rec.ID and rec.Start.
func (s *Store) Path(rec Recording) string {
	rel := rec.File
	if rel == "" {
		rel = relPath(rec, rec.Start, s.loc)
	}
	return joinUnder(s.dir, rel)
}

// Dir returns the absolute data dir.
func (s *Store) Dir() string { return s.dir }

// KEKID returns the hex id of the key-encryption key (the first 8 bytes of
// its SHA-256), safe to log and show.
func (s *Store) KEKID() string { return s.kek.idHex() }
