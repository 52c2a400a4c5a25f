package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
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
// It walks, in reverse and keys only, index key lists that share the
// <nanos>/<id> tail, seeking straight to the newest key within To and
// After and stopping at From; each candidate's record is then read and
// checked against every filter until Limit match.
//
// A Remote of 3 digits or more is served by the digit-trigram lists
// (trigram.go): the lists of the query's distinct trigrams, and the user's
// or else the extension's list when the query names one, are walked
// together as a zig-zag intersection (leapfrog join), so only recordings
// in every list are candidates, and a rare number is found whatever the
// index size. The positions the trigram keys hold then tell whether the
// query's trigrams follow each other in the number, so only the records of
// recordings whose digits contain the query's are read. Until every record
// has its trigram keys (an index written before them, being backfilled),
// and for a Remote of 1 or 2 digits (which most numbers contain), a
// partial remote has no key of its own, as a minimum duration never has.
//
// Otherwise one list serves: that of the most selective field filter the
// index holds (user, extension, an exact remote, then direction; else the
// time-ordered start keys). Filters without a key of their own are checked
// on the candidates' raw records before they are decoded, so such a query
// costs one record read per candidate within [From, To] up to the Limit-th
// match (BENCHMARKS.md).
func (s *Store) Search(q Query) ([]Recording, error) { return s.search(q, true) }

// search is Search; with trigrams false it never uses the trigram lists,
// as before they are complete (tests compare the two).
func (s *Store) search(q Query, trigrams bool) ([]Recording, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	b, ok := q.tailBounds()
	if !ok {
		return nil, nil
	}
	remoteDigits := RemoteDigits(q.Remote)
	f := rawFilter{remoteDigits: remoteDigits, minDurationMS: q.MinDurationMS}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("search: store %w", ErrClosed)
	}
	var out []Recording
	err := s.db.View(func(txn *badger.Txn) error {
		lists, runs := q.keyList(remoteDigits), trigramRuns(nil)
		if trigrams && len(remoteDigits) >= 3 {
			complete, err := trigramsComplete(txn)
			if err != nil {
				return err
			}
			if complete {
				lists, runs = q.trigramLists(remoteDigits)
			}
		}
		cands := newIntersection(txn, lists)
		defer cands.close()
		// Records are read through one reverse iterator over the record
		// keys, stepping while the next id is near (ids follow the start
		// order closely) and seeking when not: it keeps its current block,
		// where a Get per record decompresses one each time the small
		// block cache turns it away.
		ropts := badger.DefaultIteratorOptions
		ropts.PrefetchValues = false
		ropts.Reverse = true
		ropts.Prefix = recordKey("")
		recs := &recordWalk{it: txn.NewIterator(ropts)}
		defer recs.it.Close()
		for ok := cands.seek(b.seek); ok; ok = cands.next() {
			tail := cands.tail()
			if bytes.Compare(tail, b.lowest) < 0 {
				break
			}
			if b.after != nil && bytes.Compare(tail, b.after) >= 0 {
				continue // q.After itself
			}
			if !runs.follow(cands) {
				continue // the query's trigrams, but apart
			}
			slash := bytes.LastIndexByte(tail, '/')
			rec, ok, err := f.get(recs, tail[slash+1:])
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

// tailBounds are the limits of a search on the <nanos>/<id> tails of index
// keys: seek is the newest tail a match may have (within To and at most
// After), after excludes q.After itself and above, lowest is the oldest
// tail within From.
type tailBounds struct{ seek, after, lowest []byte }

// tailBounds returns q's bounds; ok is false when no recording can match
// (To before From, or before 1970).
func (q Query) tailBounds() (b tailBounds, ok bool) {
	var from int64
	if !q.From.IsZero() {
		from = nanosOf(q.From)
	}
	b.seek = []byte{0xff}
	if !q.To.IsZero() {
		if q.To.Before(q.From) || nanosOf(q.To) == 0 && q.To.Before(time.Unix(0, 0)) {
			return b, false
		}
		b.seek = fmt.Appendf(nil, "%020d/\xff", nanosOf(q.To))
	}
	if !q.After.IsZero() {
		b.after = []byte(q.After.keyTail())
		if bytes.Compare(b.after, b.seek) < 0 {
			b.seek = b.after
		}
	}
	b.lowest = fmt.Appendf(nil, "%020d/", from)
	return b, true
}

// keyList is the one key list a search walks without trigrams: that of the
// most selective field filter, else the start keys.
func (q Query) keyList(remoteDigits string) []string {
	switch {
	case q.User != "":
		return []string{fieldPrefix("user", q.User)}
	case q.Extension != "":
		return []string{fieldPrefix("ext", q.Extension)}
	case q.Remote != "" && remoteDigits == "":
		return []string{fieldPrefix("remote", q.Remote)}
	case q.Direction != "":
		return []string{fieldPrefix("dir", strings.ToUpper(q.Direction))}
	}
	return []string{fieldPrefix("start", "")}
}

// trigramLists returns the key lists a search with 3 remote digits or
// more intersects: the user's (else the extension's) when q names one,
// then one per distinct trigram of the digits; and the runs that check
// where the trigrams lie. A user or extension list is always worth
// joining: the join costs a few seeks per key of its shortest list, so it
// is never much dearer than the user's list alone, and far cheaper when
// the number is rare among the user's calls. A direction list (about half
// of every list) would add seeks and spare few record reads: the record
// check applies it.
func (q Query) trigramLists(remoteDigits string) ([]string, trigramRuns) {
	var lists []string
	switch {
	case q.User != "":
		lists = append(lists, fieldPrefix("user", q.User))
	case q.Extension != "":
		lists = append(lists, fieldPrefix("ext", q.Extension))
	}
	first := len(lists)
	ts := trigrams(remoteDigits)
	for _, t := range ts {
		lists = append(lists, trigramListPrefix(t))
	}
	runs := make(trigramRuns, len(remoteDigits)-2)
	for j := range runs {
		runs[j] = first + slices.Index(ts, remoteDigits[j:j+3])
	}
	return lists, runs
}

// trigramRuns says, for each start j of a run of 3 query digits, which
// list of the intersection holds that trigram.
type trigramRuns []int

// follow reports whether the recording x stands on may hold the query's
// digits in a row: whether, by the positions its trigram keys hold, some
// start p has each run j of the query at p+j. Without runs (no trigram
// lists), or a key without positions, it cannot tell and says yes.
func (r trigramRuns) follow(x *intersection) bool {
	starts := ^uint64(0)
	for j, l := range r {
		var at uint64
		ok := false
		err := x.its[l].Item().Value(func(v []byte) error {
			at, ok = positionsOf(v)
			return nil
		})
		if err != nil || !ok {
			return true
		}
		starts &= at >> j
	}
	return starts != 0
}

// intersection walks, newest first, the tails (<nanos>/<id>) present in
// every one of a few index key lists: a zig-zag (leapfrog) join over one
// reverse, keys-only iterator per list. The tail the iterators must agree
// on only ever goes down: each iterator in turn moves to the newest key at
// or below it, and a key below lowers it, until all stand on the same
// tail. The walk costs a few seeks per key of its shortest list, whatever
// the length of the others. With one list it is a plain reverse walk.
//
// The lists are tried in an order that learns which are sparse: the list
// that lowered the tail last is tried first, so a list that holds nearly
// every key (a trigram all the numbers share) is moved only when the
// sparse ones agree, about once per candidate.
type intersection struct {
	its      []*badger.Iterator
	prefixes [][]byte
	order    []int  // the lists, the last to lower the tail first
	cur      []byte // the tail being agreed on, then agreed
	key      []byte // scratch: a prefix and a tail
}

func newIntersection(txn *badger.Txn, lists []string) *intersection {
	x := &intersection{}
	for i, p := range lists {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Reverse = true
		opts.Prefix = []byte(p)
		x.its = append(x.its, txn.NewIterator(opts))
		x.prefixes = append(x.prefixes, opts.Prefix)
		x.order = append(x.order, i)
	}
	return x
}

func (x *intersection) close() {
	for _, it := range x.its {
		it.Close()
	}
}

// tail is the tail every list holds, after seek or next reported true.
func (x *intersection) tail() []byte { return x.cur }

// seek moves to the newest tail every list holds at or below bound, and
// reports whether there is one.
func (x *intersection) seek(bound []byte) bool {
	x.cur = append(x.cur[:0], bound...)
	return x.agree(-1)
}

// next moves to the next older tail every list holds, and reports whether
// there is one.
func (x *intersection) next() bool {
	i := x.order[0]
	it, p := x.its[i], x.prefixes[i]
	if it.Next(); !it.ValidForPrefix(p) {
		return false
	}
	x.cur = append(x.cur[:0], it.Item().Key()[len(p):]...)
	return x.agree(i)
}

// agree moves the iterators until all stand on x.cur, lowering it to the
// tail an iterator lands on below it and starting over; list setter (-1:
// none) stands on x.cur already.
func (x *intersection) agree(setter int) bool {
	for {
		lowered := false
		for _, i := range x.order {
			if i == setter {
				continue
			}
			tail, ok := x.atOrBelow(i, x.cur)
			if !ok {
				return false
			}
			if !bytes.Equal(tail, x.cur) {
				x.cur = append(x.cur[:0], tail...)
				x.toFront(i)
				setter, lowered = i, true
				break
			}
		}
		if !lowered {
			return true
		}
	}
}

// toFront moves list i to the front of the order.
func (x *intersection) toFront(i int) {
	j := slices.Index(x.order, i)
	copy(x.order[1:j+1], x.order[:j])
	x.order[0] = i
}

// atOrBelow moves the i-th iterator to its newest key whose tail is at or
// below target and returns that tail. Targets only go down, so an iterator
// already at or below target stays; above it, it steps while the key is
// near and seeks when not.
func (x *intersection) atOrBelow(i int, target []byte) ([]byte, bool) {
	const maxSteps = 16 // keys stepped over before a seek is cheaper
	it, p := x.its[i], x.prefixes[i]
	for steps := 0; it.ValidForPrefix(p); steps++ {
		if tail := it.Item().Key()[len(p):]; bytes.Compare(tail, target) <= 0 {
			return tail, true
		}
		if steps == maxSteps {
			break
		}
		it.Next()
	}
	x.key = append(append(x.key[:0], p...), target...)
	if it.Seek(x.key); !it.ValidForPrefix(p) {
		return nil, false
	}
	return it.Item().Key()[len(p):], true
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
	if !w.it.Valid() || bytes.Compare(w.it.Item().Key(), w.key) < 0 ||
		idGap(w.it.Item().Key()[len("r/"):], id) > maxSteps {
		w.it.Seek(w.key) // first use, the id is above, or far below: seek
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

// idGap is a-b for record ids a >= b, an upper bound on the record keys
// between them (ids are handed out in sequence); 0 when either is not an
// id.
func idGap(a, b []byte) uint64 {
	if len(a) != idLen || len(b) != idLen {
		return 0
	}
	var x, y uint64
	for i := range idLen {
		if a[i] < '0' || a[i] > '9' || b[i] < '0' || b[i] > '9' {
			return 0
		}
		x, y = x*10+uint64(a[i]-'0'), y*10+uint64(b[i]-'0')
	}
	if x < y {
		return 0
	}
	return x - y
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
