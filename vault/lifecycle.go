package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// The end of a recording's life: a legal hold keeps it, Remove takes it
// away (purged by retention or by an admin, deleted) and leaves a
// tombstone so that the gap in the ids is explained.
//
// Index keys (see the layout in index.go):
//
//	h/<id>      empty value: the recording is under legal hold
//	t/<id>      Tombstone JSON: the recording was removed

// Hold is a legal hold on a recording: no purge or delete path removes it
// while it is set.
type Hold struct {
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	Actor  string    `json:"actor"`
}

// Tombstone is what the index keeps of a removed recording.
type Tombstone struct {
	ID     string    `json:"id"`
	Start  time.Time `json:"start"`
	Time   time.Time `json:"time"`   // when it was removed
	Action string    `json:"action"` // an Audit* action: purged, deleted, erased
	Reason string    `json:"reason,omitempty"`
	Actor  string    `json:"actor"`
}

// ErrHeld: the recording is under legal hold.
var ErrHeld = errors.New("under legal hold")

func holdKey(id string) []byte      { return []byte("h/" + id) }
func tombstoneKey(id string) []byte { return []byte("t/" + id) }

// SetHold puts recording id under hold h, or releases it with nil, and
// returns the recording as it now stands. Holding a held recording keeps
// its first hold's date and takes the new reason.
func (s *Store) SetHold(id string, h *Hold) (Recording, error) {
	var rec Recording
	err := s.update("hold", func(txn *badger.Txn) error {
		var err error
		if rec, err = getRecord(txn, id); err != nil {
			return err
		}
		if h != nil && rec.Hold != nil {
			h.Since = rec.Hold.Since
		}
		rec.Hold = h
		if err := setRecordValue(txn, rec); err != nil {
			return err
		}
		if h == nil {
			return txn.Delete(holdKey(id))
		}
		return txn.Set(holdKey(id), nil)
	})
	return rec, err
}

// Held calls fn with each recording under hold, in id order.
func (s *Store) Held(fn func(Recording) error) error {
	var recs []Recording
	err := s.view("list holds", func(txn *badger.Txn) error {
		return scanKeys(txn, []byte("h/"), func(key []byte) error {
			rec, err := getRecord(txn, string(key[2:]))
			if err == nil {
				recs = append(recs, rec)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// Remove takes recording id away for good: its local file (when it has
// one), its record and every index key of it, its place in the copy and
// eviction queues, leaving the tombstone t. A recording under hold is
// refused (ErrHeld). Its copies off the box are the caller's to remove
// first.
func (s *Store) Remove(id string, t Tombstone) error {
	rec, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if rec.Hold != nil {
		return fmt.Errorf("remove %s: %w since %s: %s", id, ErrHeld, rec.Hold.Since.Format(time.RFC3339), rec.Hold.Reason)
	}
	if rec.Evicted.IsZero() {
		if err := s.usage.removed(s.Path(rec), rec.File, rec.Size); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", id, err)
		}
	}
	t.ID, t.Start = id, rec.Start
	if t.Time.IsZero() {
		t.Time = time.Now().UTC()
	}
	val, err := json.Marshal(t)
	if err != nil {
		return err
	}
	err = s.update("remove", func(txn *badger.Txn) error {
		cur, err := getRecord(txn, id)
		if err != nil {
			return err
		}
		if cur.Hold != nil {
			return fmt.Errorf("%w (held while being removed)", ErrHeld)
		}
		for _, k := range indexKeys(cur) {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range [][]byte{recordKey(id), queueKey(id)} {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Set(tombstoneKey(id), val)
	})
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return s.dropEviction(rec)
}

// TombstoneOf returns the tombstone of a removed recording, or false.
func (s *Store) TombstoneOf(id string) (Tombstone, bool, error) {
	var t Tombstone
	found := false
	err := s.view("read tombstone", func(txn *badger.Txn) error {
		item, err := txn.Get(tombstoneKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &t) })
	})
	return t, found, err
}

// StartedBefore returns up to n recordings that started before before,
// oldest first, after the position after (zero: from the oldest): the
// candidates of a purge.
func (s *Store) StartedBefore(before time.Time, after Position, n int) ([]Recording, error) {
	var out []Recording
	err := s.view("recordings started before", func(txn *badger.Txn) error {
		prefix := []byte(fieldPrefix("start", ""))
		limit := fmt.Appendf(bytes.Clone(prefix), "%020d/", nanosOf(before))
		seek := prefix
		if !after.IsZero() {
			seek = append(append(bytes.Clone(prefix), after.keyTail()...), 0)
		}
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(seek); it.ValidForPrefix(prefix) && len(out) < n; it.Next() {
			key := it.Item().Key()
			if bytes.Compare(key, limit) >= 0 {
				break
			}
			rec, err := getRecord(txn, string(key[bytes.LastIndexByte(key, '/')+1:]))
			if errors.Is(err, ErrNotFound) {
				continue
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

// scanKeys calls fn with each key under prefix, in order.
func scanKeys(txn *badger.Txn, prefix []byte, fn func(key []byte) error) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = prefix
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		if err := fn(it.Item().KeyCopy(nil)); err != nil {
			return err
		}
	}
	return nil
}

// Erase destroys recording id on request (a data subject's erasure). Its
// erasure secret goes first (keys/secrets: the day file is rewritten
// without it and synced), so neither the file nor any copy of it taken
// before — a backup, a snapshot, a target's old version — can be
// decrypted again; the day file is marked for the targets to get anew
// (PendingSecrets). Then the key block of the local file is overwritten
// with zeros and synced, as Destroy does for an unkept call, and the file
// and the index entry go, leaving a tombstone with Action
// AuditRecordingErased. A recording under hold is refused (ErrHeld). Its
// copies off the box are the caller's to remove first.
//
// A version 1 or 2 file has no erasure secret: a copy of it taken before
// the erase stays readable with the KEK until that KEK is retired.
func (s *Store) Erase(id string, t Tombstone) error {
	rec, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	if rec.Hold != nil {
		return fmt.Errorf("erase %s: %w since %s: %s", id, ErrHeld, rec.Hold.Since.Format(time.RFC3339), rec.Hold.Reason)
	}
	if err := s.forgetSecret(rec); err != nil {
		return fmt.Errorf("erase %s: %w", id, err)
	}
	if rec.Evicted.IsZero() {
		f, err := os.OpenFile(s.Path(rec), os.O_WRONLY, 0)
		switch {
		case err == nil:
			err = shredKey(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("erase %s: %w", id, err)
			}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("erase %s: %w", id, err)
		}
	}
	t.Action = AuditRecordingErased
	return s.Remove(id, t)
}
