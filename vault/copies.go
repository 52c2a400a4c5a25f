package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Copy states (a recording without copies is "local").
const (
	CopyCopying = "copying" // a copy is being made
	CopyCopied  = "copied"  // on the target, its SHA-256 verified
	CopyFailed  = "failed"  // the last attempt failed; NextTry says when the next is
)

// Copy is a recording's copy on one target (daemon: [[storage.target]]).
type Copy struct {
	Target string `json:"target"`
	State  string `json:"state"`
	// Key is the object's key on the target.
	Key string `json:"key,omitempty"`
	// SHA256 is the copy's hex SHA-256 as the target verified it (equal
	// to the recording's).
	SHA256 string `json:"sha256,omitempty"`
	// At is when the copy was made, or when the last attempt failed.
	At       time.Time `json:"at,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
	Error    string    `json:"error,omitempty"`
	NextTry  time.Time `json:"next_try,omitzero"`
}

// Index keys of the copy queue (see the layout in index.go):
//
//	q/<id>                  empty value: the recording waits for copies
//	e/<nanos>/<id>          empty value: its local file may go at <nanos>
func queueKey(id string) []byte { return []byte("q/" + id) }

func evictKey(at time.Time, id string) []byte {
	return fmt.Appendf(nil, "e/%020d/%s", nanosOf(at), id)
}

// QueueCopies puts recordings in the copy queue (a target added to a
// store with recordings: the daemon queues those without its copy).
func (s *Store) QueueCopies(ids []string) error {
	return s.update("queue copies", func(txn *badger.Txn) error {
		for _, id := range ids {
			if err := txn.Set(queueKey(id), nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// CopyQueue returns up to n recordings of the copy queue whose ids come
// after after ("" from the start), in id order (the oldest first). A
// queued id the index lacks is dropped from the queue.
func (s *Store) CopyQueue(after string, n int) ([]Recording, error) {
	var out []Recording
	var stale [][]byte
	err := s.view("copy queue", func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte("q/")
		it := txn.NewIterator(opts)
		defer it.Close()
		seek := queueKey(after)
		for it.Seek(seek); it.ValidForPrefix(opts.Prefix) && len(out) < n; it.Next() {
			key := it.Item().KeyCopy(nil)
			if after != "" && bytes.Equal(key, seek) {
				continue
			}
			rec, err := getRecord(txn, string(key[2:]))
			if errors.Is(err, ErrNotFound) {
				stale = append(stale, key)
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	if err == nil && len(stale) > 0 {
		err = s.update("copy queue", func(txn *badger.Txn) error {
			for _, k := range stale {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return out, err
}

// SetCopy records c as the copy of recording id on c.Target and returns
// the recording as it now stands. settle, when not nil, is asked in the
// same transaction, with the recording updated, whether the recording is
// done with (every target has it, or gave up): it then leaves the copy
// queue and, when evictAt is not zero, waits for DueEvictions from then.
func (s *Store) SetCopy(id string, c Copy, settle func(Recording) (done bool, evictAt time.Time)) (Recording, error) {
	var rec Recording
	err := s.update("set copy", func(txn *badger.Txn) error {
		var err error
		rec, err = getRecord(txn, id)
		if err != nil {
			return err
		}
		rec.Copies = withCopy(rec.Copies, c)
		if err := setRecordValue(txn, rec); err != nil {
			return err
		}
		if settle == nil {
			return nil
		}
		done, evictAt := settle(rec)
		if !done {
			return nil
		}
		if err := txn.Delete(queueKey(id)); err != nil {
			return err
		}
		if !evictAt.IsZero() && rec.Evicted.IsZero() {
			return txn.Set(evictKey(evictAt, id), nil)
		}
		return nil
	})
	return rec, err
}

// withCopy replaces the copy on c.Target in copies, or adds it.
func withCopy(copies []Copy, c Copy) []Copy {
	out := make([]Copy, 0, len(copies)+1)
	for _, o := range copies {
		if o.Target != c.Target {
			out = append(out, o)
		}
	}
	return append(out, c)
}

// setRecordValue rewrites a recording's record only: the fields its index
// keys hold are unchanged.
func setRecordValue(txn *badger.Txn, rec Recording) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return txn.Set(recordKey(rec.ID), val)
}

// DueEvictions returns up to n recordings whose local file may be
// removed at now, the longest due first.
func (s *Store) DueEvictions(now time.Time, n int) ([]Recording, error) {
	var out []Recording
	err := s.view("due evictions", func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte("e/")
		it := txn.NewIterator(opts)
		defer it.Close()
		limit := evictKey(now, "\xff")
		for it.Rewind(); it.ValidForPrefix(opts.Prefix) && len(out) < n; it.Next() {
			key := it.Item().Key()
			if bytes.Compare(key, limit) > 0 {
				break
			}
			rec, err := getRecord(txn, string(key[bytes.LastIndexByte(key, '/')+1:]))
			if errors.Is(err, ErrNotFound) {
				continue // Evict drops it
			}
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// Evict removes the local file of recording id, copied elsewhere, and
// marks the recording Evicted at now: Export and Verify then read it
// through the store's Fetch. It is refused (ErrNotCopied) unless one copy
// is copied with the recording's SHA-256.
func (s *Store) Evict(id string, now time.Time) error {
	rec, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("evict: %w", err)
	}
	if !rec.Evicted.IsZero() {
		return s.dropEviction(rec)
	}
	if _, ok := rec.VerifiedCopy(); !ok {
		return fmt.Errorf("evict %s: %w", id, ErrNotCopied)
	}
	kekID, _ := fileKEK(s.Path(rec))
	if err := s.usage.removed(s.Path(rec), rec.File, rec.Size); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("evict %s: %w", id, err)
	}
	rec.Evicted, rec.EvictedKEK = now.UTC(), kekID
	if err := s.update("evict", func(txn *badger.Txn) error { return setRecordValue(txn, rec) }); err != nil {
		return fmt.Errorf("evict %s: %w", id, err)
	}
	return s.dropEviction(rec)
}

// dropEviction removes every eviction key of rec.
func (s *Store) dropEviction(rec Recording) error {
	return s.update("evict", func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte("e/")
		it := txn.NewIterator(opts)
		var keys [][]byte
		for it.Rewind(); it.ValidForPrefix(opts.Prefix); it.Next() {
			if k := it.Item().Key(); bytes.HasSuffix(k, []byte("/"+rec.ID)) {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrNotCopied: a recording has no verified copy to stand for its file.
var ErrNotCopied = errors.New("no verified copy")

// VerifiedCopy returns a copy of rec that is copied with rec's SHA-256.
func (rec Recording) VerifiedCopy() (Copy, bool) {
	for _, c := range rec.Copies {
		if c.State == CopyCopied && rec.SHA256 != "" && c.SHA256 == rec.SHA256 {
			return c, true
		}
	}
	return Copy{}, false
}

// removed deletes a sealed file and takes its size off its day.
func (b *usageBook) removed(abs, rel string, size int64) error {
	d := b.day(path.Dir(rel))
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Remove(abs); err != nil {
		return err
	}
	d.files--
	d.bytes -= size
	return nil
}

// view and update run fn in a read or write transaction of the open store.
func (s *Store) view(op string, fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("%s: store %w", op, ErrClosed)
	}
	if err := s.db.View(fn); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

func (s *Store) update(op string, fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("%s: store %w", op, ErrClosed)
	}
	if err := s.makeIndexRoom(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var err error
	for range 10 { // another writer of the same record: try again
		if err = s.db.Update(fn); !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// FetchFunc streams an evicted recording's file from a copy of it.
type FetchFunc func(rec Recording) (io.ReadCloser, error)

// SetFetch sets how Export and Verify read a recording whose local file
// was evicted: from its copy on a target (the daemon's archiver).
func (s *Store) SetFetch(fn FetchFunc) { s.fetch.Store(&fn) }

// openFile opens rec's file: the local one, or for an evicted recording
// its copy, fetched whole into an unlinked temporary file under the data
// dir (export and verify read it twice, and authenticate it as a local
// file).
func (s *Store) openFile(rec Recording) (*os.File, error) {
	if rec.Evicted.IsZero() {
		return openRecordFile(s.Path(rec))
	}
	fn := s.fetch.Load()
	if fn == nil {
		return nil, fmt.Errorf("%w: the local file was removed at %s once copied, and no target is configured to fetch it from",
			ErrMissing, rec.Evicted.Format(time.RFC3339))
	}
	dir := filepath.Join(s.dir, "fetch")
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, rec.ID+"-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // gone with the last close
	src, err := (*fn)(rec)
	if err == nil {
		_, err = io.Copy(f, src)
		src.Close()
	}
	if err == nil {
		err = rewind(f)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fetch the copy of %s: %w", rec.ID, err)
	}
	return f, nil
}

// QueueMissing puts in the copy queue every recording that lacks a
// verified copy on one of targets, once for each target name: a target
// added to a store that already holds recordings gets them all. It
// returns how many it queued.
func (s *Store) QueueMissing(targets []string) (int, error) {
	var todo []string
	for _, name := range targets {
		done, err := s.hasMeta(queuedKey(name))
		if err != nil {
			return 0, err
		}
		if !done {
			todo = append(todo, name)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	queued, after := 0, ""
	for {
		recs, err := s.recordsAfter(after, 1000)
		if err != nil {
			return queued, fmt.Errorf("queue copies: %w", err)
		}
		var ids []string
		for _, rec := range recs {
			if rec.Evicted.IsZero() && lacksCopy(rec, todo) {
				ids = append(ids, rec.ID)
			}
		}
		if err := s.QueueCopies(ids); err != nil {
			return queued, err
		}
		queued += len(ids)
		if len(recs) < 1000 {
			break
		}
		after = recs[len(recs)-1].ID
	}
	return queued, s.update("queue copies", func(txn *badger.Txn) error {
		for _, name := range todo {
			if err := txn.Set(queuedKey(name), nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// queuedKey marks a target whose missing copies were queued.
func queuedKey(target string) []byte { return []byte("meta/copies-queued/" + target) }

// lacksCopy reports whether rec lacks a verified copy on one of targets.
func lacksCopy(rec Recording, targets []string) bool {
	for _, name := range targets {
		ok := false
		for _, c := range rec.Copies {
			if c.Target == name && c.State == CopyCopied && c.SHA256 == rec.SHA256 {
				ok = true
			}
		}
		if !ok {
			return true
		}
	}
	return false
}

// hasMeta reports whether the index holds key.
func (s *Store) hasMeta(key []byte) (bool, error) {
	found := false
	err := s.view("read meta", func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}
