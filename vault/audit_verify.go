package vault

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"
)

// AuditReport is what AuditVerify found.
type AuditReport struct {
	// Entries is the number of entries read and checked (up to the first
	// broken one).
	Entries int `json:"entries"`
	// FirstBroken is the number of the first entry found broken (its Seq,
	// or its line number when the line does not parse); 0 when the log is
	// intact.
	FirstBroken uint64 `json:"first_broken"`
	// Problem says what is wrong with it, for a person.
	Problem string `json:"problem,omitempty"`
	// Head is the index's head; zero when the index has none (a new log,
	// or an index rebuilt by reindex, which cannot vouch for the log's end).
	Head AuditHead `json:"head"`
	// TornBytes counts bytes after the last entry, past the head: a
	// crash's torn write, not a break; the next OpenAudit cuts them.
	TornBytes int64 `json:"torn_bytes,omitempty"`
}

// AuditQuery selects entries: by record id when ID is set, and by time
// within From and To (both inclusive; a zero time is no bound).
type AuditQuery struct {
	ID       string
	From, To time.Time
}

// AuditVerify reads the whole audit log and checks it: every line parses
// and is canonical, Seq goes up by one from 1, every Prev is the SHA-256 of
// the line before, no entry records an earlier break (AuditResumed), and
// the log reaches the index's head with the hash the head recorded (the
// log may be ahead of it by a batch, never behind). The first broken entry
// is reported in the AuditReport; the error is for a closed store or an
// unreadable log. A line whose hash no longer matches the next entry's
// Prev is the one changed; when an entry's own Prev is wrong too, that
// entry is.
func (s *Store) AuditVerify() (AuditReport, error) {
	if err := s.checkOpen("audit verify"); err != nil {
		return AuditReport{}, err
	}
	l := s.audit()
	limit, head, ok, err := l.snapshot(s)
	if err != nil {
		return AuditReport{}, fmt.Errorf("audit verify: %w", err)
	}
	w := auditWalk{head: head, haveHead: ok}
	w.rep.Head = head
	if err := scanAuditLines(l.path(), limit, w.step); err != nil {
		return AuditReport{}, fmt.Errorf("audit verify: %w", err)
	}
	w.finish()
	return w.rep, nil
}

// VerifyAudit is the offline audit verify: it opens the store in cfg.Dir
// (never creating a data dir or a key; refusing while a daemon holds the
// index), runs AuditVerify, which changes nothing (a torn tail is only
// counted), and closes the store.
func VerifyAudit(cfg Config, log *slog.Logger) (rep AuditReport, err error) {
	s, err := openExisting(cfg, log, "index in use (is callvaultd running? use `callvault audit verify`)")
	if err != nil {
		return AuditReport{}, fmt.Errorf("audit verify %s: %w", cfg.Dir, err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("audit verify %s: close: %w", cfg.Dir, cerr))
		}
	}()
	return s.AuditVerify()
}

// AuditEntries calls fn with every entry that q selects, oldest first. An
// error from fn stops it and is returned. It reads the whole log from the
// start (there is no index of entries by id or time yet: fine for the
// sizes an appliance writes, and the first thing to add if it grows); a
// line that does not parse is skipped (AuditVerify reports it).
func (s *Store) AuditEntries(q AuditQuery, fn func(AuditEntry) error) error {
	if err := s.checkOpen("audit entries"); err != nil {
		return err
	}
	l := s.audit()
	limit, _, _, err := l.snapshot(nil)
	if err != nil {
		return fmt.Errorf("audit entries: %w", err)
	}
	err = scanAuditLines(l.path(), limit, func(raw []byte) error {
		if len(raw) == 0 || raw[len(raw)-1] != '\n' {
			return nil // a torn tail
		}
		e, err := parseAuditLine(raw[:len(raw)-1])
		if err != nil || !q.match(e) {
			return nil
		}
		return fn(e)
	})
	return err
}

// match reports whether q selects e.
func (q AuditQuery) match(e AuditEntry) bool {
	return (q.ID == "" || e.ID == q.ID) &&
		(q.From.IsZero() || !e.Time.Before(q.From)) &&
		(q.To.IsZero() || !e.Time.After(q.To))
}

// snapshot returns how much of the log to read (its synced size when this
// process has it open, -1 for all of it) and, when s is not nil, the
// index's head, read together between two batches so that they agree.
func (l *auditLog) snapshot(s *Store) (limit int64, head AuditHead, ok bool, err error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	limit = -1
	if l.f != nil {
		limit = l.size
	}
	if s != nil {
		head, ok, err = s.auditHead()
	}
	return limit, head, ok, err
}

// scanAuditLines calls fn with each line of the log, newline included
// (the last may lack one), reading at most limit bytes (all when limit <
// 0). A log that does not exist has no lines.
func scanAuditLines(path string, limit int64, fn func(raw []byte) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		raw, err := br.ReadBytes('\n')
		if len(raw) > 0 {
			if ferr := fn(raw); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// auditWalk checks the log line by line for AuditVerify.
type auditWalk struct {
	rep      AuditReport
	head     AuditHead
	haveHead bool

	line     int    // lines read
	off      int64  // bytes read
	prevSeq  uint64 // the last entry's Seq
	prevHash string // the last entry's line hash
	headHash string // the line hash of the entry numbered head.Seq, once read
	// suspect is an entry whose Prev is not the hash of the entry before
	// it: that entry was changed, or this one; the next line tells.
	suspect uint64
	// bad is the first line that is not an entry: broken if an entry
	// follows it, else the torn tail.
	bad     *badAuditLine
	stopped bool
}

// badAuditLine is a line that is not an entry.
type badAuditLine struct {
	line  int
	start int64
	err   error
}

// step checks the next line.
func (w *auditWalk) step(raw []byte) error {
	if w.stopped {
		return nil
	}
	w.line++
	start := w.off
	w.off += int64(len(raw))
	e, h, err := decodeAuditRaw(raw)
	if err != nil {
		if w.suspect != 0 {
			w.blame(false) // cannot tell: name the earlier
			return nil
		}
		if w.bad == nil {
			w.bad = &badAuditLine{line: w.line, start: start, err: err}
		}
		return nil
	}
	if w.bad != nil {
		w.stop(uint64(w.bad.line), fmt.Sprintf("line %d is not an audit entry (%v)", w.bad.line, w.bad.err))
		return nil
	}
	if w.suspect != 0 {
		w.blame(e.Prev != w.prevHash)
		return nil
	}
	switch {
	case e.Seq != w.prevSeq+1:
		w.stop(w.prevSeq+1, fmt.Sprintf("line %d holds entry %d where entry %d belongs", w.line, e.Seq, w.prevSeq+1))
	case e.Prev != w.prevHash && e.Seq == 1:
		w.stop(1, "entry 1 has a prev; the first entry has none")
	case e.Prev != w.prevHash:
		w.suspect = e.Seq
	case e.Action == AuditResumed:
		w.stop(e.Seq, fmt.Sprintf("entry %d records a break: %s", e.Seq, e.Detail))
	}
	if w.stopped {
		return nil
	}
	w.rep.Entries++
	w.prevSeq, w.prevHash = e.Seq, h
	if w.haveHead && e.Seq == w.head.Seq {
		w.headHash = h
	}
	return nil
}

// decodeAuditRaw parses a line read with its newline and returns the
// entry and the line's hash.
func decodeAuditRaw(raw []byte) (AuditEntry, string, error) {
	if raw[len(raw)-1] != '\n' {
		return AuditEntry{}, "", errors.New("no newline at its end")
	}
	line := raw[:len(raw)-1]
	e, err := parseAuditLine(line)
	if err != nil {
		return e, "", err
	}
	return e, lineHash(line), nil
}

// blame settles a suspect entry k (its Prev is not entry k-1's hash):
// when k's own hash is not the next entry's Prev either (kNext), entry k
// was changed, else entry k-1 was.
func (w *auditWalk) blame(kNext bool) {
	k := w.suspect
	if kNext {
		w.stop(k, fmt.Sprintf("entry %d was changed: its prev is not entry %d's hash and its hash is not entry %d's prev", k, k-1, k+1))
		return
	}
	w.stop(k-1, fmt.Sprintf("entry %d was changed after entry %d was written: its hash is not entry %d's prev", k-1, k, k))
}

// finish settles what the end of the log decides: a pending bad line or
// suspect, and the head.
func (w *auditWalk) finish() {
	if w.stopped {
		return
	}
	if w.suspect != 0 {
		if w.haveHead && w.head.Seq == w.suspect {
			w.blame(w.headHash != w.head.Hash)
		} else {
			w.blame(false)
			w.rep.Problem += fmt.Sprintf(" (or entry %d's prev was changed: the last entry, past the head)", w.suspect)
		}
		return
	}
	if w.bad != nil {
		if w.haveHead && w.bad.start < w.head.Size {
			w.stop(uint64(w.bad.line), fmt.Sprintf("line %d is not an audit entry (%v), inside what the index head covers", w.bad.line, w.bad.err))
			return
		}
		w.rep.TornBytes = w.off - w.bad.start
	}
	if !w.haveHead || w.head.Seq == 0 {
		return
	}
	switch {
	case w.head.Seq > w.prevSeq:
		w.stop(w.prevSeq+1, fmt.Sprintf("the index head says the log has %d entries, it has %d: entries %d to %d were removed",
			w.head.Seq, w.prevSeq, w.prevSeq+1, w.head.Seq))
	case w.headHash != w.head.Hash:
		w.stop(w.head.Seq, fmt.Sprintf("entry %d is not the one the index head recorded (hash %s): the log up to it was rewritten",
			w.head.Seq, w.head.Hash))
	}
}

// stop records the first broken entry.
func (w *auditWalk) stop(n uint64, problem string) {
	w.rep.FirstBroken, w.rep.Problem, w.stopped = n, problem, true
}
