package vault

import (
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"
)

// partPerm is the mode of recording files (encrypted; the group may back
// them up).
const partPerm = 0o640

type writerState int

const (
	stateOpen writerState = iota
	stateSealing
	stateSealed
	stateAborted
)

// Writer writes one recording: an encrypted .part file while the call
// runs, sealed into its contract name by Seal. It is not safe for
// concurrent use. After an I/O error the Writer is failed: Write and Seal
// return that error and only Abort remains.
type Writer struct {
	s        *Store
	id       string
	start    time.Time
	dirRel   string // records/YYYY/MM/DD
	partPath string
	f        *os.File
	aead     cipher.AEAD
	aad      []byte // header bytes 0..31, the AAD of every segment

	buf     []byte // plaintext not yet sealed, cap segmentSize
	out     []byte // length prefix + ciphertext of one segment
	nonce   [nonceSize]byte
	counter uint64 // counter of the next audio segment (from 1)
	off     int64  // where the next segment goes
	written int64  // audio plaintext bytes accepted
	state   writerState
	err     error // sticky I/O error
}

// Create allocates the next record id (its year from start in the server
// zone), creates records/YYYY/MM/DD/<id>.part (the day of start in the
// server zone) and writes the file header with a freshly wrapped random data
// key. A zero start means now.
func (s *Store) Create(start time.Time) (*Writer, error) {
	if start.IsZero() {
		start = time.Now()
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, fmt.Errorf("create recording: store %w", ErrClosed)
	}
	n, err := s.ids.next(yearOf(start, s.loc))
	s.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	id := formatID(n)
	w := &Writer{s: s, id: id, start: start, dirRel: dayDir(start, s.loc), counter: 1, off: dataOffset}
	if err := ensureDir(s.dir, w.dirRel); err != nil {
		return nil, fmt.Errorf("create recording %s: %w", id, err)
	}
	aead, h, err := s.kek.newDataKey(n, start.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("create recording %s: %w", id, err)
	}
	hdr := h.marshal()
	w.aead = aead
	w.aad = hdr[:identitySize]
	w.partPath = joinUnder(s.dir, path.Join(w.dirRel, id+".part"))
	f, err := os.OpenFile(w.partPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, partPerm)
	if err != nil {
		return nil, fmt.Errorf("create recording %s: %w", id, err)
	}
	if _, err := f.WriteAt(hdr, 0); err != nil {
		f.Close()
		os.Remove(w.partPath)
		return nil, fmt.Errorf("create recording %s: write header: %w", id, err)
	}
	w.f = f
	w.buf = make([]byte, 0, segmentSize)
	w.out = make([]byte, lenSize+segmentSize+tagSize)
	return w, nil
}

// ensureDir creates rel (slash-separated) under root component by
// component, fsyncing the parent of each directory it creates so the new
// entry survives a power loss.
func ensureDir(root, rel string) error {
	full := joinUnder(root, rel)
	if fi, err := os.Stat(full); err == nil && fi.IsDir() {
		return nil
	}
	cur := root
	for _, c := range splitSlash(rel) {
		next := filepath.Join(cur, c)
		err := os.Mkdir(next, dirPerm)
		switch {
		case err == nil:
			if err := syncDir(cur); err != nil {
				return err
			}
		case !errors.Is(err, os.ErrExist):
			return err
		}
		cur = next
	}
	return nil
}

func splitSlash(rel string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(rel); i++ {
		if i == len(rel) || rel[i] == '/' {
			if i > start {
				out = append(out, rel[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// ID returns the record id.
func (w *Writer) ID() string { return w.id }

// Written returns the audio bytes accepted so far.
func (w *Writer) Written() int64 { return w.written }

// Write buffers audio; each time 4096 bytes are buffered it encrypts them
// and appends one segment to the .part file (one write(2), no fsync: the
// kernel has the data, so a crash of the process loses only the buffer).
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.state != stateOpen {
		return 0, fmt.Errorf("write recording %s: %w", w.id, ErrClosed)
	}
	n := 0
	for len(p) > 0 {
		c := copy(w.buf[len(w.buf):segmentSize], p)
		w.buf = w.buf[:len(w.buf)+c]
		p = p[c:]
		n += c
		w.written += int64(c)
		if len(w.buf) == segmentSize {
			if err := w.flush(0); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush encrypts the buffer as segment w.counter and appends it.
func (w *Writer) flush(flag byte) error {
	segmentNonce(&w.nonce, w.counter, flag)
	ct := w.aead.Seal(w.out[lenSize:lenSize], w.nonce[:], w.buf, w.aad)
	binary.BigEndian.PutUint32(w.out[:lenSize], uint32(len(ct)))
	seg := w.out[:lenSize+len(ct)]
	if _, err := w.f.WriteAt(seg, w.off); err != nil {
		w.err = fmt.Errorf("write recording %s: segment %d: %w", w.id, w.counter, err)
		return w.err
	}
	w.off += int64(len(seg))
	w.counter++
	w.buf = w.buf[:0]
	return nil
}

// Seal finishes the recording: it encrypts the rest of the buffer as the
// final segment, writes the head slot (rec as JSON and audioHead, the ID3
// tag and LAME Info frame), fsyncs, renames <id>.part to the contract name,
// fsyncs the directory and indexes rec in one Badger transaction.
//
// It fills rec.ID (a different non-empty rec.ID is an error), rec.Start
// (when zero: the start given to Create; always stored as UTC), rec.File,
// rec.Size (of the encrypted file) and rec.Status ("complete" when empty),
// and returns it. The file stays in the day directory of Create's start.
//
// When metadata and audioHead do not fit the head slot, Seal returns
// ErrHeadSlotFull and the Writer is unchanged. If indexing fails after the
// file is sealed, Seal returns the filled Recording and the error: the file
// is complete on disk and can be indexed again from its head slot.
func (w *Writer) Seal(rec Recording, audioHead []byte) (Recording, error) {
	if w.err != nil {
		return rec, w.err
	}
	if w.state != stateOpen {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, ErrClosed)
	}
	if rec.ID != "" && rec.ID != w.id {
		return rec, fmt.Errorf("seal recording %s: recording says id %q", w.id, rec.ID)
	}
	rec.ID = w.id
	if rec.Start.IsZero() {
		rec.Start = w.start
	}
	rec.Start = rec.Start.UTC()
	if rec.Status == "" {
		rec.Status = StatusComplete
	}
	rec.File = path.Join(w.dirRel, FileName(rec, w.s.loc))
	rec.Size = w.off + lenSize + int64(len(w.buf)) + tagSize
	meta, err := json.Marshal(rec)
	if err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	slot, err := encodeHeadSlot(meta, audioHead, headSlotSize)
	if err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	// From here nothing may be encrypted twice under this data key: any
	// failure leaves the Writer failed.
	w.state = stateSealing
	if err := w.flush(flagFinal); err != nil {
		return rec, err
	}
	segmentNonce(&w.nonce, 0, flagHeadSlot)
	ct := w.aead.Seal(slot[:0], w.nonce[:], slot, w.aad)
	if _, err := w.f.WriteAt(ct, headerSize); err != nil {
		return rec, w.fail("write head slot", err)
	}
	if err := w.f.Sync(); err != nil {
		return rec, w.fail("sync", err)
	}
	err = w.f.Close()
	w.f = nil
	if err != nil {
		return rec, w.fail("close", err)
	}
	final := joinUnder(w.s.dir, rec.File)
	if err := os.Rename(w.partPath, final); err != nil {
		return rec, w.fail("rename", err)
	}
	w.state = stateSealed
	w.aead = nil
	if err := syncDir(filepath.Dir(final)); err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	if err := w.s.index(rec); err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	return rec, nil
}

func (w *Writer) fail(op string, err error) error {
	w.err = fmt.Errorf("seal recording %s: %s: %w", w.id, op, err)
	return w.err
}

// Abort closes and removes the .part file. It is a no-op after Abort and an
// error after a successful Seal.
func (w *Writer) Abort() error {
	switch w.state {
	case stateAborted:
		return nil
	case stateSealed:
		return fmt.Errorf("abort recording %s: already sealed", w.id)
	}
	w.state = stateAborted
	w.aead = nil
	var errs []error
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			errs = append(errs, err)
		}
		w.f = nil
	}
	if err := os.Remove(w.partPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("abort recording %s: %w", w.id, err)
	}
	return nil
}
