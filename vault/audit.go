package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// The audit trail: an append-only log of what was done to recordings,
// users, the licence and the keys, in <Dir>/audit/audit.log (FORMAT.md,
// "Audit log"). Each line is one AuditEntry as JSON; each entry carries
// the SHA-256 of the line before it, so the log is a hash chain, and the
// index keeps the last entry's number, hash and end offset under
// meta/audit-head (the head). This file appends; audit_recover.go opens
// the log after a crash; audit_verify.go checks and reads it.

// Actions of audit entries. The name is <object>.<past participle>.
const (
	AuditRecordingCreated  = "recording.created"  // sealed (or recovered) and indexed
	AuditRecordingExported = "recording.exported" // its audio was handed out
	AuditRecordingVerified = "recording.verified" // its file was checked (Detail: the result)
	AuditRecordingDeleted  = "recording.deleted"  // removed one by one (Detail: why)
	AuditRecordingPurged   = "recording.purged"   // removed by retention or an explicit purge
	AuditRecordingHeld     = "recording.held"     // put under legal hold (Detail: the reason)
	AuditRecordingReleased = "recording.released" // its legal hold lifted
	AuditRecordingErased   = "recording.erased"   // crypto-shredded on request (Detail: the reason)
	AuditUserAdded         = "user.added"         // Detail: the user name
	AuditUserChanged       = "user.changed"       // Detail: the user name and what changed
	AuditUserRemoved       = "user.removed"       // Detail: the user name
	AuditLicenseInstalled  = "license.installed"  // Detail: customer, model, count
	AuditKeyRotated        = "key.rotated"        // a new KEK is current (Detail: the KEK ids, never a key)
	AuditKeyRewrapped      = "key.rewrapped"      // data keys rewrapped to the current KEK
	// AuditResumed is written by the store itself when it opens a log that
	// disagrees with its head in the index (entries lost or changed):
	// appending resumes after the last entry that parses, and this entry
	// records what was found. AuditVerify reports the first one.
	AuditResumed = "audit.resumed"
)

// ActorSystem is the Actor of entries the daemon writes on its own
// (UID -1).
const ActorSystem = "system"

// Bounds on an entry's fields: Append cuts longer values on a UTF-8
// boundary, so a line stays small and a torn write stays within the tail
// that recovery looks at.
const (
	maxAuditField  = 64   // Action, ID, Actor
	maxAuditDetail = 1024 // Detail
	// maxAuditBatch is the most entries one write and fsync carry.
	maxAuditBatch = 256
)

// AuditEntry is one line of the audit log. The JSON field order is the
// struct's: a line is json.Marshal of the entry.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`    // 1, 2, 3, … set by Append
	Time   time.Time `json:"time"`   // UTC, set by Append
	Action string    `json:"action"` // one of the Audit* actions
	ID     string    `json:"id"`     // record id, or "" when none
	Actor  string    `json:"actor"`  // unix user name from the peer credentials, or "system"
	UID    int       `json:"uid"`    // the actor's uid, -1 for the system
	Detail string    `json:"detail"` // reason, target, user changed…; never a key
	Prev   string    `json:"prev"`   // hex SHA-256 of the previous line, "" for the first
}

// AuditHead is the index's record of the last entry appended: its Seq,
// the hex SHA-256 of its line and the log's size in bytes after it. It is
// written after the entry is synced, so the log may be ahead of its head
// by the entries of one batch, never behind it.
type AuditHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	Size int64  `json:"size"`
}

// auditHeadKey is the index key of the AuditHead (JSON).
var auditHeadKey = []byte("meta/audit-head")

// AuditAppend appends e to the audit log and returns it as written, with
// Seq, Time and Prev set (Action and Actor are required; long fields are
// cut). The entry is on disk (written and fsynced) when AuditAppend
// returns without error; the head in the index is written after that, and
// a failure to write it is logged, not returned (the log may run ahead of
// its head). Concurrent calls share one write and one fsync per batch (a
// group commit): the first caller to find the log idle writes every entry
// waiting, up to 256, while later callers queue for the next batch.
// The log is opened (OpenAudit) on first use.
func (s *Store) AuditAppend(e AuditEntry) (AuditEntry, error) {
	if e.Action == "" || e.Actor == "" {
		return AuditEntry{}, errors.New("audit: an entry needs an action and an actor")
	}
	return s.audit().append(s, e)
}

// OpenAudit opens the audit log, creating <Dir>/audit (0700) and
// audit.log (0600) on first use, and recovers it after a crash: a torn
// tail (bytes after the last complete entry) is moved to a file beside the
// log and cut off, and a log that disagrees with its head in the index
// gets an AuditResumed entry. The daemon calls it after Open so that a
// problem shows at start; AuditAppend calls it when it was not called.
func (s *Store) OpenAudit() error {
	l := s.audit()
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := s.checkOpen("open audit log"); err != nil {
		l.closeFile()
		return err
	}
	return l.ensureOpen(s)
}

// auditLog is a store's audit log: the queue of entries waiting, and the
// open file with the chain's state, which belong to whoever holds writeMu
// (the leader writing a batch).
type auditLog struct {
	dir string // <Dir>/audit
	log *slog.Logger
	now func() time.Time // tests replace it

	mu      sync.Mutex  // guards pending
	pending []*auditReq // in arrival order

	writeMu sync.Mutex // the leader's: guards every field below
	f       *os.File   // nil until opened (and after a failed write)
	seq     uint64     // the last entry's Seq
	hash    string     // the last entry's line hash
	size    int64      // the file's size after the last synced batch
	batches uint64     // batches written (benchmarks)
	entries uint64     // entries written (benchmarks)
}

// auditReq is one AuditAppend waiting for its batch. The leader fills out,
// err and done while it holds writeMu; the caller reads them once it holds
// writeMu in turn.
type auditReq struct {
	in, out AuditEntry
	err     error
	done    bool
}

// audit returns the audit log of s.
func (s *Store) audit() *auditLog { return s.auditLog }

// checkOpen returns ErrClosed (wrapped with op) once the store is closed.
func (s *Store) checkOpen(op string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("%s: store %w", op, ErrClosed)
	}
	return nil
}

// path is the log file's path.
func (l *auditLog) path() string { return filepath.Join(l.dir, "audit.log") }

// append queues e and waits until a leader (perhaps this call) has
// written it.
func (l *auditLog) append(s *Store, e AuditEntry) (AuditEntry, error) {
	e.Action = clipString(e.Action, maxAuditField)
	e.ID = clipString(e.ID, maxAuditField)
	e.Actor = clipString(e.Actor, maxAuditField)
	e.Detail = clipString(e.Detail, maxAuditDetail)
	r := &auditReq{in: e}
	l.mu.Lock()
	r.in.Time = l.now().UTC() // under mu: times follow the order of the log
	l.pending = append(l.pending, r)
	l.mu.Unlock()

	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	for !r.done {
		l.lead(s)
	}
	return r.out, r.err
}

// lead writes the next batch of waiting entries. The caller holds writeMu.
func (l *auditLog) lead(s *Store) {
	l.mu.Lock()
	n := min(len(l.pending), maxAuditBatch)
	batch := l.pending[:n:n]
	l.pending = l.pending[n:]
	l.mu.Unlock()

	err := s.checkOpen("audit")
	if err != nil {
		l.closeFile()
	} else {
		err = l.ensureOpen(s)
	}
	if err == nil {
		err = l.write(s, batch)
	}
	for _, r := range batch {
		if err != nil {
			r.out, r.err = AuditEntry{}, err
		}
		r.done = true
	}
}

// write appends the entries of batch in one write, fsyncs, then writes the
// head. On a failed write or fsync the file is cut back to its last synced
// size and closed, so that nothing of a failed batch stays in the log; the
// next batch reopens it.
func (l *auditLog) write(s *Store, batch []*auditReq) error {
	var buf []byte
	seq, prev := l.seq, l.hash
	for _, r := range batch {
		e := r.in
		seq++
		e.Seq, e.Prev = seq, prev
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("audit: encode entry: %w", err)
		}
		prev = lineHash(line)
		buf = append(append(buf, line...), '\n')
		r.out = e
	}
	_, err := l.f.Write(buf)
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			l.log.Error("audit log: cutting a failed batch", "path", l.path(), "err", terr)
		}
		l.closeFile()
		return fmt.Errorf("audit: write %s: %w", l.path(), err)
	}
	l.seq, l.hash, l.size = seq, prev, l.size+int64(len(buf))
	l.batches++
	l.entries += uint64(len(batch))
	head := AuditHead{Seq: l.seq, Hash: l.hash, Size: l.size}
	if err := s.setAuditHead(head); err != nil {
		l.log.Warn("audit log synced, its head not written to the index", "seq", head.Seq, "err", err)
	}
	return nil
}

// closeFile closes the log file (if open). The caller holds writeMu.
func (l *auditLog) closeFile() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// lineHash is the hex SHA-256 of a line without its newline: the next
// entry's Prev.
func lineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// setAuditHead writes h under meta/audit-head.
func (s *Store) setAuditHead(h AuditHead) error {
	v, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return s.update("audit head", func(txn *badger.Txn) error {
		return txn.Set(auditHeadKey, v)
	})
}

// auditHead reads meta/audit-head; ok is false when the index has none (a
// new log, or an index rebuilt by reindex).
func (s *Store) auditHead() (h AuditHead, ok bool, err error) {
	err = s.view("audit head", func(txn *badger.Txn) error {
		item, err := txn.Get(auditHeadKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &h) })
	})
	return h, ok, err
}
