package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Query selects recordings. Empty fields and zero values do not filter.
//
//   - From and To are inclusive bounds on the start.
//   - User and Extension match exactly, Direction case-insensitively.
//   - Remote with digits matches a remote number whose digits contain the
//     query's digits anywhere; other characters (a "+", spaces, dashes) are
//     ignored on both sides: "5558201320", "8201" and "+1 555 820" all
//     find "+15558201320". Remote without any digit ("anonymous") matches
//     the remote exactly.
//   - MinDurationMS keeps recordings at least that long.
//   - After resumes a listing: only recordings that come after it in the
//     newest-first order (see Position) match, so a page is asked for with
//     After set to the last recording of the page before. New recordings
//     sort before the position they page from, so pages neither repeat nor
//     skip a recording while calls are being recorded.
type Query struct {
	From, To                           time.Time
	User, Extension, Remote, Direction string
	MinDurationMS                      int64
	After                              Position
	Limit                              int // 0 (or less): 100
}

// DefaultLimit is the Limit of a Query that sets none.
const DefaultLimit = 100

// Position is a place in the newest-first order of recordings: by start
// (unix nanoseconds, UTC) descending, then by id descending. The zero
// Position is before the newest recording.
type Position struct {
	Start time.Time
	ID    string
}

// IsZero reports whether p is the zero Position.
func (p Position) IsZero() bool { return p.ID == "" && p.Start.IsZero() }

// PositionOf is rec's place in the newest-first order.
func PositionOf(rec Recording) Position { return Position{Start: rec.Start, ID: rec.ID} }

// keyTail is the <nanos>/<id> tail of p's index keys.
func (p Position) keyTail() string { return fmt.Sprintf("%020d/%s", nanosOf(p.Start), p.ID) }

// RemoteDigits returns the digits of a remote number or of a Remote query,
// the only characters partial remote matching compares.
func RemoteDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Search returns the recordings matching q, newest first.
//
// It walks, in reverse and keys only, the index keys of the most selective
// field filter the index holds (user, extension, an exact remote, then
// direction; else the time-ordered start keys), seeking straight to the
// newest key within To and After and stopping at From. Each candidate's
// record is fetched and filtered until Limit match. A partial remote
// (digits) or a minimum duration has no key of its own: it is checked on
// the candidates' raw records before they are decoded, so such a query
// costs one record read per candidate within [From, To] up to the Limit-th
// match (BENCHMARKS.md).
func (s *Store) Search(q Query) ([]Recording, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	remoteDigits := RemoteDigits(q.Remote)
	field, value := "start", ""
	switch {
	case q.User != "":
		field, value = "user", q.User
	case q.Extension != "":
		field, value = "ext", q.Extension
	case q.Remote != "" && remoteDigits == "":
		field, value = "remote", q.Remote
	case q.Direction != "":
		field, value = "dir", strings.ToUpper(q.Direction)
	}
	prefix := []byte(fieldPrefix(field, value))
	var from int64
	if !q.From.IsZero() {
		from = nanosOf(q.From)
	}
	// seek is the newest key a match may have: within To and before After.
	seek := append(bytes.Clone(prefix), 0xff)
	if !q.To.IsZero() {
		if q.To.Before(q.From) || nanosOf(q.To) == 0 && q.To.Before(time.Unix(0, 0)) {
			return nil, nil
		}
		seek = fmt.Appendf(bytes.Clone(prefix), "%020d/\xff", nanosOf(q.To))
	}
	var after []byte // keys at or above it are not after q.After
	if !q.After.IsZero() {
		after = append(bytes.Clone(prefix), q.After.keyTail()...)
		if bytes.Compare(after, seek) < 0 {
			seek = after
		}
	}
	lowest := fmt.Appendf(bytes.Clone(prefix), "%020d/", from)
	f := rawFilter{remoteDigits: remoteDigits, minDurationMS: q.MinDurationMS}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("search: store %w", ErrClosed)
	}
	var out []Recording
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Reverse = true
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		// Records are read through one reverse iterator over the record
		// keys, stepping while the next id is near (ids follow the start
		// order closely) and seeking when not: it keeps its current block,
		// where a Get per record decompresses one each time the small
		// block cache turns it away.
		ropts := opts
		ropts.Prefix = recordKey("")
		recs := &recordWalk{it: txn.NewIterator(ropts)}
		defer recs.it.Close()
		for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
			key := it.Item().Key()
			if bytes.Compare(key, lowest) < 0 {
				break
			}
			if after != nil && bytes.Compare(key, after) >= 0 {
				continue // q.After itself
			}
			slash := bytes.LastIndexByte(key, '/')
			rec, ok, err := f.get(recs, key[slash+1:])
			if err != nil {
				return err
			}
			if !ok || !q.matches(rec, remoteDigits) {
				continue
			}
			out = append(out, rec)
			if len(out) == limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

// matches applies every filter (the one the scan used holds already).
// remoteDigits is RemoteDigits(q.Remote).
func (q Query) matches(rec Recording, remoteDigits string) bool {
	switch {
	case q.User != "" && rec.User != q.User,
		q.Extension != "" && rec.Extension != q.Extension,
		q.Remote != "" && remoteDigits == "" && rec.Remote != q.Remote,
		remoteDigits != "" && !strings.Contains(RemoteDigits(rec.Remote), remoteDigits),
		rec.DurationMS < q.MinDurationMS,
		q.Direction != "" && !strings.EqualFold(rec.Direction, q.Direction),
		!q.From.IsZero() && rec.Start.Before(q.From),
		!q.To.IsZero() && rec.Start.After(q.To):
		return false
	}
	return true
}

// rawFilter rejects records on their JSON, before decoding them, for the
// filters no index key serves. It only rejects what surely fails; the
// decoded record is checked in full afterwards.
type rawFilter struct {
	remoteDigits  string
	minDurationMS int64
}

// recordWalk finds records in (mostly) descending id order.
type recordWalk struct {
	it  *badger.Iterator
	key []byte
}

// find positions the walk on record id and reports whether it exists.
func (w *recordWalk) find(id []byte) bool {
	const maxSteps = 16 // keys stepped over before a seek is cheaper
	w.key = append(append(w.key[:0], "r/"...), id...)
	if !w.it.Valid() || bytes.Compare(w.it.Item().Key(), w.key) < 0 {
		w.it.Seek(w.key) // first use, or the id is above: seek back up
	}
	for steps := 0; w.it.Valid(); steps++ {
		if c := bytes.Compare(w.it.Item().Key(), w.key); c <= 0 {
			return c == 0
		}
		if steps < maxSteps {
			w.it.Next()
		} else {
			w.it.Seek(w.key)
			steps = -maxSteps // a seek lands at or below the key
		}
	}
	return false
}

// get reads and decodes record id; ok is false when the record is gone (a
// stale index key) or when the raw filter rejects it.
func (f rawFilter) get(w *recordWalk, id []byte) (rec Recording, ok bool, err error) {
	if !w.find(id) {
		return rec, false, nil
	}
	err = w.it.Item().Value(func(v []byte) error {
		if !f.pass(v) {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return rec, false, fmt.Errorf("record %s: %w", id, err)
	}
	return rec, ok, nil
}

// pass reports whether the record JSON v may match. Records are written by
// json.Marshal of Recording, so each field appears once, "remote" as a
// plain string unless it holds a character JSON escapes (then the decoded
// record decides).
func (f rawFilter) pass(v []byte) bool {
	if f.minDurationMS > 0 {
		if raw, found := rawField(v, `"duration_ms":`); found {
			end := bytes.IndexAny(raw, ",}")
			if n, err := strconv.ParseInt(string(raw[:max(end, 0)]), 10, 64); err == nil && n < f.minDurationMS {
				return false
			}
		}
	}
	if f.remoteDigits != "" {
		if raw, found := rawField(v, `"remote":"`); found {
			end := bytes.IndexByte(raw, '"')
			if end >= 0 && bytes.IndexByte(raw[:end], '\\') < 0 &&
				!containsDigits(raw[:end], f.remoteDigits) {
				return false
			}
		}
	}
	return true
}

// rawField returns what follows name in v.
func rawField(v []byte, name string) ([]byte, bool) {
	i := bytes.Index(v, []byte(name))
	if i < 0 {
		return nil, false
	}
	return v[i+len(name):], true
}

// containsDigits reports whether the digits of s contain want (digits),
// without allocating.
func containsDigits(s []byte, want string) bool {
	var buf [64]byte
	d := buf[:0]
	for _, c := range s {
		if c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	return bytes.Contains(d, []byte(want))
}
