package vault

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// The digit-trigram index serves a partial remote search (search.go): every
// recording whose remote holds 3 digits or more has one key
// i/rtri/<ddd>/<nanos>/<id> per distinct run of 3 consecutive digits of its
// remote, ignoring every other character ("+1 555-820" has 155, 555, 558,
// 582, 820). Any recording whose remote digits contain a query's digits
// carries every trigram of the query, so the intersection of the query's
// trigram lists holds every match. The value of a key says where in the
// digits its trigram starts (bit i of a uvarint: at digit i), so that the
// search tells, from the keys alone, whether the query's trigrams follow
// each other: a recording with 820 and 201 apart ("5820 7201") is no
// candidate for 8201, and its record is not read. Seal and Describe clip
// a remote to 64 bytes, so a recording has at most 62 trigram keys; a
// longer remote (only written straight to the index) has keys with empty
// values, which every position matches.
//
// An index written before trigram keys existed lacks them: meta/rtri says
// they are complete, and until it is set Search scans as it did. Open
// starts a backfill when it is missing (fillTrigrams).
const (
	trigramPrefix = "i/rtri/"
	// trigramMarker is set once every record has its trigram keys.
	trigramMarker = "meta/rtri"
	// trigramCursor is the record key the backfill resumes at; records
	// below it have their trigram keys.
	trigramCursor = "meta/rtri-next"
	// trigramBatch bounds the records a backfill transaction covers;
	// Badger's transaction size usually ends one sooner (fillTrigramBatch).
	trigramBatch = 1000
	// maxPositionDigits is the longest digit string whose trigram
	// positions (starts 0..63) a key value holds.
	maxPositionDigits = 64 + 2
)

// trigrams returns the distinct runs of 3 digits of digits (only digits),
// in order of first appearance.
func trigrams(digits string) []string {
	ts, _ := trigramPositions(digits)
	return ts
}

// trigramPositions returns the distinct runs of 3 digits of digits, in
// order of first appearance, and for each the set of its starts in digits
// as a bitmask (bit i: digits[i:i+3]); at is nil when digits is longer than
// maxPositionDigits.
func trigramPositions(digits string) (ts []string, at []uint64) {
	var index [1000]int // trigram -> 1 + its place in ts
	for i := 0; i+3 <= len(digits); i++ {
		t := digits[i : i+3]
		n := int(t[0]-'0')*100 + int(t[1]-'0')*10 + int(t[2]-'0')
		if index[n] == 0 {
			ts = append(ts, t)
			at = append(at, 0)
			index[n] = len(ts)
		}
		if i < 64 {
			at[index[n]-1] |= 1 << i
		}
	}
	if len(digits) > maxPositionDigits {
		at = nil
	}
	return ts, at
}

// trigramListPrefix is the prefix of trigram t's keys: i/rtri/<t>/.
func trigramListPrefix(t string) string { return trigramPrefix + t + "/" }

// trigramEntries returns the trigram keys of a recording with this remote
// and index key tail (<nanos>/<id>), and their values; none when the remote
// has under 3 digits.
func trigramEntries(remote, tail string) (keys, vals [][]byte) {
	ts, at := trigramPositions(RemoteDigits(remote))
	keys, vals = make([][]byte, len(ts)), make([][]byte, len(ts))
	for i, t := range ts {
		keys[i] = []byte(trigramListPrefix(t) + tail)
		if at != nil {
			vals[i] = binary.AppendUvarint(nil, at[i])
		}
	}
	return keys, vals
}

// trigramKeys returns the keys of trigramEntries.
func trigramKeys(remote, tail string) [][]byte {
	keys, _ := trigramEntries(remote, tail)
	return keys
}

// positionsOf decodes a trigram key's value; ok is false when it holds no
// positions (an empty value: any position may hold the trigram).
func positionsOf(v []byte) (at uint64, ok bool) {
	at, n := binary.Uvarint(v)
	return at, n > 0
}

// trigramsComplete reports whether the index read by txn has every
// record's trigram keys.
func trigramsComplete(txn *badger.Txn) (bool, error) {
	_, err := txn.Get([]byte(trigramMarker))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// trigramFill is the backfill of trigram keys into an index written
// before they existed: started by Open, stopped by Close.
type trigramFill struct {
	stop     chan struct{} // closed to stop the backfill
	done     chan struct{} // closed once it has ended, or at once when none is needed
	stopOnce sync.Once
}

// startTrigrams sets the trigram marker of an index without records and
// starts the backfill of one that has records but no marker.
func (s *Store) startTrigrams() {
	s.tri.stop, s.tri.done = make(chan struct{}), make(chan struct{})
	need, err := s.needTrigramFill()
	if err != nil {
		s.log.Warn("trigram index not checked: partial remote searches scan", "err", err)
	}
	if !need {
		close(s.tri.done)
		return
	}
	s.log.Info("trigram index: backfill started")
	go s.fillTrigrams()
}

// stopTrigrams stops the backfill and waits for it to end (at most one
// batch). It is safe to call more than once.
func (s *Store) stopTrigrams() {
	if s.tri.stop == nil {
		return
	}
	s.tri.stopOnce.Do(func() { close(s.tri.stop) })
	<-s.tri.done
}

// waitTrigrams waits until the backfill has ended (tests).
func (s *Store) waitTrigrams() { <-s.tri.done }

// needTrigramFill reports whether the index lacks trigram keys: it has
// records but no marker. An index without records gets the marker at once.
func (s *Store) needTrigramFill() (need bool, err error) {
	err = s.db.Update(func(txn *badger.Txn) error {
		done, err := trigramsComplete(txn)
		if err != nil || done {
			return err
		}
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = recordKey("")
		it := txn.NewIterator(opts)
		defer it.Close()
		if it.Rewind(); it.ValidForPrefix(opts.Prefix) {
			need = true
			return nil
		}
		return txn.Set([]byte(trigramMarker), nil)
	})
	return need, err
}

// fillTrigrams writes the trigram keys of every record, a batch per
// transaction from the saved cursor on, then sets the marker. A stop, a
// closed store or an error ends it; the next Open resumes at the cursor.
func (s *Store) fillTrigrams() {
	defer close(s.tri.done)
	start, records := time.Now(), 0
	for {
		select {
		case <-s.tri.stop:
			return
		default:
		}
		n, done, err := s.fillTrigramBatch()
		records += n
		switch {
		case errors.Is(err, badger.ErrConflict):
			continue // a record of the batch changed meanwhile: redo it
		case errors.Is(err, ErrClosed):
			return
		case err != nil:
			s.log.Warn("trigram index: backfill stopped, resumed at the next start; partial remote searches scan meanwhile", "err", err)
			return
		case done:
			s.log.Info("trigram index: backfill complete", "records", records, "took", time.Since(start).Round(time.Millisecond))
			return
		}
	}
}

// fillTrigramBatch writes the trigram keys of the records from the cursor
// on, in one transaction, until trigramBatch records or half Badger's
// transaction limit, and moves the cursor past them; at the end of the
// records it sets the marker instead. Records written meanwhile have their
// keys already (index); one changed meanwhile fails the commit with
// badger.ErrConflict. It returns the records done.
func (s *Store) fillTrigramBatch() (n int, done bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, false, fmt.Errorf("trigram backfill: store %w", ErrClosed)
	}
	if err := s.makeIndexRoom(); err != nil {
		return 0, false, fmt.Errorf("trigram backfill: %w", err)
	}
	budget := int(s.db.MaxBatchCount() / 2) // keys per transaction
	err = s.db.Update(func(txn *badger.Txn) error {
		n, done = 0, false
		from, err := trigramCursorOf(txn)
		if err != nil {
			return err
		}
		opts := badger.DefaultIteratorOptions
		opts.Prefix = recordKey("")
		it := txn.NewIterator(opts)
		defer it.Close()
		keys := 0
		for it.Seek(from); it.ValidForPrefix(opts.Prefix); it.Next() {
			item := it.Item()
			var rec struct {
				ID     string    `json:"id"`
				Start  time.Time `json:"start"`
				Remote string    `json:"remote"`
			}
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
				return fmt.Errorf("record %s: %w", item.Key(), err)
			}
			ks, vs := trigramEntries(rec.Remote, Position{Start: rec.Start, ID: rec.ID}.keyTail())
			if n == trigramBatch || keys+len(ks) > budget {
				return txn.Set([]byte(trigramCursor), item.KeyCopy(nil))
			}
			for i, k := range ks {
				if err := txn.Set(k, vs[i]); err != nil {
					return err
				}
			}
			keys += len(ks)
			n++
		}
		done = true
		if err := txn.Delete([]byte(trigramCursor)); err != nil {
			return err
		}
		return txn.Set([]byte(trigramMarker), nil)
	})
	s.preallocateNew()
	if err != nil {
		return 0, false, fmt.Errorf("trigram backfill: %w", err)
	}
	return n, done, nil
}

// trigramCursorOf returns the record key the backfill resumes at.
func trigramCursorOf(txn *badger.Txn) ([]byte, error) {
	item, err := txn.Get([]byte(trigramCursor))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return recordKey(""), nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}
