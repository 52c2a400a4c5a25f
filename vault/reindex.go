package vault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/callvault/callvault/internal/atomicfile"
)

// reindexBatch is how many recordings Reindex writes per Badger batch.
const reindexBatch = 256

// errNoID: a file under records/ whose name does not start with a record id.
var errNoID = errors.New("name does not start with a record id")

// sealedFile is a sealed file under records/ and the id its name carries
// ("" when it carries none).
type sealedFile struct{ path, id string }

// unindexedFiles returns the sealed files under records/ whose id the index
// lacks (and those whose name carries no id), in path order. It reads file
// names and index keys only.
func (s *Store) unindexedFiles() ([]sealedFile, error) {
	var files []sealedFile
	var ids []string
	err := s.walkRecords(sealedSuffix, func(path string) error {
		id, _ := idOfName(filepath.Base(path))
		files = append(files, sealedFile{path, id})
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sealed files: %w", err)
	}
	have, err := s.indexed(ids)
	if err != nil {
		return nil, err
	}
	out := files[:0]
	for i, f := range files {
		if f.id == "" || !have[i] {
			out = append(out, f)
		}
	}
	return out, nil
}

// IndexUnindexed indexes every sealed file under records/ whose id the
// index lacks (a crash between rename and index commit), after
// authenticating it; returns what it indexed and the per-file errors
// (files that fail authentication are not indexed; they show in
// VerifyAll). When nothing is missing it costs a walk of the file names
// and one keys-only index lookup per file.
func (s *Store) IndexUnindexed() ([]Recording, []error) {
	files, err := s.unindexedFiles()
	if err != nil {
		return nil, []error{fmt.Errorf("index unindexed files: %w", err)}
	}
	var done []Recording
	var errs []error
	for _, f := range files {
		rec, err := s.recordOfFile(f.path, f.id)
		if err == nil {
			err = s.index(rec)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("index %s: %w", s.rel(f.path), err))
			continue
		}
		s.log.Info("indexed a sealed file the index lacked", "id", rec.ID, "file", rec.File)
		done = append(done, rec)
	}
	return done, errs
}

// recordOfFile authenticates the sealed file at path, whose name carries
// id, and returns its Recording as the index holds it: the head slot's,
// with File where the file lies, its Size and its SHA-256.
func (s *Store) recordOfFile(path, id string) (Recording, error) {
	n, ok := parseID(id)
	if !ok {
		return Recording{}, errNoID
	}
	f, err := openRecordFile(path)
	if err != nil {
		return Recording{}, err
	}
	defer f.Close()
	meta, sum, err := s.authenticate(f, n)
	if err != nil {
		return Recording{}, err
	}
	rec, err := parseMeta(meta)
	if err != nil {
		return rec, err
	}
	if rec.ID != id {
		return rec, fmt.Errorf("head slot names recording %q, the file name %s: %w", rec.ID, id, ErrCorrupt)
	}
	fi, err := f.Stat()
	if err != nil {
		return rec, fmt.Errorf("stat: %w", err)
	}
	rec.File, rec.Size, rec.SHA256 = s.rel(path), fi.Size(), sum
	return rec, nil
}

// ReindexReport is what Reindex did.
type ReindexReport struct {
	Indexed      int     // recordings indexed
	Failed       []Check // sealed files not indexed, and why
	MovedIndexTo string  // where the old index went; "" when there was none
	// Carried counts what came over from the old index that the files
	// cannot tell: holds, copies, evicted recordings, tombstones.
	Carried int
	// HoldsRestored counts the legal holds put back from the audit trail
	// (an index lost with no old copy to carry them over from).
	HoldsRestored int
}

// Reindex rebuilds the index from the files alone: it moves <Dir>/index
// aside to <Dir>/index.old-<UTC timestamp> (if present), opens a fresh
// index, records the KEK id, indexes every sealed file that authenticates
// (with its SHA-256), and sets each year's id sequence past the highest id
// found on disk (also counting .part files and files that fail) so ids
// never repeat. It is offline: it refuses while a daemon holds the index,
// and never creates a data dir or a key.
func Reindex(cfg Config, log *slog.Logger) (ReindexReport, error) {
	return reindex(cfg, log, time.Now())
}

// reindex is Reindex at time now (which names the old index).
func reindex(cfg Config, log *slog.Logger, now time.Time) (rep ReindexReport, err error) {
	return reindexWith(cfg, log, now, nil)
}

// reindexWith is Reindex at time now, then the recordings of sources
// (ReindexFromTargets).
func reindexWith(cfg Config, log *slog.Logger, now time.Time, sources []TargetSource) (rep ReindexReport, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkExisting(cfg); err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	}
	idx := filepath.Join(cfg.Dir, "index")
	if busy, err := indexInUse(idx); err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	} else if busy {
		return rep, errors.New("reindex: index in use (is callvaultd running? stop it first)")
	}
	if rep.MovedIndexTo, err = moveAside(idx, now); err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	}
	if rep.MovedIndexTo != "" {
		log.Info("old index moved aside", "to", rep.MovedIndexTo)
		defer func() {
			if err != nil {
				err = fmt.Errorf("%w (the old index is in %s)", err, rep.MovedIndexTo)
			}
		}()
	}
	s, err := Open(cfg, log)
	if err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("reindex: close: %w", cerr))
		}
	}()
	if err := s.reindexFiles(&rep); err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	}
	if rep.MovedIndexTo != "" {
		if n, err := s.carryOver(rep.MovedIndexTo); err != nil {
			log.Warn("reindex: holds, copies and tombstones of the old index not all carried over", "err", err, "carried", n)
		} else {
			rep.Carried = n
		}
	}
	if err := s.reindexTargets(context.Background(), sources, &rep, now); err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	}
	if rep.HoldsRestored, err = s.restoreHolds(); err != nil {
		log.Warn("reindex: legal holds of the audit trail not all restored", "err", err, "restored", rep.HoldsRestored)
	}
	log.Info("reindexed", "indexed", rep.Indexed, "failed", len(rep.Failed))
	return rep, nil
}

// reindexFiles indexes every sealed file into the (fresh) index and raises
// the id sequences past every id on disk.
func (s *Store) reindexFiles(rep *ReindexReport) error {
	highest := map[int]uint64{} // year -> highest sequence number on disk
	indexedAt := map[string]string{}
	var batch []Recording
	flush := func() error {
		if err := s.indexNew(batch); err != nil {
			return err
		}
		rep.Indexed += len(batch)
		batch = batch[:0]
		return nil
	}
	fail := func(c Check) {
		s.log.Warn("reindex: file not indexed", "file", c.File, "status", c.Status, "detail", c.Detail)
		rep.Failed = append(rep.Failed, c)
	}
	err := s.walkRecords("", func(path string) error {
		name := filepath.Base(path)
		sealed := strings.HasSuffix(name, sealedSuffix)
		if !sealed && !strings.HasSuffix(name, partSuffix) {
			return nil
		}
		id, ok := idOfName(name)
		if ok {
			n, _ := parseID(id)
			year, seq := int(n/1_000_000_000), n%nodeSpan // the sequence, without the node
			highest[year] = max(highest[year], seq)
		}
		if !sealed {
			return nil
		}
		rel := s.rel(path)
		if prev, dup := indexedAt[id]; ok && dup {
			fail(Check{ID: id, File: rel, Status: CheckUnindexed, Detail: "another file with this id is indexed: " + prev})
			return nil
		}
		rec, err := s.recordOfFile(path, id)
		if errors.Is(err, errNoID) {
			fail(Check{File: rel, Status: CheckUnindexed, Detail: err.Error()})
			return nil
		}
		if err != nil {
			status, detail := classify(err)
			fail(Check{ID: id, File: rel, Status: status, Detail: detail})
			return nil
		}
		indexedAt[id] = rel
		batch = append(batch, rec)
		if len(batch) == reindexBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return err
	}
	return s.raiseSequences(highest)
}

// raiseSequences sets each year's id sequence so that its next id is past
// highest[year]. Badger keeps a sequence's lease bound under its key as a
// big-endian uint64 and hands that value out first; ids.go adds 1. Only
// call it before any id of those years is handed out by this Store.
func (s *Store) raiseSequences(highest map[int]uint64) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("raise id sequences: store %w", ErrClosed)
	}
	if err := s.makeIndexRoom(); err != nil {
		return fmt.Errorf("raise id sequences: %w", err)
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		for year, seq := range highest {
			key := seqKey(year)
			item, err := txn.Get(key)
			switch {
			case err == nil:
				var cur uint64
				if err := item.Value(func(v []byte) error {
					if len(v) == 8 {
						cur = binary.BigEndian.Uint64(v)
					}
					return nil
				}); err != nil {
					return err
				}
				if cur >= seq {
					continue
				}
			case !errors.Is(err, badger.ErrKeyNotFound):
				return err
			}
			if err := txn.Set(key, binary.BigEndian.AppendUint64(nil, seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("raise id sequences: %w", err)
	}
	return nil
}

// moveAside renames the directory dir to dir.old-<now, UTC> and returns the
// new path, or "" when there is no dir.
func moveAside(dir string, now time.Time) (string, error) {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("move index aside: %w", err)
	}
	to := dir + ".old-" + now.UTC().Format("20060102T150405Z")
	if _, err := os.Lstat(to); err == nil {
		return "", fmt.Errorf("move index aside: %s exists", to)
	}
	if err := os.Rename(dir, to); err != nil {
		return "", fmt.Errorf("move index aside: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
		return to, fmt.Errorf("move index aside: %w", err)
	}
	return to, nil
}
