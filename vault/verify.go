package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Statuses of a Check.
const (
	// CheckIntact: every segment authenticates, the final segment is there
	// and the file's SHA-256 matches the index's (when it has one).
	CheckIntact = "intact"
	// CheckTampered: a part fails authentication, the file was written under
	// another key-encryption key, or it authenticates but its SHA-256 is not
	// the indexed one (another copy, or rewritten).
	CheckTampered = "tampered"
	// CheckTruncated: the file ends before its final segment.
	CheckTruncated = "truncated"
	// CheckMissing: the index has the recording, the disk has no file.
	CheckMissing = "missing"
	// CheckUnindexed: a sealed file under records/ the index lacks; Detail
	// says whether it authenticates.
	CheckUnindexed = "unindexed"
	// CheckUnreadable: the file could not be read (permissions, I/O error),
	// which says nothing about its content.
	CheckUnreadable = "unreadable"
	// CheckErased: the file's erasure secret is gone: it was erased (a
	// copy from before the erase), or keys/secrets was lost.
	CheckErased = "erased"
)

// Check is the result of verifying one recording.
type Check struct {
	ID     string `json:"id"`
	File   string `json:"file"`             // relative to the data dir
	Status string `json:"status"`           // one of the Check* constants
	Detail string `json:"detail,omitempty"` // what failed, for a person
}

// Verify authenticates every part of the file of recording id and checks
// its SHA-256 against the index's. The error is for an unknown id
// (ErrNotFound) or a closed store only; every finding about the file is in
// the Check.
func (s *Store) Verify(id string) (Check, error) {
	rec, err := s.Get(id)
	if err != nil {
		return Check{ID: id}, fmt.Errorf("verify: %w", err)
	}
	return s.verify(rec), nil
}

// VerifyAll verifies every indexed recording, in id order, then reports
// every sealed file under records/ the index lacks (CheckUnindexed, after
// authenticating it), and calls fn with each Check. An error from fn stops
// it and is returned. The index is read a page at a time, so no read
// transaction stays open while files are read.
func (s *Store) VerifyAll(fn func(Check) error) error {
	const page = 256
	after := ""
	for {
		recs, err := s.recordsAfter(after, page)
		if err != nil {
			return fmt.Errorf("verify all: %w", err)
		}
		for _, rec := range recs {
			if err := fn(s.verify(rec)); err != nil {
				return err
			}
		}
		if len(recs) < page {
			break
		}
		after = recs[len(recs)-1].ID
	}
	files, err := s.unindexedFiles()
	if err != nil {
		return fmt.Errorf("verify all: %w", err)
	}
	for _, uf := range files {
		c := Check{ID: uf.id, File: s.rel(uf.path), Status: CheckUnindexed}
		_, err := s.recordOfFile(uf.path, uf.id)
		if err == nil {
			c.Detail = "not in the index; the file authenticates (a restart indexes it)"
		} else {
			status, detail := classify(err)
			if status == CheckErased {
				c.Status = status // a backup of an erased recording put back
			}
			c.Detail = "not in the index; " + detail
		}
		// A Seal may have indexed it meanwhile (rename, then index).
		if uf.id != "" {
			if have, err := s.indexed([]string{uf.id}); err == nil && have[0] {
				continue
			}
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// VerifyDir is the offline verify: it opens the store in cfg.Dir (never
// creating a data dir or a key; refusing while a daemon holds the index),
// runs VerifyAll and closes the store.
func VerifyDir(cfg Config, log *slog.Logger, fn func(Check) error) (err error) {
	s, err := openExisting(cfg, log, "index in use (is callvaultd running? use `callvault verify`)")
	if err != nil {
		return fmt.Errorf("verify %s: %w", cfg.Dir, err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("verify %s: close: %w", cfg.Dir, cerr))
		}
	}()
	return s.VerifyAll(fn)
}

// verify checks the file of an indexed recording.
func (s *Store) verify(rec Recording) Check {
	c := Check{ID: rec.ID, File: s.rel(s.Path(rec)), Status: CheckIntact}
	n, _ := parseID(rec.ID)
	f, err := s.openVerified(rec, n)
	if err != nil {
		c.Status, c.Detail = classify(err)
		return c
	}
	f.Close()
	return c
}

// openVerified opens the file of rec, authenticates all of it (id, when not
// 0, is the record id its header must carry), checks its SHA-256 when the
// index has one, and returns it rewound for a second pass.
func (s *Store) openVerified(rec Recording, id uint64) (*os.File, error) {
	f, err := s.openFile(rec)
	if err != nil {
		return nil, err
	}
	_, sum, err := s.authenticate(f, id)
	if err == nil && rec.SHA256 != "" && !strings.EqualFold(sum, rec.SHA256) {
		err = fmt.Errorf("the file authenticates but its SHA-256 %s is not the indexed %s (another copy, or rewritten): %w",
			sum, rec.SHA256, ErrCorrupt)
	}
	if err == nil {
		err = rewind(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// authenticate reads all of r, authenticating every part as decryptFile
// does while keeping no plaintext, and returns the head slot's metadata
// JSON and the hex SHA-256 of every byte of r.
func (s *Store) authenticate(r io.Reader, id uint64) (meta []byte, sum string, err error) {
	h := sha256.New()
	meta, err = decryptFile(io.TeeReader(r, h), s.kek, id, io.Discard)
	if err == nil {
		// decryptFile stops at its final segment; hash whatever it left
		// (nothing, in a file it accepts) so the sum covers the file.
		_, err = io.Copy(h, r)
	}
	if err != nil {
		return nil, "", err
	}
	return meta, hex.EncodeToString(h.Sum(nil)), nil
}

// classify turns an error from opening or authenticating a file into a
// Check status and its detail (the error's text, which names the problem).
func classify(err error) (status, detail string) {
	switch {
	case errors.Is(err, ErrErased):
		return CheckErased, err.Error()
	case errors.Is(err, ErrMissing):
		return CheckMissing, err.Error()
	case errors.Is(err, ErrTruncated):
		return CheckTruncated, err.Error()
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrWrongKey):
		return CheckTampered, err.Error() // ends with which of the two

	}
	return CheckUnreadable, err.Error()
}

// rel is path relative to the data dir, with forward slashes.
func (s *Store) rel(path string) string {
	r, err := filepath.Rel(s.dir, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(r)
}
