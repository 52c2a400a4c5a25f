package vault

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/callvault/callvault/internal/atomicfile"
)

// Erasure secrets. A version 3 file's key block wraps its data key masked
// (XOR) with a random 32-byte secret of its own, kept outside the file in
// keys/secrets/<UTC day of its start>. The KEK alone opens nothing: Erase
// destroys the secret first, so a copy of the file taken before the erase
// (a backup, a snapshot, a target's old version) can never be decrypted,
// while every other recording keeps its secret. The secret alone is
// useless too (the masked key is wrapped under the KEK), which is why the
// day files go to the storage targets beside the recordings.
//
// A day file is "CVSECRT1", a u64 generation (bumped at each rewrite),
// then 40-byte entries: u64 record number, 32-byte secret. New entries are
// appended; an erase rewrites the file without the entry (temp file,
// fsync, rename, directory fsync).
const (
	secretsMagic     = "CVSECRT1"
	secretsHeadSize  = 16
	secretEntrySize  = 8 + keySize
	secretsDirName   = "secrets"
	secretsDayLayout = "2006-01-02"
)

// ErrErased: the recording's erasure secret is gone (it was erased, or
// its keys/secrets day file was lost): its data key cannot be opened.
var ErrErased = errors.New("recording's erasure secret is gone (erased, or keys/secrets lost)")

// secretDay is the day file that holds the secret of a recording that
// started at start (unix nanoseconds).
func secretDay(start int64) string {
	return time.Unix(0, start).UTC().Format(secretsDayLayout)
}

// SecretsVersion says which state of a day file a target holds: the
// generation and the number of entries.
type SecretsVersion struct{ Gen, Entries uint64 }

// secretStore is keys/secrets. Safe for concurrent use.
type secretStore struct {
	dir string
	mu  sync.Mutex
	// open day files for appends, with what they hold.
	days map[string]*secretDayFile
	// cache of lookups: day → number → secret, filled a day at a time.
	cache map[string]map[uint64][keySize]byte
}

type secretDayFile struct {
	f       *os.File
	gen     uint64
	entries uint64
	synced  uint64 // entries known to be on disk; guarded by syncMu
	syncMu  sync.Mutex
	// flushing: a background sync is due (s.mu).
	flushing bool
}

// secretsFlushDelay is how soon after an append the day file is synced
// in the background: one fsync for every call set up meanwhile, and
// done long before the recordings' seals, which then find it synced.
const secretsFlushDelay = 50 * time.Millisecond

func openSecrets(keysDir string) *secretStore {
	return &secretStore{dir: filepath.Join(keysDir, secretsDirName), days: map[string]*secretDayFile{},
		cache: map[string]map[uint64][keySize]byte{}}
}

func (s *secretStore) path(day string) string { return filepath.Join(s.dir, day) }

// secretTicket says which entry a Writer waits on before its file's first
// sync (durable).
type secretTicket struct {
	day   string
	file  *secretDayFile
	entry uint64
}

// add returns the secret of record n started at start: the one it has
// (recovery rewrites a record under its own id and secret), else a fresh
// one, appended. The entry is written, not yet synced: durable syncs it
// (group commit) before the recording's own file is synced.
func (s *secretStore) add(n uint64, start int64) ([keySize]byte, secretTicket, error) {
	var secret [keySize]byte
	day := secretDay(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cached(day)
	if err != nil {
		return secret, secretTicket{}, err
	}
	if old, ok := c[n]; ok {
		return old, secretTicket{}, nil
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return secret, secretTicket{}, fmt.Errorf("erasure secret: %w", err)
	}
	df, err := s.dayFile(day)
	if err != nil {
		return secret, secretTicket{}, err
	}
	var e [secretEntrySize]byte
	binary.BigEndian.PutUint64(e[:8], n)
	copy(e[8:], secret[:])
	if _, err := df.f.Write(e[:]); err != nil {
		return secret, secretTicket{}, fmt.Errorf("erasure secret: %w", err)
	}
	df.entries++
	c[n] = secret
	t := secretTicket{day: day, file: df, entry: df.entries}
	if !df.flushing {
		df.flushing = true
		time.AfterFunc(secretsFlushDelay, func() { s.flush(t) })
	}
	return secret, t, nil
}

// dayFile opens (creating with its header, synced) the day file for
// appends. s.mu is held.
func (s *secretStore) dayFile(day string) (*secretDayFile, error) {
	if df := s.days[day]; df != nil {
		return df, nil
	}
	if err := os.MkdirAll(s.dir, keysPerm); err != nil {
		return nil, fmt.Errorf("erasure secrets: %w", err)
	}
	p := s.path(day)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("erasure secrets: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("erasure secrets: %w", err)
	}
	df := &secretDayFile{f: f}
	if fi.Size() == 0 {
		var h [secretsHeadSize]byte
		copy(h[:], secretsMagic)
		if _, err := f.Write(h[:]); err == nil {
			err = f.Sync()
		}
		if err == nil {
			err = atomicfile.SyncDir(s.dir)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("erasure secrets %s: %w", p, err)
		}
	} else {
		head := make([]byte, secretsHeadSize)
		if _, err := f.ReadAt(head, 0); err != nil || string(head[:8]) != secretsMagic {
			f.Close()
			return nil, fmt.Errorf("erasure secrets %s: not a secrets file: %w", p, ErrCorrupt)
		}
		df.gen = binary.BigEndian.Uint64(head[8:])
		// A torn last entry (a crash mid-append) is cut before appending.
		whole := (fi.Size() - secretsHeadSize) / secretEntrySize
		if end := secretsHeadSize + whole*secretEntrySize; end != fi.Size() {
			if err := f.Truncate(end); err != nil {
				f.Close()
				return nil, fmt.Errorf("erasure secrets %s: %w", p, err)
			}
		}
		df.entries = uint64(whole)
	}
	df.synced = df.entries
	s.days[day] = df
	return df, nil
}

// flush is the background sync of a day file after appends (add); an
// error is left for durable to meet.
func (s *secretStore) flush(t secretTicket) {
	s.mu.Lock()
	t.file.flushing = false
	s.mu.Unlock()
	t.entry = ^uint64(0) // whatever it holds by now
	_ = s.durable(t)
}

// durable returns once the ticket's entry is on disk: one fsync covers
// every entry appended before it.
func (s *secretStore) durable(t secretTicket) error {
	if t.file == nil {
		return nil
	}
	df := t.file
	df.syncMu.Lock()
	defer df.syncMu.Unlock()
	if df.synced >= t.entry {
		return nil
	}
	s.mu.Lock()
	n, cur := df.entries, s.days[t.day] == df
	s.mu.Unlock()
	if n <= df.synced {
		return nil
	}
	if !cur {
		return nil // rewritten since (an erase): the rewrite was synced whole
	}
	if err := df.f.Sync(); err != nil {
		return fmt.Errorf("sync erasure secrets %s: %w", t.day, err)
	}
	df.synced = n
	return nil
}

// lookup returns the secret of record n started at start.
func (s *secretStore) lookup(n uint64, start int64) ([keySize]byte, error) {
	day := secretDay(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cached(day)
	if err != nil {
		return [keySize]byte{}, err
	}
	secret, ok := c[n]
	if !ok {
		return secret, fmt.Errorf("record %d: no secret in keys/%s/%s: %w", n, secretsDirName, day, ErrErased)
	}
	return secret, nil
}

// cached returns day's entries, read once. s.mu is held.
func (s *secretStore) cached(day string) (map[uint64][keySize]byte, error) {
	if c := s.cache[day]; c != nil {
		return c, nil
	}
	c, err := s.readDay(day)
	if err != nil {
		return nil, err
	}
	for d := range s.cache {
		if len(s.cache) < secretsCacheDays {
			break
		}
		delete(s.cache, d) // any other day: it is read again from its file when needed
	}
	s.cache[day] = c
	return c, nil
}

// secretsCacheDays is how many day files' entries stay in memory: a
// verify of a year reads each day once, and keeps none but the last few.
const secretsCacheDays = 8

// readDay reads a day file whole (none: an empty map). s.mu is held.
func (s *secretStore) readDay(day string) (map[uint64][keySize]byte, error) {
	b, err := os.ReadFile(s.path(day))
	if errors.Is(err, fs.ErrNotExist) {
		return map[uint64][keySize]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("erasure secrets: %w", err)
	}
	_, m, err := parseSecrets(b)
	if err != nil {
		return nil, fmt.Errorf("erasure secrets %s: %w", s.path(day), err)
	}
	return m, nil
}

// parseSecrets reads a day file's content (a torn last entry is ignored).
func parseSecrets(b []byte) (gen uint64, m map[uint64][keySize]byte, err error) {
	if len(b) < secretsHeadSize || string(b[:8]) != secretsMagic {
		return 0, nil, fmt.Errorf("not a secrets file: %w", ErrCorrupt)
	}
	gen = binary.BigEndian.Uint64(b[8:16])
	m = make(map[uint64][keySize]byte, (len(b)-secretsHeadSize)/secretEntrySize)
	for e := b[secretsHeadSize:]; len(e) >= secretEntrySize; e = e[secretEntrySize:] {
		var k [keySize]byte
		copy(k[:], e[8:secretEntrySize])
		m[binary.BigEndian.Uint64(e[:8])] = k
	}
	return gen, m, nil
}

// marshalSecrets lays out a day file, entries by record number.
func marshalSecrets(gen uint64, m map[uint64][keySize]byte) []byte {
	ns := make([]uint64, 0, len(m))
	for n := range m {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	b := make([]byte, secretsHeadSize, secretsHeadSize+len(ns)*secretEntrySize)
	copy(b, secretsMagic)
	binary.BigEndian.PutUint64(b[8:], gen)
	for _, n := range ns {
		b = binary.BigEndian.AppendUint64(b, n)
		k := m[n]
		b = append(b, k[:]...)
	}
	return b
}

// forget destroys the secret of record n started at start: the day file
// is rewritten without it (a new generation) and synced before forget
// returns. A secret that is not there is no error.
func (s *secretStore) forget(n uint64, start int64) error {
	day := secretDay(start)
	return s.rewrite(day, func(m map[uint64][keySize]byte) bool {
		_, had := m[n]
		delete(m, n)
		return had
	})
}

// merge adds the entries of a day file's content b (another node's, or a
// target's) that the local day file lacks; local entries win.
func (s *secretStore) merge(day string, b []byte) (added int, err error) {
	_, theirs, err := parseSecrets(b)
	if err != nil {
		return 0, err
	}
	err = s.rewrite(day, func(m map[uint64][keySize]byte) bool {
		for n, k := range theirs {
			if _, ok := m[n]; !ok {
				m[n] = k
				added++
			}
		}
		return added > 0
	})
	return added, err
}

// rewrite applies change to day's entries and, when it reports a change,
// writes the file anew under the next generation.
func (s *secretStore) rewrite(day string, change func(map[uint64][keySize]byte) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.path(day))
	var gen uint64
	var m map[uint64][keySize]byte
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m = map[uint64][keySize]byte{}
	case err != nil:
		return fmt.Errorf("erasure secrets: %w", err)
	default:
		if gen, m, err = parseSecrets(b); err != nil {
			return fmt.Errorf("erasure secrets %s: %w", s.path(day), err)
		}
	}
	if !change(m) {
		return nil
	}
	if err := os.MkdirAll(s.dir, keysPerm); err != nil {
		return fmt.Errorf("erasure secrets: %w", err)
	}
	if df := s.days[day]; df != nil {
		df.f.Close()
		delete(s.days, day)
	}
	delete(s.cache, day)
	if err := atomicfile.WriteBytes(s.path(day), marshalSecrets(gen+1, m), 0o600); err != nil {
		return fmt.Errorf("erasure secrets %s: %w", s.path(day), err)
	}
	return nil
}

// Secrets returns the content of a day file (keys/secrets/<day>) and its
// version, for a copy on a target.
func (s *Store) Secrets(day string) ([]byte, SecretsVersion, error) {
	s.kek.secrets.mu.Lock()
	defer s.kek.secrets.mu.Unlock()
	b, err := os.ReadFile(s.kek.secrets.path(day))
	if err != nil {
		return nil, SecretsVersion{}, fmt.Errorf("erasure secrets: %w", err)
	}
	whole := (len(b) - secretsHeadSize) / secretEntrySize
	if whole < 0 || string(b[:8]) != secretsMagic {
		return nil, SecretsVersion{}, fmt.Errorf("erasure secrets %s: %w", day, ErrCorrupt)
	}
	b = b[:secretsHeadSize+whole*secretEntrySize]
	return b, SecretsVersion{Gen: binary.BigEndian.Uint64(b[8:16]), Entries: uint64(whole)}, nil
}

// SecretsVersionOf returns the version of a day file without reading its
// entries: its header's generation and its whole entries by size. The
// archiver asks it before each copy; it reads the file only to send it.
func (s *Store) SecretsVersionOf(day string) (SecretsVersion, error) {
	s.kek.secrets.mu.Lock()
	defer s.kek.secrets.mu.Unlock()
	f, err := os.Open(s.kek.secrets.path(day))
	if err != nil {
		return SecretsVersion{}, fmt.Errorf("erasure secrets: %w", err)
	}
	defer f.Close()
	var head [secretsHeadSize]byte
	fi, err := f.Stat()
	if err == nil {
		_, err = io.ReadFull(f, head[:])
	}
	if err != nil || string(head[:8]) != secretsMagic {
		return SecretsVersion{}, fmt.Errorf("erasure secrets %s: not a secrets file: %w", day, ErrCorrupt)
	}
	return SecretsVersion{Gen: binary.BigEndian.Uint64(head[8:]), Entries: uint64((fi.Size() - secretsHeadSize) / secretEntrySize)}, nil
}

// SecretsDayOf is the day file that holds rec's erasure secret.
func SecretsDayOf(rec Recording) string { return secretDay(rec.Start.UnixNano()) }

// SecretsKey is the object key of a day file under a node's prefix on a
// target: <node>/keys/secrets/<day>.
func SecretsKey(node, day string) string { return node + "/keys/" + secretsDirName + "/" + day }

// isSecretsDay reports whether name is a day file's name.
func isSecretsDay(name string) bool {
	_, err := time.Parse(secretsDayLayout, name)
	return err == nil && len(name) == len(secretsDayLayout)
}

// close closes the open day files.
func (s *secretStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for day, df := range s.days {
		df.f.Close()
		delete(s.days, day)
	}
}

// pendingSecretsPrefix starts the index keys of day files the targets
// must get anew after an erase: ks/<day>.
const pendingSecretsPrefix = "ks/"

// forgetSecret destroys rec's erasure secret and marks its day file for
// the targets. The start comes from the local file's header when there is
// one (the secret's day is the header's), else from the index.
func (s *Store) forgetSecret(rec Recording) error {
	n, ok := parseID(rec.ID)
	if !ok {
		return fmt.Errorf("record id %q: %w", rec.ID, ErrCorrupt)
	}
	start := rec.Start.UnixNano()
	if rec.Evicted.IsZero() {
		if h, err := readFileHeader(s.Path(rec)); err == nil {
			if !h.masked() {
				return nil // version 1 or 2: no secret
			}
			start = h.start
		}
	}
	if err := s.kek.secrets.forget(n, start); err != nil {
		return err
	}
	return s.update("mark erasure secrets", func(txn *badger.Txn) error {
		return txn.Set([]byte(pendingSecretsPrefix+secretDay(start)), nil)
	})
}

// readFileHeader reads and parses the header of the recording file at
// path.
func readFileHeader(path string) (header, error) {
	f, err := os.Open(path)
	if err != nil {
		return header{}, err
	}
	defer f.Close()
	b := make([]byte, headerSize)
	if _, err := io.ReadFull(f, b); err != nil {
		return header{}, err
	}
	return parseHeader(b)
}

// PendingSecrets lists the day files an erase changed that the targets
// have not got since.
func (s *Store) PendingSecrets() ([]string, error) {
	var days []string
	err := s.view("pending erasure secrets", func(txn *badger.Txn) error {
		return scanKeys(txn, []byte(pendingSecretsPrefix), func(key []byte) error {
			days = append(days, string(key[len(pendingSecretsPrefix):]))
			return nil
		})
	})
	return days, err
}

// SecretsSent clears a day file's pending mark: every target has it as
// it stood at version v. A day file changed again since stays pending.
func (s *Store) SecretsSent(day string, v SecretsVersion) error {
	now, err := s.SecretsVersionOf(day)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if now != v {
		return nil
	}
	return s.update("clear erasure secrets mark", func(txn *badger.Txn) error {
		return txn.Delete([]byte(pendingSecretsPrefix + day))
	})
}

// ForgetSecrets destroys the erasure secrets of removed recordings (a
// purge's), one rewrite of each day file for all of its recordings, and
// marks the day files for the targets: copies of the files kept
// elsewhere can no longer be decrypted either. A day file left with no
// entry is removed.
func (s *Store) ForgetSecrets(recs []Recording) error {
	byDay := map[string]map[uint64]bool{}
	for _, rec := range recs {
		n, ok := parseID(rec.ID)
		if !ok {
			continue
		}
		day := secretDay(rec.Start.UnixNano())
		if byDay[day] == nil {
			byDay[day] = map[uint64]bool{}
		}
		byDay[day][n] = true
	}
	var errs []error
	for day, ns := range byDay {
		err := s.kek.secrets.rewrite(day, func(m map[uint64][keySize]byte) bool {
			had := false
			for n := range ns {
				if _, ok := m[n]; ok {
					delete(m, n)
					had = true
				}
			}
			return had
		})
		if err == nil {
			err = s.update("mark erasure secrets", func(txn *badger.Txn) error {
				return txn.Set([]byte(pendingSecretsPrefix+day), nil)
			})
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
