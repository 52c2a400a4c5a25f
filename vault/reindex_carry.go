package vault

import (
	"bytes"
	"encoding/json"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// carryOver brings into the fresh index what the files cannot give back
// and the old index (moved aside to oldDir) still holds: legal holds,
// copies off the box, evicted recordings (whose local file is gone),
// pending evictions, tombstones, rewrap intents and the audit head. It is best effort:
// an old index that does not open or read is reported and left.
func (s *Store) carryOver(oldDir string) (int, error) {
	old, err := openIndexWith(oldDir, s.log, true)
	if err != nil {
		return 0, fmt.Errorf("read the old index %s: %w", oldDir, err)
	}
	defer old.Close()
	carried := 0
	err = old.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			key := it.Item().KeyCopy(nil)
			val, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			ok, err := s.carryKey(key, val)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			if ok {
				carried++
			}
		}
		return nil
	})
	return carried, err
}

// carryKey brings one key of the old index over, when it is one the files
// cannot give back; it reports whether it did.
func (s *Store) carryKey(key, val []byte) (bool, error) {
	switch {
	case bytes.HasPrefix(key, []byte("r/")):
		var old Recording
		if err := json.Unmarshal(val, &old); err != nil {
			return false, nil // a damaged record: the file's head slot stands
		}
		return s.carryRecord(old)
	case bytes.HasPrefix(key, []byte("t/")), bytes.HasPrefix(key, []byte("e/")), bytes.HasPrefix(key, []byte("w/")),
		bytes.Equal(key, []byte("meta/audit-head")):
		return true, s.update("carry over", func(txn *badger.Txn) error { return txn.Set(key, val) })
	}
	return false, nil
}

// carryRecord gives a reindexed recording its old hold and copies (those
// of the same bytes), or indexes an evicted one from its old record.
func (s *Store) carryRecord(old Recording) (bool, error) {
	if old.Hold == nil && len(old.Copies) == 0 && old.Evicted.IsZero() {
		return false, nil
	}
	cur, err := s.Get(old.ID)
	switch {
	case err == nil:
		cur.Hold = old.Hold
		for _, c := range old.Copies {
			if c.SHA256 == cur.SHA256 {
				cur.Copies = withCopy(cur.Copies, c)
			}
		}
		return true, s.update("carry over", func(txn *badger.Txn) error {
			if cur.Hold != nil {
				if err := txn.Set(holdKey(cur.ID), nil); err != nil {
					return err
				}
			}
			return setRecordValue(txn, cur)
		})
	case old.Evicted.IsZero():
		return false, nil // its file is gone: nothing stands for it
	}
	if err := s.indexNew([]Recording{old}); err != nil {
		return false, err
	}
	if old.Hold != nil {
		return true, s.update("carry over", func(txn *badger.Txn) error { return txn.Set(holdKey(old.ID), nil) })
	}
	return true, nil
}
