package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// Rewrap moves the data keys of older files to the current KEK by
// rewriting their key block (header bytes 32..99) in place; no audio is
// re-encrypted (FORMAT.md, "Key rotation"). An intent record in the index,
// w/<file>, written before each in-place write and removed with the index
// update that follows it, makes it resumable after a crash.

// RewrapReport is what Rewrap did and what is left to do.
type RewrapReport struct {
	// Rewrapped counts the files whose data key Rewrap moved to the
	// current KEK (with those a crashed run had written and this one
	// finished in the index).
	Rewrapped int `json:"rewrapped"`
	// Skipped counts the files already under the current KEK.
	Skipped int `json:"skipped"`
	// Failed counts the files left as they were, each reported to fn.
	Failed int `json:"failed"`
	// Evicted counts the recordings whose file is only on a storage
	// target (evicted) with their KEK unknown (evicted before the index
	// kept it, EvictedKEK): their copies keep the KEK they were written
	// under, which no local file tells, so no retired KEK can be proved
	// unused while there is one.
	Evicted int `json:"evicted"`
	// Current is the id of the current KEK.
	Current string `json:"current"`
	// InUse lists the ids of the KEKs that files under records/ still
	// name, sorted (the current one among them as soon as a file uses it).
	InUse []string `json:"in_use"`
	// Retirable lists the retired KEKs (keys/kek-<id>) no file needs any
	// more (RetirableKEKs): their files can be removed.
	Retirable []string `json:"retirable"`
}

// rewrapIntent is the index's record of one in-place rewrite of a key
// block, set before the write and deleted with the index update after it.
// It holds the old key block (wrapped under the old KEK: as secret as the
// file's header was, and useless once that KEK is retired) so that a torn
// write can be undone, and only the hash of the new one.
type rewrapIntent struct {
	File   string `json:"file"`             // relative to the data dir
	ID     string `json:"id"`               // the record id in the header
	Old    string `json:"old"`              // hex of the key block before
	New    string `json:"new"`              // hex SHA-256 of the key block written
	Was    string `json:"was,omitempty"`    // an indexed file's SHA-256 before
	SHA256 string `json:"sha256,omitempty"` // an indexed file's SHA-256 after
}

// intentPrefix starts the index keys of rewrap intents: w/<file>.
const intentPrefix = "w/"

func intentKey(file string) []byte { return []byte(intentPrefix + file) }

// errBeingWritten: a Writer or a recovery of this store has the file.
var errBeingWritten = errors.New("being written (run rewrap again once it is sealed)")

// Rewrap rewraps, under the current KEK, the data key of every recording
// file whose key block names another KEK: sealed files under records/ and
// .part files. It is meant for a stopped daemon (callvaultd keys rewrap):
// files a Writer of this store has open are left alone and reported.
// Per file: the key block is unwrapped with the old KEK and wrapped with
// the current one under a fresh nonce; for an indexed file the file's
// SHA-256 must first be the indexed one (else it is reported and left:
// Rewrap never gives a changed file a new hash); an intent is written to
// the index; bytes 32..99 are written in place and fsynced; then, in one
// transaction, the record takes the file's new SHA-256, a recording with
// copies off the box goes back into the copy queue (its copies hold the
// old bytes; the archiver copies it again) and the intent is removed.
//
// A run cut short is finished by the next: a file already under the
// current KEK is skipped, and each intent left in the index is settled
// first (the write done: the index is updated; not done: nothing to undo;
// torn: the old key block is put back and the file rewrapped again).
//
// fn, when not nil, is called with the record id of each file rewrapped
// (err nil) or left as it was (err says why). The report counts them and
// lists the KEKs still in use; the error is for a store that cannot be
// walked or written at all. One AuditKeyRewrapped entry records the
// counts at the end.
func (s *Store) Rewrap(fn func(id string, err error)) (rep RewrapReport, err error) {
	if fn == nil {
		fn = func(string, error) {}
	}
	if err := s.checkOpen("rewrap"); err != nil {
		return rep, err
	}
	rep.Current = s.kek.idHex()
	defer func() {
		if aerr := s.auditRewrap(rep, err); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}()
	run := &rewrapRun{s: s, rep: &rep, fn: fn}
	if run.evictions, err = s.evictionKeys(); err != nil {
		return rep, fmt.Errorf("rewrap: %w", err)
	}
	if err := run.settleIntents(); err != nil {
		return rep, fmt.Errorf("rewrap: %w", err)
	}
	for _, suffix := range []string{sealedSuffix, partSuffix} {
		err := s.walkRecords(suffix, func(path string) error {
			run.file(path)
			return s.checkOpen("rewrap")
		})
		if err != nil {
			return rep, fmt.Errorf("rewrap: %w", err)
		}
	}
	inUse, evicted, err := s.kekUse()
	if err != nil {
		return rep, fmt.Errorf("rewrap: %w", err)
	}
	rep.Evicted, rep.InUse = evicted, inUse
	rep.Retirable = s.retirable(inUse, evicted)
	return rep, nil
}

// rewrapRun is one run of Rewrap.
type rewrapRun struct {
	s   *Store
	rep *RewrapReport
	fn  func(id string, err error)
	// evictions are the pending eviction keys (e/<nanos>/<id>) by record
	// id: a rewrapped recording's are dropped, as its copies no longer
	// stand for its file until the archiver has copied it again (whose
	// settling sets a new one).
	evictions map[string][][]byte
}

// file rewraps one file and counts the outcome.
func (run *rewrapRun) file(path string) {
	s, rep, fn := run.s, run.rep, run.fn
	id, done, err := run.rewrapFile(path)
	if id == "" {
		id = s.rel(path)
		if n, ok := idOfName(filepath.Base(path)); ok {
			id = n
		}
	}
	switch {
	case err != nil:
		rep.Failed++
		fn(id, fmt.Errorf("%s: %w", s.rel(path), err))
	case done:
		rep.Rewrapped++
		fn(id, nil)
	default:
		rep.Skipped++
	}
}

// rewrapFile rewraps the file at path if its key block names a KEK other
// than the current one; done is false for a file already under it. id is
// the record id its header carries ("" when unreadable).
func (run *rewrapRun) rewrapFile(path string) (id string, done bool, err error) {
	s := run.s
	if !s.live.claim(path) {
		return "", false, errBeingWritten
	}
	defer s.live.release(path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	raw := make([]byte, headerSize)
	if _, err := f.ReadAt(raw, 0); err != nil {
		return "", false, readErr("header", err)
	}
	h, err := parseHeader(raw)
	if err != nil {
		return "", false, err
	}
	id = formatID(h.recordID)
	if h.kekID == s.kek.current().id {
		return id, false, nil
	}
	in, block, err := s.prepareRewrap(f, path, &h, raw)
	if err != nil {
		return id, false, err
	}
	return id, true, run.writeRewrap(f, in, block)
}

// prepareRewrap wraps the data key of h (raw: its bytes) under the
// current KEK and returns the intent and the new key block; for an
// indexed sealed file it checks the file's SHA-256 against the index's
// and computes the new one.
func (s *Store) prepareRewrap(f *os.File, path string, h *header, raw []byte) (rewrapIntent, []byte, error) {
	from := s.kek.find(h.kekID)
	if from == nil {
		_, err := s.kek.unwrap(h, raw) // the ErrWrongKey naming the id
		return rewrapIntent{}, nil, err
	}
	key, err := from.openKey(h, raw)
	if err != nil {
		return rewrapIntent{}, nil, err
	}
	defer clear(key)
	nh := *h
	if err := s.kek.current().wrap(&nh, key); err != nil {
		return rewrapIntent{}, nil, err
	}
	newRaw := nh.marshal()
	block := newRaw[identitySize:]
	sum := sha256.Sum256(block)
	in := rewrapIntent{File: s.rel(path), ID: formatID(h.recordID),
		Old: hex.EncodeToString(raw[identitySize:]), New: hex.EncodeToString(sum[:])}
	rec, indexed, err := s.indexedRecord(path, in.ID)
	if err != nil || !indexed {
		return in, block, err
	}
	if in.Was, in.SHA256, err = rewrapSums(f, raw, newRaw); err != nil {
		return in, nil, err
	}
	if rec.SHA256 != "" && !strings.EqualFold(rec.SHA256, in.Was) {
		return in, nil, fmt.Errorf("its SHA-256 %s is not the indexed %s (run verify): not rewrapped: %w", in.Was, rec.SHA256, ErrCorrupt)
	}
	return in, block, nil
}

// indexedRecord returns the record of a sealed file at path, and whether
// the index holds one for this very file (a .part, or a sealed file the
// index lacks or names otherwise, has no record to update).
func (s *Store) indexedRecord(path, id string) (Recording, bool, error) {
	if !strings.HasSuffix(path, sealedSuffix) {
		return Recording{}, false, nil
	}
	rec, err := s.Get(id)
	switch {
	case errors.Is(err, ErrNotFound):
		return rec, false, nil
	case err != nil:
		return rec, false, err
	case !rec.Evicted.IsZero():
		return rec, false, fmt.Errorf("the index says recording %s was evicted, yet its file is here: not rewrapped", id)
	}
	return rec, s.Path(rec) == path, nil
}

// rewrapSums reads the file f (whose header is raw) once and returns its
// hex SHA-256 as it is and as it will be with newRaw as its header.
func rewrapSums(f *os.File, raw, newRaw []byte) (was, now string, err error) {
	oldH, newH := sha256.New(), sha256.New()
	oldH.Write(raw)
	newH.Write(newRaw)
	if _, err := io.Copy(io.MultiWriter(oldH, newH), io.NewSectionReader(f, headerSize, 1<<62)); err != nil {
		return "", "", fmt.Errorf("hash: %w", err)
	}
	return hex.EncodeToString(oldH.Sum(nil)), hex.EncodeToString(newH.Sum(nil)), nil
}

// writeRewrap records the intent, writes the new key block in place,
// fsyncs, and completes the rewrap in the index.
func (run *rewrapRun) writeRewrap(f *os.File, in rewrapIntent, block []byte) error {
	s := run.s
	val, err := json.Marshal(in)
	if err != nil {
		return err
	}
	err = s.update("rewrap intent", func(txn *badger.Txn) error { return txn.Set(intentKey(in.File), val) })
	if err != nil {
		return err
	}
	if err := s.kek.step("marked"); err != nil {
		return err
	}
	if _, err := f.WriteAt(block, identitySize); err != nil {
		return fmt.Errorf("write the key block: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync the key block: %w", err)
	}
	if err := s.kek.step("written"); err != nil {
		return err
	}
	return run.completeRewrap(in)
}

// completeRewrap gives an indexed file's record its new SHA-256, queues a
// recording with copies for copying again (dropping its pending
// evictions), and removes the intent, in one transaction. A record whose
// SHA-256 is neither the one before nor the one after is left alone and
// reported.
func (run *rewrapRun) completeRewrap(in rewrapIntent) error {
	var stale error
	err := run.s.update("rewrap", func(txn *badger.Txn) error {
		stale = nil
		if err := txn.Delete(intentKey(in.File)); err != nil {
			return err
		}
		if in.SHA256 == "" {
			return nil
		}
		rec, err := getRecord(txn, in.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !strings.EqualFold(rec.SHA256, in.Was) && !strings.EqualFold(rec.SHA256, in.SHA256) && rec.SHA256 != "" {
			stale = fmt.Errorf("rewrapped, but the index's SHA-256 %s changed meanwhile (run verify)", rec.SHA256)
			return nil
		}
		rec.SHA256 = in.SHA256
		if err := setRecordValue(txn, rec); err != nil {
			return err
		}
		if len(rec.Copies) == 0 {
			return nil
		}
		for _, k := range run.evictions[rec.ID] {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Set(queueKey(rec.ID), nil)
	})
	if err == nil && stale == nil {
		delete(run.evictions, in.ID)
	}
	return errors.Join(err, stale)
}

// evictionKeys returns the pending eviction keys by record id.
func (s *Store) evictionKeys() (map[string][][]byte, error) {
	out := map[string][][]byte{}
	err := s.view("pending evictions", func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte("e/")
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(opts.Prefix); it.Next() {
			key := it.Item().KeyCopy(nil)
			id := string(key[bytes.LastIndexByte(key, '/')+1:])
			out[id] = append(out[id], key)
		}
		return nil
	})
	return out, err
}

// settleIntents finishes what a crashed Rewrap left: for each intent in
// the index, the file's key block is the old one (nothing was written:
// the intent goes, the walk rewraps the file), the new one (the write
// landed: the index is completed and the file counts as rewrapped), zeros
// (the file was shredded since: the intent goes) or anything else (a torn
// write: the old block is put back, then the walk rewraps the file).
func (run *rewrapRun) settleIntents() error {
	rep, fn := run.rep, run.fn
	intents, err := run.s.intents()
	if err != nil {
		return err
	}
	for _, in := range intents {
		landed, err := run.settleIntent(in)
		switch {
		case err != nil:
			rep.Failed++
			fn(in.ID, fmt.Errorf("%s: finishing an interrupted rewrap: %w", in.File, err))
		case landed:
			rep.Rewrapped++
			fn(in.ID, nil)
		}
	}
	return nil
}

// settleIntent settles one intent; landed says the new key block was on
// disk and the index is now completed.
func (run *rewrapRun) settleIntent(in rewrapIntent) (landed bool, err error) {
	s := run.s
	path := joinUnder(s.dir, in.File)
	drop := func() error {
		return s.update("rewrap intent", func(txn *badger.Txn) error { return txn.Delete(intentKey(in.File)) })
	}
	if !s.live.claim(path) {
		return false, errBeingWritten
	}
	defer s.live.release(path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, drop()
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	block := make([]byte, headerSize-identitySize)
	if _, err := f.ReadAt(block, identitySize); err != nil {
		return false, readErr("key block", err)
	}
	old, err := hex.DecodeString(in.Old)
	if err != nil || len(old) != len(block) {
		return false, fmt.Errorf("intent without the old key block: %w", ErrCorrupt)
	}
	sum := sha256.Sum256(block)
	switch {
	case bytes.Equal(block, old), allZero(block):
		return false, drop()
	case hex.EncodeToString(sum[:]) == in.New:
		return true, run.completeRewrap(in)
	}
	if _, err := f.WriteAt(old, identitySize); err != nil {
		return false, fmt.Errorf("put the old key block back: %w", err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("put the old key block back: %w", err)
	}
	return false, drop()
}

// intents returns the rewrap intents in the index.
func (s *Store) intents() ([]rewrapIntent, error) {
	var out []rewrapIntent
	err := s.view("rewrap intents", func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(intentPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(opts.Prefix); it.Next() {
			var in rewrapIntent
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &in) }); err != nil {
				return fmt.Errorf("intent %s: %w", it.Item().Key(), err)
			}
			out = append(out, in)
		}
		return nil
	})
	return out, err
}

// RetirableKEKs returns the ids of the retired KEKs (keys/kek-<id>) that
// no file under records/, no evicted recording (only on a storage target,
// whose copy keeps the KEK it was written under) and no rewrap intent
// names any more, sorted: their files can be removed. It reads the header
// of every file, and returns none while an evicted recording's KEK is not
// known (evicted before the index kept it).
func (s *Store) RetirableKEKs() ([]string, error) {
	if err := s.checkOpen("retirable keys"); err != nil {
		return nil, err
	}
	inUse, evicted, err := s.kekUse()
	if err != nil {
		return nil, fmt.Errorf("retirable keys: %w", err)
	}
	return s.retirable(inUse, evicted), nil
}

// retirable is the retired KEKs not in inUse; none with evicted
// recordings.
func (s *Store) retirable(inUse []string, evicted int) []string {
	out := []string{}
	if evicted > 0 {
		return out
	}
	for _, id := range s.kek.retiredIDs() {
		if !slices.Contains(inUse, id) {
			out = append(out, id)
		}
	}
	return out
}

// kekUse returns the ids of the KEKs that the files under records/ (of
// any kind), the evicted recordings and the rewrap intents name, sorted,
// and how many recordings are evicted with their KEK unknown.
func (s *Store) kekUse() (inUse []string, evicted int, err error) {
	seen := map[string]bool{}
	err = s.walkRecords("", func(path string) error {
		if id, ok := fileKEK(path); ok {
			seen[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	intents, err := s.intents()
	if err != nil {
		return nil, 0, err
	}
	for _, in := range intents {
		if len(in.Old) >= 2*kekIDSize {
			seen[in.Old[:2*kekIDSize]] = true
		}
	}
	if evicted, err = s.evictedKEKs(seen); err != nil {
		return nil, 0, err
	}
	return slices.Sorted(maps.Keys(seen)), evicted, nil
}

// fileKEK returns the hex KEK id in the header of the file at path, or
// false when it has no header that parses.
func fileKEK(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	raw := make([]byte, headerSize)
	if _, err := io.ReadFull(f, raw); err != nil {
		return "", false
	}
	h, err := parseHeader(raw)
	if err != nil {
		return "", false
	}
	return hex.EncodeToString(h.kekID[:]), true
}

// evictedKEKs adds to seen the KEKs of the evicted recordings and counts
// those whose KEK is not known.
func (s *Store) evictedKEKs(seen map[string]bool) (unknown int, err error) {
	err = s.eachEvicted(func(rec Recording) {
		if rec.EvictedKEK == "" {
			unknown++
		} else {
			seen[rec.EvictedKEK] = true
		}
	})
	return unknown, err
}

// eachEvicted calls fn with each recording whose local file was evicted.
func (s *Store) eachEvicted(fn func(Recording)) error {
	const page = 1000
	after := ""
	for {
		recs, err := s.recordsAfter(after, page)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if !rec.Evicted.IsZero() {
				fn(rec)
			}
		}
		if len(recs) < page {
			return nil
		}
		after = recs[len(recs)-1].ID
	}
}

// auditRewrap appends the AuditKeyRewrapped entry of a Rewrap.
func (s *Store) auditRewrap(rep RewrapReport, runErr error) error {
	detail := fmt.Sprintf("kek %s: rewrapped %d, skipped %d, failed %d, evicted %d; keys in use %s; retirable %s",
		rep.Current, rep.Rewrapped, rep.Skipped, rep.Failed, rep.Evicted, orNone(rep.InUse), orNone(rep.Retirable))
	if runErr != nil {
		detail += "; stopped: " + runErr.Error()
	}
	_, err := s.AuditAppend(AuditEntry{Action: AuditKeyRewrapped, Actor: ActorSystem, UID: -1, Detail: detail})
	if err != nil {
		return fmt.Errorf("rewrap: audit: %w", err)
	}
	return nil
}

// orNone joins ids with commas, or says none.
func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ",")
}

// RewrapDir is the offline rewrap (callvaultd keys rewrap): it opens the
// store in cfg.Dir (never creating a data dir or a key; refusing while a
// daemon holds the index), runs Rewrap with fn, and closes the store.
func RewrapDir(cfg Config, log *slog.Logger, fn func(id string, err error)) (rep RewrapReport, err error) {
	s, err := openExisting(cfg, log, "index in use (is callvaultd running? stop it first)")
	if err != nil {
		return rep, fmt.Errorf("rewrap %s: %w", cfg.Dir, err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("rewrap %s: close: %w", cfg.Dir, cerr))
		}
	}()
	return s.Rewrap(fn)
}
