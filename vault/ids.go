package vault

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

const (
	// seqBandwidth is how many ids one Badger lease reserves. A clean Close
	// returns the unused rest; a crash skips it (ids are never reused). 100
	// keeps the gap after a crash small while a lease costs one synced
	// write per 100 calls.
	seqBandwidth = 100
	// nodeSpan is the ids of a year one node hands out: the sequence's
	// first digit is the node (0-9), the other eight count.
	nodeSpan = 100_000_000
	maxSeq   = nodeSpan - 1
	idLen    = 13 // 4-digit year + 9-digit sequence
)

// ids hands out record ids from one Badger sequence per year (key seq/YYYY).
type ids struct {
	db   *badger.DB
	node uint64 // 0-9
	mu   sync.Mutex
	seqs map[int]*badger.Sequence
}

func newIDs(db *badger.DB, node int) *ids {
	return &ids{db: db, node: uint64(min(max(node, 0), 9)), seqs: make(map[int]*badger.Sequence)}
}

// next returns the next id of year as its number (e.g. 2026000001344).
// The first id of a year ends in 000000001.
func (g *ids) next(year int) (uint64, error) {
	if year < 1 || year > 9999 {
		return 0, fmt.Errorf("next id: year %d out of range", year)
	}
	g.mu.Lock()
	seq, ok := g.seqs[year]
	if !ok {
		var err error
		seq, err = g.db.GetSequence(seqKey(year), seqBandwidth)
		if err != nil {
			g.mu.Unlock()
			return 0, fmt.Errorf("next id: sequence %d: %w", year, err)
		}
		g.seqs[year] = seq
	}
	g.mu.Unlock()
	n, err := seq.Next()
	if err != nil {
		return 0, fmt.Errorf("next id: %w", err)
	}
	n++ // Badger sequences start at 0
	if n > maxSeq {
		return 0, fmt.Errorf("next id: year %d exhausted (%d ids a node)", year, maxSeq)
	}
	return uint64(year)*1_000_000_000 + g.node*nodeSpan + n, nil
}

// release returns unused leases; call before closing the DB.
func (g *ids) release() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var errs []error
	for year, seq := range g.seqs {
		if err := seq.Release(); err != nil {
			errs = append(errs, fmt.Errorf("release sequence %d: %w", year, err))
		}
		delete(g.seqs, year)
	}
	return errors.Join(errs...)
}

// seqKey is the key of the Badger sequence of a year's record ids.
func seqKey(year int) []byte { return []byte("seq/" + strconv.Itoa(year)) }

// formatID renders an id number as its 13 digits.
func formatID(n uint64) string {
	return fmt.Sprintf("%013d", n)
}

// parseID accepts exactly 13 ASCII digits.
func parseID(s string) (uint64, bool) {
	if len(s) != idLen {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// yearOf is the year of t in loc, the one that prefixes its id.
func yearOf(t time.Time, loc *time.Location) int { return t.In(loc).Year() }
