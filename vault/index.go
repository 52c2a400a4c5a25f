package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Index layout (Badger):
//
//	r/<id>                           Recording JSON
//	i/start/<nanos>/<id>             empty value, one per recording
//	i/user/<user>/<nanos>/<id>       empty value
//	i/ext/<extension>/<nanos>/<id>   empty value
//	i/remote/<remote>/<nanos>/<id>   empty value
//	i/dir/<IN|OUT>/<nanos>/<id>      empty value (direction upper-cased)
//	i/rtri/<ddd>/<nanos>/<id>        one per distinct run of 3 digits in the
//	                                 remote; value: where they start (trigram.go)
//	seq/<year>                       Badger sequence lease (ids.go)
//	meta/kek                         hex id of the KEK (store.go)
//	q/<id>                           empty value: waits for copies (copies.go)
//	e/<nanos>/<id>                   empty value: its local file may go then
//	meta/copies-queued/<target>      set once a target's missing copies were queued
//	h/<id>                           empty value: under legal hold (lifecycle.go)
//	t/<id>                           Tombstone JSON of a removed recording
//	w/<file>                         a key block rewrap in progress (rewrap.go)
//	meta/audit-head                  the audit log's last entry: {seq, hash, size} (audit.go)
//	meta/rtri                        set once every record has its
//	                                 i/rtri keys (trigram.go)
//	meta/rtri-next                   the r/<id> key the trigram backfill
//	                                 resumes at (trigram.go)
//
// <nanos> is the UTC start in unix nanoseconds, 20 digits zero-padded, so
// keys sort by time. Values are escaped: '%' → "%25", '/' → "%2F", so a
// value never contains the separator. The record and all its index keys are
// written in one transaction, and a re-index deletes the old record's keys
// (every kind, trigram keys included) in the same one.

const (
	// memTableSize is Badger's memtable size. Each memtable's log is a file
	// of twice that, mapped and preallocated (space.go), and an index write
	// needs a few times that free (indexHeadroom). 1 MiB (Badger's default
	// is 64 MiB) still holds some 600 recordings of ~1.5 KB with their index
	// keys, so a busy recorder flushes a small table a few times an hour.
	memTableSize = 1 << 20
	// valueThreshold keeps every value in the LSM tree, none in the value
	// log: a Recording is a few KB at most (its JSON fits the 8 KB head
	// slot). Badger requires it below 15% of memTableSize.
	valueThreshold = 64 << 10
)

// openIndex opens Badger tuned for a 2-core appliance. The defaults (64 MB
// memtables x5, 256 MB block cache, 4 compactors) are sized for servers.
func openIndex(dir string, log *slog.Logger) (*badger.DB, error) {
	return openIndexWith(dir, log, false)
}

// openIndexWith is openIndex, read-only when readOnly (an old index a
// reindex reads back what the files cannot tell).
func openIndexWith(dir string, log *slog.Logger, readOnly bool) (*badger.DB, error) {
	opts := badger.DefaultOptions(dir).
		WithReadOnly(readOnly).
		WithLogger(badgerLogger{log.With("component", "badger")}).
		WithLoggingLevel(badger.WARNING).
		WithSyncWrites(true).           // a Seal is durable when it returns
		WithMemTableSize(memTableSize). // default 64 MB
		WithValueThreshold(valueThreshold).
		WithNumMemtables(2).            // default 5
		WithNumLevelZeroTables(4).      // default 5
		WithNumLevelZeroTablesStall(8). // default 15
		WithNumCompactors(2).           // default 4; 2 is Badger's minimum
		WithNumGoroutines(2).           // streams (backup), default 8
		WithCompression(options.Snappy).
		WithBlockCacheSize(16 << 20).   // must be > 0 with compression on
		WithIndexCacheSize(8 << 20).    // bounds table index memory
		WithValueLogFileSize(64 << 20). // default 1 GB; stays empty (valueThreshold)
		WithMetricsEnabled(false)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	return db, nil
}

// badgerLogger routes Badger's logging to slog; Badger is set to warning
// level, and Info/Debug are dropped here too.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (l badgerLogger) Infof(string, ...any)  {}
func (l badgerLogger) Debugf(string, ...any) {}

func recordKey(id string) []byte { return []byte("r/" + id) }

func escapeValue(v string) string {
	if !strings.ContainsAny(v, "%/") {
		return v
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(v)
}

func nanosOf(t time.Time) int64 {
	n := t.UnixNano()
	if n < 0 || t.Before(time.Unix(0, 0)) {
		return 0
	}
	return n
}

// fieldPrefix is i/<field>/<escaped value>/, or i/start/ when field is "start".
func fieldPrefix(field, value string) string {
	if field == "start" {
		return "i/start/"
	}
	return "i/" + field + "/" + escapeValue(value) + "/"
}

// indexKeys returns every index key of rec: the five field keys, then its
// remote's trigram keys.
func indexKeys(rec Recording) [][]byte {
	keys, _ := indexEntries(rec)
	return keys
}

// indexEntries returns every index key of rec (as indexKeys) and its value:
// empty, but for a trigram key the positions of its trigram (trigram.go).
func indexEntries(rec Recording) (keys, vals [][]byte) {
	tail := PositionOf(rec).keyTail()
	keys = [][]byte{
		[]byte(fieldPrefix("start", "") + tail),
		[]byte(fieldPrefix("user", rec.User) + tail),
		[]byte(fieldPrefix("ext", rec.Extension) + tail),
		[]byte(fieldPrefix("remote", rec.Remote) + tail),
		[]byte(fieldPrefix("dir", strings.ToUpper(rec.Direction)) + tail),
	}
	vals = make([][]byte, len(keys))
	tk, tv := trigramEntries(rec.Remote, tail)
	return append(keys, tk...), append(vals, tv...)
}

// index writes rec and its index keys in one transaction. A re-index of
// the same id with changed fields first deletes the old index keys. It
// writes only with room on the disk (space.go): the error wraps
// syscall.ENOSPC when there is none.
func (s *Store) index(rec Recording) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("index %s: %w", rec.ID, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("index %s: store %w", rec.ID, ErrClosed)
	}
	if err := s.makeIndexRoom(); err != nil {
		return fmt.Errorf("index %s: %w", rec.ID, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		old, err := getRecord(txn, rec.ID)
		switch {
		case err == nil:
			for _, k := range indexKeys(old) {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		case !errors.Is(err, ErrNotFound):
			return err
		case s.archive:
			// A new recording waits for its copies from now on.
			if err := txn.Set(queueKey(rec.ID), nil); err != nil {
				return err
			}
		}
		return putRecord(txn.Set, rec, val)
	})
	s.preallocateNew()
	if err != nil {
		return fmt.Errorf("index %s: %w", rec.ID, err)
	}
	return nil
}

// indexNew writes recordings the index lacks, with their index keys, in
// one Badger write batch (committed in as many transactions as it takes).
// Unlike index it never looks for an older version of a record.
func (s *Store) indexNew(recs []Recording) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("index: store %w", ErrClosed)
	}
	if err := s.makeIndexRoom(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, rec := range recs {
		val, err := json.Marshal(rec)
		if err == nil {
			err = putRecord(wb.Set, rec, val)
		}
		if err != nil {
			return fmt.Errorf("index %s: %w", rec.ID, err)
		}
	}
	err := wb.Flush()
	s.preallocateNew()
	if err != nil {
		return fmt.Errorf("index %d recordings: %w", len(recs), err)
	}
	return nil
}

// putRecord sets rec (its JSON val) and every index key of rec.
func putRecord(set func(k, v []byte) error, rec Recording, val []byte) error {
	if err := set(recordKey(rec.ID), val); err != nil {
		return err
	}
	keys, vals := indexEntries(rec)
	for i, k := range keys {
		if err := set(k, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// indexed reports, for each of ids, whether the index holds a record for
// it. It reads keys only, in one pass over the record keys in id order
// merged with the sorted ids: it steps from key to key while the next id
// is near (as when the ids are those of every file on disk) and seeks when
// it is not (a few ids), so either costs well under a lookup per id.
func (s *Store) indexed(ids []string) ([]bool, error) {
	const maxSteps = 16 // keys stepped over before a seek is cheaper
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("index lookup: store %w", ErrClosed)
	}
	out := make([]bool, len(ids))
	prefix := recordKey("")
	seek := bytes.Clone(prefix)
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Rewind()
		for _, i := range order {
			want := ids[i]
			for steps := 0; it.Valid(); steps++ {
				// Comparisons of string(bytes) do not allocate.
				if k := it.Item().Key()[len(prefix):]; string(k) >= want {
					out[i] = string(k) == want
					break
				}
				if steps < maxSteps {
					it.Next()
				} else {
					seek = append(seek[:len(prefix)], want...)
					it.Seek(seek)
				}
			}
			if !it.Valid() {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index lookup: %w", err)
	}
	return out, nil
}

// recordsAfter returns up to n recordings in id order, starting after the
// id after ("" for the first). Callers page with it so that no read
// transaction stays open while they work on a page.
func (s *Store) recordsAfter(after string, n int) ([]Recording, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("list recordings: store %w", ErrClosed)
	}
	prefix := recordKey("")
	seek := recordKey(after)
	if after != "" {
		seek = append(seek, 0) // the first key after r/<after>
	}
	var out []Recording
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchSize = n
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(seek); it.ValidForPrefix(prefix) && len(out) < n; it.Next() {
			var rec Recording
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
				return fmt.Errorf("record %s: %w", it.Item().Key(), err)
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	return out, nil
}

func getRecord(txn *badger.Txn, id string) (Recording, error) {
	var rec Recording
	item, err := txn.Get(recordKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return rec, ErrNotFound
	}
	if err != nil {
		return rec, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) })
	return rec, err
}

// Get returns the recording id, or an error wrapping ErrNotFound.
func (s *Store) Get(id string) (Recording, error) {
	if _, ok := parseID(id); !ok {
		return Recording{}, fmt.Errorf("get %q: %w", id, ErrNotFound)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Recording{}, fmt.Errorf("get %s: store %w", id, ErrClosed)
	}
	var rec Recording
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		rec, err = getRecord(txn, id)
		return err
	})
	if err != nil {
		return Recording{}, fmt.Errorf("get %s: %w", id, err)
	}
	return rec, nil
}
