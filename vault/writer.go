package vault

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/callvault/callvault/internal/atomicfile"
)

// partPerm is the mode of recording files (encrypted; the group may back
// them up).
const partPerm = 0o640

// ErrNotSealed: Seal failed after it began to encrypt (a full disk, a
// failed rename, ...). The file is closed and stays on disk as <id>.part,
// where RecoverParts salvages it; the Writer is done.
var ErrNotSealed = errors.New("recording kept as .part for recovery")

type writerState int

const (
	stateOpen    writerState = iota
	stateSealed              // renamed to its contract name
	stateAborted             // file removed
	stateClosed              // Close: file closed, left in place
	stateKept                // Seal failed part-way: file closed, left for recovery
)

// recordFile is what a Writer needs of its file: an *os.File, or in tests
// one that fails on demand.
type recordFile interface {
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// Writer writes one recording: an encrypted .part file while the call
// runs, sealed into its contract name by Seal. It is not safe for
// concurrent use.
//
// A failed segment write (a full disk) stops the recording: Write returns
// that error from then on, Err reports it, and Seal finishes the file in
// place with what was written (status "recovered"). A Seal that fails after
// it began to encrypt closes the file and keeps it for RecoverParts
// (ErrNotSealed). Only Abort ever removes audio.
type Writer struct {
	s        *Store
	id       string
	start    time.Time
	dirRel   string // records/YYYY/MM/DD
	partPath string // <id>.part, or <id>.salvage when recovery writes it
	f        recordFile
	aead     cipher.AEAD
	aad      []byte // header bytes 0..31, the AAD of every slot and segment
	lay      layout
	secret   secretTicket // the erasure secret's entry, synced before the file

	buf     []byte // plaintext not yet sealed, cap segmentSize
	out     []byte // length prefix + ciphertext of one segment
	nonce   [nonceSize]byte
	counter uint64 // counter of the next audio segment (from 1)
	off     int64  // where the next segment goes
	written int64  // audio plaintext bytes accepted
	seq     uint64 // seq of the last draft written (Describe)
	draft   []byte // one draft slot on disk, allocated by the first Describe
	state   writerState
	err     error // sticky: the segment write that failed, or why Seal failed
}

// Create allocates the next record id (its year from start in the server
// zone), creates records/YYYY/MM/DD/<id>.part (the day of start in the
// server zone) and writes the file header with a random data key freshly
// wrapped under the current KEK (the one RotateKEK last made current),
// and zeros over the head slot and the draft slots, so that neither
// Describe nor Seal needs new disk blocks for them. A zero start means now.
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
	w, err := s.create(n, start, dayDir(start, s.loc), id+partSuffix)
	if err != nil {
		return nil, fmt.Errorf("create recording %s: %w", id, err)
	}
	return w, nil
}

// create makes the file name (which must not exist) in dirRel, a
// directory relative to the data dir, for record n started at start, as
// Create describes; recovery uses it to rewrite a record under its own id.
// The file is live (RecoverParts leaves it alone) until the Writer is done.
func (s *Store) create(n uint64, start time.Time, dirRel, name string) (*Writer, error) {
	if err := ensureDir(s.dir, dirRel); err != nil {
		return nil, err
	}
	aead, h, ticket, err := s.kek.newDataKey(n, start.UnixNano())
	if err != nil {
		return nil, err
	}
	hdr := h.marshal()
	lay := h.layout()
	p := joinUnder(s.dir, path.Join(dirRel, name))
	if !s.live.claim(p) {
		return nil, fmt.Errorf("%s: already being written", p)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, partPerm)
	if err != nil {
		s.live.release(p)
		return nil, err
	}
	pre := make([]byte, lay.data) // header, then zeros up to the first segment
	copy(pre, hdr)
	if _, err := f.WriteAt(pre, 0); err != nil {
		f.Close()
		os.Remove(p)
		s.live.release(p)
		return nil, fmt.Errorf("write header: %w", err)
	}
	return &Writer{
		s: s, id: formatID(n), start: start, dirRel: dirRel, partPath: p,
		f: f, aead: aead, aad: hdr[:identitySize], lay: lay, secret: ticket,
		buf: make([]byte, 0, segmentSize), out: make([]byte, lenSize+segmentSize+tagSize),
		counter: 1, off: lay.data,
	}, nil
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
			if err := atomicfile.SyncDir(cur); err != nil {
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

// Err returns what stopped the recording, or nil: the segment write that
// failed (Seal then finishes the file in place), or why Seal failed (it
// wraps ErrNotSealed).
func (w *Writer) Err() error { return w.err }

// Write buffers audio; each time 4096 bytes are buffered it encrypts them
// and appends one segment to the .part file (one write(2), no fsync: the
// kernel has the data, so a crash of the process loses only the buffer).
// After a failed segment write every Write returns that error; the bytes
// of the failed segment stay buffered for Seal.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.usable("write"); err != nil {
		return 0, err
	}
	if w.err != nil {
		return 0, w.err
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
				w.err = fmt.Errorf("write recording %s: segment %d: %w", w.id, w.counter, err)
				return n, w.err
			}
		}
	}
	return n, nil
}

// usable returns nil while the Writer is open, the error of a failed Seal
// after one, and ErrClosed after Seal, Abort or Close.
func (w *Writer) usable(op string) error {
	switch w.state {
	case stateOpen:
		return nil
	case stateKept:
		return w.err
	}
	return fmt.Errorf("%s recording %s: %w", op, w.id, ErrClosed)
}

// flush encrypts the buffer as segment w.counter and appends it. On error
// nothing advances: the buffer still holds the segment's plaintext.
func (w *Writer) flush(flag byte) error {
	segmentNonce(&w.nonce, w.counter, flag)
	ct := w.aead.Seal(w.out[lenSize:lenSize], w.nonce[:], w.buf, w.aad)
	binary.BigEndian.PutUint32(w.out[:lenSize], uint32(len(ct)))
	seg := w.out[:lenSize+len(ct)]
	if _, err := w.f.WriteAt(seg, w.off); err != nil {
		return err
	}
	w.off += int64(len(seg))
	w.counter++
	w.buf = w.buf[:0]
	return nil
}

// own fills rec.ID and rec.Start from the Writer (a different non-empty
// rec.ID is an error); Start is kept as UTC.
func (w *Writer) own(rec Recording) (Recording, error) {
	if rec.ID != "" && rec.ID != w.id {
		return rec, fmt.Errorf("recording says id %q", rec.ID)
	}
	rec.ID = w.id
	if rec.Start.IsZero() {
		rec.Start = w.start
	}
	rec.Start = rec.Start.UTC()
	return rec, nil
}

// Describe writes rec as the recording's next draft, the metadata that
// RecoverParts hands on should the process die before Seal. The daemon
// calls it at admission and whenever the participants change. ID and Start
// are filled as Seal fills them, Status is kept as given (empty: none yet),
// File, Size and SHA256 are left out, and rec is clipped to fit the draft
// (about 4 KB of JSON) as Seal clips it. The draft is not fsynced.
//
// An error (ErrClosed after Seal, Abort or Close; a failed write) does not
// affect the Writer: Write and Seal go on as before, and recovery falls
// back to the previous draft.
func (w *Writer) Describe(rec Recording) error {
	if err := w.usable("describe"); err != nil {
		return err
	}
	rec, err := w.own(rec)
	if err != nil {
		return fmt.Errorf("describe recording %s: %w", w.id, err)
	}
	rec.File, rec.Size, rec.SHA256 = "", 0, ""
	_, meta, err := fitRecording(clipRecording(rec), draftPlainSize-lenSize)
	if err != nil {
		return fmt.Errorf("describe recording %s: %w", w.id, err)
	}
	if w.draft == nil {
		w.draft = make([]byte, draftSlotSize)
	}
	// A seq is used once even when its write fails: the torn draft may be
	// on disk already, and its nonce with it.
	w.seq++
	sealDraft(w.draft, w.aead, w.aad, w.seq, meta)
	if _, err := w.f.WriteAt(w.draft, w.lay.drafts+draftSlot(w.seq)*draftSlotSize); err != nil {
		return fmt.Errorf("describe recording %s: draft %d: %w", w.id, w.seq, err)
	}
	return nil
}

// Sync flushes what was written so far, drafts included, to the disk:
// the daemon syncs the draft that keeps a Live Keep call.
func (w *Writer) Sync() error {
	if err := w.usable("sync"); err != nil {
		return err
	}
	if err := w.s.kek.secrets.durable(w.secret); err != nil {
		return fmt.Errorf("sync recording %s: %w", w.id, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync recording %s: %w", w.id, err)
	}
	return nil
}

// Seal finishes the recording: it encrypts the rest of the buffer as the
// final segment, writes the head slot (rec as JSON and audioHead, the ID3
// tag and LAME Info frame), clears the draft slots, fsyncs, hashes the
// file, renames <id>.part to the contract name, fsyncs the directory and
// indexes rec in one Badger transaction.
//
// It fills rec.ID (a different non-empty rec.ID is an error), rec.Start
// (when zero: the start given to Create; always stored as UTC), rec.File,
// rec.Size (of the encrypted file), rec.Status ("complete" when empty) and
// rec.SHA256 (of the sealed file: the index and the returned Recording hold
// it, the head slot cannot). Free-text fields are clipped and, if the JSON
// and audioHead still exceed the head slot, participants (from the end),
// the Call-ID and the full name are dropped in that order: Seal returns the
// Recording as stored, so the caller can tell what was cut. The file stays
// in the day directory of Create's start.
//
// After a failed segment write Seal finishes the file in place with every
// byte Write accepted, and the status is "recovered" unless rec says
// "failed".
//
// Errors: ErrHeadSlotFull when audioHead leaves no room for the minimal
// record (the Writer is unchanged: Seal again or Abort); an error wrapping
// ErrNotSealed when an I/O step fails (the file is closed and kept for
// RecoverParts); if indexing fails after the rename, the filled Recording
// and the error: the file is sealed on disk and can be indexed again from
// its head slot.
func (w *Writer) Seal(rec Recording, audioHead []byte) (Recording, error) {
	if err := w.usable("seal"); err != nil {
		return rec, err
	}
	rec, err := w.own(rec)
	if err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	inPlace := w.err != nil
	switch {
	case inPlace && rec.Status != StatusFailed:
		rec.Status = StatusRecovered
	case rec.Status == "":
		rec.Status = StatusComplete
	}
	rec = clipRecording(rec)
	rec.KeepPending = false // a sealed recording is kept by definition
	rec.File = path.Join(w.dirRel, FileName(rec, w.s.loc))
	rec.Size = w.off + lenSize + int64(len(w.buf)) + tagSize
	rec.SHA256 = ""
	rec, meta, err := fitRecording(rec, headSlotSize-2*lenSize-len(audioHead))
	if err != nil {
		return rec, fmt.Errorf("seal recording %s: with an audio head of %d bytes: %w", w.id, len(audioHead), err)
	}
	slot, err := encodeHeadSlot(meta, audioHead, headSlotSize)
	if err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	// From here nothing may be encrypted twice under this data key: any
	// failure closes the file and keeps it for RecoverParts.
	if inPlace {
		// The failed write may have left part of segment w.counter
		// (nonce (c, 0x00)) at w.off: cut it, and write its plaintext
		// again as the final segment under its own nonce (c, 0x01).
		if err := w.f.Truncate(w.off); err != nil {
			return rec, w.keep("cut the failed segment", err)
		}
	}
	if err := w.flush(flagFinal); err != nil {
		return rec, w.keep(fmt.Sprintf("final segment %d", w.counter), err)
	}
	segmentNonce(&w.nonce, 0, flagHeadSlot)
	ct := w.aead.Seal(slot[:0], w.nonce[:], slot, w.aad)
	if _, err := w.f.WriteAt(ct, headerSize); err != nil {
		return rec, w.keep("write head slot", err)
	}
	// The head slot supersedes the drafts: clear them, so that the reader
	// can check every byte of a sealed file.
	if _, err := w.f.WriteAt(make([]byte, 2*draftSlotSize), w.lay.drafts); err != nil {
		return rec, w.keep("clear draft slots", err)
	}
	if err := w.s.kek.secrets.durable(w.secret); err != nil {
		return rec, w.keep("sync erasure secret", err)
	}
	if err := w.f.Sync(); err != nil {
		return rec, w.keep("sync", err)
	}
	sum, err := fileSHA256(w.partPath)
	if err != nil {
		return rec, w.keep("hash", err)
	}
	err = w.f.Close()
	w.f = nil
	if err != nil {
		return rec, w.keep("close", err)
	}
	final := joinUnder(w.s.dir, rec.File)
	if err := w.s.usage.placed(w.partPath, final, rec.File, rec.Size); err != nil {
		return rec, w.keep("rename", err)
	}
	w.state = stateSealed
	w.aead = nil
	w.s.live.release(w.partPath)
	rec.SHA256 = sum
	if err := atomicfile.SyncDir(filepath.Dir(final)); err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	if err := w.s.index(rec); err != nil {
		return rec, fmt.Errorf("seal recording %s: %w", w.id, err)
	}
	return rec, nil
}

// keep ends a Seal that failed after it began to encrypt: the file is
// closed and left where it is for RecoverParts, and the Writer encrypts
// nothing more.
func (w *Writer) keep(op string, err error) error {
	w.err = fmt.Errorf("seal recording %s: %s: %w: %w", w.id, op, err, ErrNotSealed)
	w.state = stateKept
	w.closeFile() // the error above is the one that matters
	w.s.live.release(w.partPath)
	return w.err
}

// closeFile closes the file (once) and forgets the data key.
func (w *Writer) closeFile() error {
	w.aead = nil
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// Close closes the file without sealing it and leaves the .part in place
// for RecoverParts: the daemon closes a recording it cannot seal now. It
// is a no-op after Seal, Abort, Close or a failed Seal.
func (w *Writer) Close() error {
	if w.state != stateOpen {
		return nil
	}
	w.state = stateClosed
	err := w.closeFile()
	w.s.live.release(w.partPath)
	if err != nil {
		return fmt.Errorf("close recording %s: %w", w.id, err)
	}
	return nil
}

// Abort closes and removes the .part file, whatever it holds: the daemon
// aborts only before any audio was written and for policy discards. It is
// a no-op after Abort and an error after a successful Seal.
func (w *Writer) Abort() error {
	switch w.state {
	case stateAborted:
		return nil
	case stateSealed:
		return fmt.Errorf("abort recording %s: already sealed", w.id)
	}
	w.state = stateAborted
	var errs []error
	if err := w.closeFile(); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(w.partPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	w.s.live.release(w.partPath)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("abort recording %s: %w", w.id, err)
	}
	return nil
}
