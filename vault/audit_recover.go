package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/callvault/callvault/internal/atomicfile"
)

// Opening the audit log after a crash.
//
// A batch is one write(2) and one fsync; its head is written to the index
// after the fsync. A crash can therefore leave (1) a torn tail, bytes of a
// batch that never synced after the last complete entry, and (2) complete
// entries past the head. Opening cuts (1), after copying it to
// audit.log.torn-<offset> beside the log, and keeps (2). A log that ends
// before its head, or whose entry at the head is not the one the head
// recorded, lost or changed entries the index saw synced: appending
// resumes after its last entry, with an AuditResumed entry first.

const (
	// auditDirPerm and auditFilePerm: the trail is the daemon's alone.
	auditDirPerm  = 0o700
	auditFilePerm = 0o600
	// maxAuditLine bounds a line: the clipped fields, each byte escaped
	// to at most 6 (\u003c), and the rest of the JSON.
	maxAuditLine = 6*(maxAuditDetail+3*maxAuditField) + 256
	// maxAuditTail is how far back from the end recovery looks for the
	// last complete entry: more than a whole batch of the longest lines.
	maxAuditTail = 8 << 20
)

// auditLast is the last complete entry of a log: its Seq, its line hash
// and the offset just after its newline. A log without one has end 0.
type auditLast struct {
	seq  uint64
	hash string
	end  int64
}

// ensureOpen opens the log if it is not open. The caller holds writeMu.
func (l *auditLog) ensureOpen(s *Store) error {
	if l.f != nil {
		return nil
	}
	f, err := openAuditFile(l.dir)
	if err != nil {
		return err
	}
	last, err := l.recoverTail(f)
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.seq, l.hash, l.size = f, last.seq, last.hash, last.end
	head, ok, err := s.auditHead()
	if err != nil {
		l.closeFile()
		return fmt.Errorf("open audit log: %w", err)
	}
	problem, err := headMismatch(f, head, ok, last)
	if err != nil {
		l.closeFile()
		return fmt.Errorf("open audit log: %w", err)
	}
	if problem == "" {
		return nil
	}
	l.log.Error("audit log disagrees with its index head: resuming after its last entry", "problem", problem)
	r := &auditReq{in: AuditEntry{Time: l.now().UTC(), Action: AuditResumed, Actor: ActorSystem, UID: -1,
		Detail: clipString(problem, maxAuditDetail)}}
	if err := l.write(s, []*auditReq{r}); err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	return nil
}

// openAuditFile creates dir (0700) and opens its audit.log (0600) for
// appending, fsyncing the parent of anything it creates, and tightens the
// modes of a dir or file that is more open.
func openAuditFile(dir string) (*os.File, error) {
	if err := os.Mkdir(dir, auditDirPerm); err == nil {
		if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if err := tighten(dir, auditDirPerm); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "audit.log")
	_, statErr := os.Lstat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, auditFilePerm)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := atomicfile.SyncDir(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("open audit log: %w", err)
		}
	}
	if err := tighten(path, auditFilePerm); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tighten removes from path's mode every permission bit perm lacks.
func tighten(path string, perm fs.FileMode) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	if fi.Mode().Perm()&^perm == 0 {
		return nil
	}
	if err := os.Chmod(path, fi.Mode().Perm()&perm); err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	return nil
}

// recoverTail finds the last complete entry of f and cuts whatever follows
// it (a torn write), after copying those bytes beside the log.
func (l *auditLog) recoverTail(f *os.File) (auditLast, error) {
	fi, err := f.Stat()
	if err != nil {
		return auditLast{}, fmt.Errorf("open audit log: %w", err)
	}
	size := fi.Size()
	last, err := lastAuditEntry(f, size)
	if err != nil {
		return auditLast{}, fmt.Errorf("open audit log %s: %w", f.Name(), err)
	}
	if last.end == size {
		return last, nil
	}
	torn := make([]byte, size-last.end)
	if _, err := f.ReadAt(torn, last.end); err != nil {
		return auditLast{}, fmt.Errorf("open audit log: read torn tail: %w", err)
	}
	aside := f.Name() + ".torn-" + strconv.FormatInt(last.end, 10)
	if err := atomicfile.WriteBytes(aside, torn, auditFilePerm); err != nil {
		return auditLast{}, fmt.Errorf("open audit log: keep torn tail: %w", err)
	}
	if err := f.Truncate(last.end); err != nil {
		return auditLast{}, fmt.Errorf("open audit log: cut torn tail: %w", err)
	}
	if err := f.Sync(); err != nil {
		return auditLast{}, fmt.Errorf("open audit log: %w", err)
	}
	l.log.Warn("audit log: torn tail cut (a crash mid-write)", "bytes", len(torn), "after_seq", last.seq, "kept_in", aside)
	return last, nil
}

// lastAuditEntry finds the last line of f (size bytes) that ends in a
// newline and parses as an entry, reading back from the end in growing
// windows. It fails when the last maxAuditTail bytes hold none.
func lastAuditEntry(f *os.File, size int64) (auditLast, error) {
	for win := int64(64 << 10); ; win *= 2 {
		off := max(0, size-win)
		buf := make([]byte, size-off)
		if _, err := f.ReadAt(buf, off); err != nil {
			return auditLast{}, err
		}
		if last, ok := lastInWindow(buf, off); ok {
			return last, nil
		}
		if off == 0 {
			return auditLast{}, nil // no entry at all: all of it is a torn tail
		}
		if win >= maxAuditTail {
			return auditLast{}, fmt.Errorf("no complete entry in its last %d bytes: not a torn write; inspect it", win)
		}
	}
}

// lastInWindow returns the last complete entry among the lines of buf, the
// bytes of the log from offset off on. A line is complete when it ends in
// a newline and starts at off 0 or after a newline inside buf.
func lastInWindow(buf []byte, off int64) (auditLast, bool) {
	end := bytes.LastIndexByte(buf, '\n')
	for end >= 0 {
		start := bytes.LastIndexByte(buf[:end], '\n') + 1
		if start == 0 && off > 0 {
			return auditLast{}, false // may begin before the window
		}
		line := buf[start:end]
		if e, err := parseAuditLine(line); err == nil {
			return auditLast{seq: e.Seq, hash: lineHash(line), end: off + int64(end) + 1}, true
		}
		end = start - 1
	}
	return auditLast{}, false
}

// headMismatch compares the log (its last complete entry last) with the
// head the index holds; it returns "" when they agree or there is no head,
// else what disagrees.
func headMismatch(f *os.File, head AuditHead, ok bool, last auditLast) (string, error) {
	if !ok || head.Seq == 0 {
		return "", nil
	}
	at := last
	if last.end > head.Size {
		var err error
		if at, err = entryEndingAt(f, head.Size); err != nil {
			return "", err
		}
	}
	if at.end == head.Size && at.seq == head.Seq && at.hash == head.Hash {
		return "", nil
	}
	return fmt.Sprintf("the log did not match its index head when opened: the head was entry %d (%d bytes, hash %s); "+
		"the log ended at entry %d (%d bytes): entries were lost or changed; appending resumed after entry %d",
		head.Seq, head.Size, head.Hash, last.seq, last.end, last.seq), nil
}

// entryEndingAt reads the entry whose line ends (newline included) at
// offset end; an auditLast with end 0 when there is none.
func entryEndingAt(f *os.File, end int64) (auditLast, error) {
	if end <= 0 {
		return auditLast{}, nil
	}
	off := max(0, end-maxAuditLine-2)
	buf := make([]byte, end-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return auditLast{}, fmt.Errorf("read the entry at the head: %w", err)
	}
	if buf[len(buf)-1] != '\n' {
		return auditLast{}, nil
	}
	start := bytes.LastIndexByte(buf[:len(buf)-1], '\n') + 1
	if start == 0 && off > 0 {
		return auditLast{}, nil
	}
	line := buf[start : len(buf)-1]
	e, err := parseAuditLine(line)
	if err != nil {
		return auditLast{}, nil
	}
	return auditLast{seq: e.Seq, hash: lineHash(line), end: end}, nil
}

// parseAuditLine decodes one line (without its newline) and checks that it
// is canonical: exactly what json.Marshal writes for the entry it decodes
// to, so no byte can change without the entry changing.
func parseAuditLine(line []byte) (AuditEntry, error) {
	var e AuditEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return e, err
	}
	again, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	if !bytes.Equal(again, line) {
		return e, errors.New("not in canonical form")
	}
	if e.Seq == 0 {
		return e, errors.New("seq 0")
	}
	return e, nil
}
