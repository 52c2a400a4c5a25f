package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
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
	// IndexReserve is the size in bytes of <Dir>/index.reserve, disk
	// blocks held back for the index on a nearly full disk (space.go).
	// 0: DefaultIndexReserve; negative: no reserve.
	IndexReserve int64
	// Node (0-9) is the first digit of the sequence of the record ids
	// this store hands out, so that recorders sharing a target never hand
	// out the same id (ids.go).
	Node int
	// Archive puts every recording sealed into the copy queue, in the
	// transaction that indexes it (copies.go).
	Archive bool
}

// Store is the vault: recordings on disk, their keys and their index.
// It is safe for concurrent use.
type Store struct {
	dir string
	loc *time.Location
	log *slog.Logger
	kek *keyRing // the current KEK and the retired ones (keys.go, rotate.go)
	db  *badger.DB
	ids *ids

	mu     sync.RWMutex // held for reading by every index operation
	closed bool
	live   fileSet     // files being written: RecoverParts leaves them alone
	tri    trigramFill // the trigram keys' backfill (trigram.go)

	// statfs reads the free and total bytes of a file system (space.go);
	// tests replace it.
	statfs      func(path string) (free, total uint64, err error)
	reserve     string      // <dir>/index.reserve
	reserveSize int64       // <= 0: no reserve
	reserveMu   sync.Mutex  // serialises ReleaseReserve and RestoreReserve
	noPrealloc  atomic.Bool // the file system cannot fallocate: warned once
	memMu       sync.Mutex  // guards nextMem
	nextMem     string      // the memtable log Badger creates next

	usage    usageBook                 // the sealed files' sizes by day (usage.go)
	fetch    atomic.Pointer[FetchFunc] // reads evicted recordings back (copies.go)
	archive  bool                      // seals queue copies (Config.Archive)
	auditLog *auditLog                 // the audit trail (audit.go)
}

// Open opens (creating on first start) the store in cfg.Dir.
//
// On a disk too full for the index to write safely it first releases the
// index reserve; once the index is open it backs Badger's mapped files with
// disk blocks and takes the reserve (again) when space allows (space.go).
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
	if err := makeDirs(dir, log); err != nil {
		return nil, fmt.Errorf("open vault: %w", err)
	}
	s := &Store{dir: dir, loc: loc, log: log, statfs: statfs, reserve: filepath.Join(dir, reserveName),
		auditLog: &auditLog{dir: filepath.Join(dir, "audit"), log: log, now: time.Now}}
	s.reserveSize = cfg.IndexReserve
	if s.reserveSize == 0 {
		s.reserveSize = DefaultIndexReserve
	}
	if err := s.makeIndexRoom(); err != nil {
		log.Error("opening the index on a full disk", "err", err)
	}
	// The index first: Badger's directory lock keeps a second process out
	// before any key is created.
	db, err := openIndex(s.indexDir(), log)
	if err != nil {
		if busy, _ := indexInUse(s.indexDir()); busy {
			return nil, fmt.Errorf("open vault %s: %w", dir, errIndexInUse)
		}
		return nil, fmt.Errorf("open vault %s: %w", dir, err)
	}
	ring, adopted, err := openKeys(db, cfg.CredentialsDir, filepath.Join(dir, "keys"), log)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open vault %s: %w", dir, err)
	}
	log.Info("vault open", "dir", dir, "kek_id", ring.idHex(), "kek_source", ring.current().source,
		"kek_retired", ring.retiredIDs())
	s.kek, s.db, s.ids = ring, db, newIDs(db, cfg.Node)
	if adopted != "" {
		s.auditAdopted(adopted)
	}
	s.archive = cfg.Archive
	s.preallocate()
	if s.reserveSize < 0 {
		if _, err := s.ReleaseReserve(); err != nil {
			log.Warn("remove index reserve (none configured)", "err", err)
		}
	} else if err := s.RestoreReserve(); err != nil {
		log.Warn("index reserve not taken", "err", err)
	}
	s.startTrigrams()
	return s, nil
}

// openKeys loads the key ring (keys.go) from credDir and keysDir and
// checks it against the index (checkKEK), removing a key file it created
// if the index refuses it. It warns about key files readable by others
// and tightens the keys dir once it holds retired keys. adopted is the
// KEK id the index held when the current KEK replaced it here.
func openKeys(db *badger.DB, credDir, keysDir string, log *slog.Logger) (ring *keyRing, adopted string, err error) {
	ring, created, err := loadRing(credDir, keysDir, log)
	if err != nil {
		return nil, "", err
	}
	if adopted, err = checkKEK(db, ring, created); err != nil {
		if created {
			os.Remove(filepath.Join(keysDir, "kek"))
		}
		return nil, "", err
	}
	if ring.current().source == "file" {
		warnOpenMode(log, filepath.Join(keysDir, "kek"))
	}
	if len(ring.retiredIDs()) > 0 {
		tightenKeysDir(keysDir, log)
	}
	if created {
		log.Info("key-encryption key created", "path", filepath.Join(keysDir, "kek"), "kek_id", ring.idHex())
	}
	return ring, adopted, nil
}

// errIndexInUse: another open store (this process or another) holds the
// index's directory lock.
var errIndexInUse = errors.New("index in use by another process (is callvaultd already running?)")

// indexInUse reports whether an open Badger holds the lock on the index
// directory dir. flock locks belong to an open file, so this also sees a
// store open in this process.
func indexInUse(dir string) (bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe index lock: %w", err)
	}
	defer f.Close() // releases the probe's lock
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe index lock %s: %w", dir, err)
	}
	return false, nil
}

// openExisting opens the store of an existing data dir for an offline
// command (verify, reindex), never creating a data dir or a KEK: a new KEK
// could read none of the recordings. inUse is the message when a running
// daemon holds the index.
func openExisting(cfg Config, log *slog.Logger, inUse string) (*Store, error) {
	if err := checkExisting(cfg); err != nil {
		return nil, err
	}
	if busy, err := indexInUse(filepath.Join(cfg.Dir, "index")); err != nil {
		return nil, err
	} else if busy {
		return nil, errors.New(inUse)
	}
	s, err := Open(cfg, log)
	if errors.Is(err, errIndexInUse) {
		return nil, errors.New(inUse)
	}
	return s, err
}

// checkExisting checks that cfg.Dir is a data dir with a key-encryption
// key (in the credentials dir or in keys/kek).
func checkExisting(cfg Config) error {
	if cfg.Dir == "" {
		return errors.New("no data dir")
	}
	fi, err := os.Stat(cfg.Dir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data dir %s: not a directory", cfg.Dir)
	}
	paths := []string{filepath.Join(cfg.Dir, "keys", "kek")}
	if cfg.CredentialsDir != "" {
		paths = append(paths, filepath.Join(cfg.CredentialsDir, credentialName))
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	return fmt.Errorf("data dir %s: no key-encryption key (looked for %v): restore the key the recordings were written under", cfg.Dir, paths)
}

// indexDir is <dir>/index, Badger's directory.
func (s *Store) indexDir() string { return filepath.Join(s.dir, "index") }

// checkKEK records the current KEK's id in the index on first start and
// refuses a different KEK later: a lost or swapped key file must not
// silently start a second key generation that cannot read the existing
// recordings. A current KEK that differs from the index's is taken only
// when the index's KEK is in the ring as a retired key (so every recording
// stays readable) and the current one was not created just now: a rotation
// cut short after keys/kek was replaced, or an admin's rotation of the
// credential (rotate.go). It then returns the id the index held.
func checkKEK(db *badger.DB, ring *keyRing, created bool) (adopted string, err error) {
	key := []byte("meta/kek")
	k := ring.current()
	err = db.Update(func(txn *badger.Txn) error {
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
		switch {
		case string(v) == k.idHex():
			return nil
		case !created && ring.findHex(string(v)) != nil:
			adopted = string(v)
			return txn.Set(key, []byte(k.idHex()))
		}
		return fmt.Errorf("check key: key id %s (%s) but the index was written under %s, which is not in keys/ as %s either: restore that key: %w",
			k.idHex(), k.source, v, retiredName(string(v)), ErrWrongKey)
	})
	return adopted, err
}

// Close releases unused id leases and closes the index. Writers still open
// can no longer Seal. Close is idempotent.
func (s *Store) Close() error {
	s.stopTrigrams()
	s.auditLog.writeMu.Lock()
	s.auditLog.closeFile()
	s.auditLog.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.kek.secrets.close()
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

// KEKID returns the hex id of the current key-encryption key (the first 8
// bytes of its SHA-256), safe to log and show.
func (s *Store) KEKID() string { return s.kek.idHex() }

// keysPerm is the keys directory's mode: the KEK files are its owner's only.
const keysPerm = 0o700

// makeDirs makes the data dir and its records, index and keys dirs, and
// tightens a mode more open than the vault's own (0750; keys 0700): a data
// dir restored by hand, or made by an older version, is closed on start.
func makeDirs(dir string, log *slog.Logger) error {
	for _, d := range []struct {
		path string
		perm os.FileMode
	}{{dir, dirPerm}, {filepath.Join(dir, "records"), dirPerm}, {filepath.Join(dir, "index"), dirPerm}, {filepath.Join(dir, "keys"), keysPerm}} {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return err
		}
		fi, err := os.Stat(d.path)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&^d.perm != 0 {
			if err := os.Chmod(d.path, d.perm); err != nil {
				return err
			}
			log.Warn("data dir mode tightened", "dir", d.path, "was", fi.Mode().Perm().String(), "now", d.perm.String())
		}
	}
	return nil
}
