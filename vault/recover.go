package vault

import (
	"bufio"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/atomicfile"
)

// salvageSuffix names the file that recovery writes a .part's audio into
// (<id>.salvage, beside the .part) until it is sealed.
const salvageSuffix = ".salvage"

// RecoverFunc turns the audio salvaged from a .part into a recording. It
// reads the authenticated audio plaintext (the MP3 frames as the Writer got
// them) from audio, writes what is to be kept to out, and returns the
// recording's metadata (draft is the last Describe, or zero with only ID
// and Start set) and its audio head (ID3 tag + Info frame).
//
// When the .part's head slot authenticates (a crash inside Seal) draft is
// the metadata Seal wrote there instead, the best there is. RecoverParts
// sets the returned Status itself: "recovered", or "failed" when nothing
// was written to out.
type RecoverFunc func(draft Recording, audio io.Reader, out io.Writer) (Recording, []byte, error)

// Recovered is what RecoverParts did with one .part.
type Recovered struct {
	Path      string    // the .part
	Recording Recording // as sealed and indexed (zero when Err)
	Segments  int       // authenticated audio segments salvaged
	// Destroyed: the .part was a Live Keep call not kept (its newest draft
	// says KeepPending); it was destroyed as Writer.Destroy does, not
	// recovered.
	Destroyed bool
	Err       error // why it could not be recovered (the .part is then left in place)
}

// errUnkept is recoverPart's word for a .part it destroyed.
var errUnkept = errors.New("live keep call not kept")

// RecoverParts salvages every .part under records/ that no live Writer owns.
//
// First it removes stale <id>.salvage files (a recovery cut short by a
// crash; their .part is still there). Then, for each .part: it reads the
// header (format version 1 or 2), checks the KEK id and unwraps the data
// key, and walks the segments from the first, opening each with counters
// 1, 2, ... as non-final; it stops at the first short read or tag failure
// (a torn last write) and after a segment that opens as final.
//
//   - If the whole file authenticates (the crash hit inside Seal after the
//     head slot was written, before the rename), it is fsynced, renamed to
//     its contract name from its head slot and indexed with its SHA-256 and
//     status.
//   - Otherwise the salvaged audio is streamed through fn into a new file
//     <id>.salvage under a fresh data key (nothing new is ever encrypted
//     under the .part's key), with the same record id and start, sealed
//     like any recording with status "recovered" ("failed" when no audio
//     was kept), and then the .part is removed.
//   - A .part whose newest draft is KeepPending (a Live Keep call that was
//     not kept before the crash) is destroyed, data key first, and its
//     Recovered says Destroyed.
//   - A .part that cannot be read (another KEK, a damaged header) stays
//     where it is and its Recovered says why.
//
// A .part beside a sealed file of the same id (a recovery that crashed
// after its rename) is removed once that file authenticates; it is
// indexed again, with Segments 0. Problems with the records dir itself are
// reported as a Recovered whose Path is that dir. RecoverParts runs before
// calls are served, or alongside live calls: their files are left alone.
func (s *Store) RecoverParts(fn RecoverFunc) []Recovered {
	root := filepath.Join(s.dir, "records")
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	switch {
	case closed:
		return []Recovered{{Path: root, Err: fmt.Errorf("recover: store %w", ErrClosed)}}
	case fn == nil:
		return []Recovered{{Path: root, Err: errors.New("recover: no RecoverFunc")}}
	}
	var out []Recovered
	var parts []string
	err := s.walkRecords(salvageSuffix, func(p string) error {
		if s.live.claim(p) { // else a recovery of this process is writing it
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				out = append(out, Recovered{Path: p, Err: fmt.Errorf("recover: remove stale %s: %w", p, err)})
			}
			s.live.release(p)
		}
		return nil
	})
	if err == nil {
		err = s.walkRecords(partSuffix, func(p string) error { parts = append(parts, p); return nil })
	}
	if err != nil {
		out = append(out, Recovered{Path: root, Err: fmt.Errorf("recover: list records: %w", err)})
	}
	for _, p := range parts {
		if !s.live.claim(p) {
			continue // a live Writer's, or another recovery's
		}
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			s.live.release(p)
			continue // sealed or aborted since the walk listed it
		}
		r := Recovered{Path: p}
		r.Recording, r.Segments, r.Err = s.recoverPart(p, fn)
		if errors.Is(r.Err, errUnkept) {
			r = Recovered{Path: p, Destroyed: true}
		}
		if r.Err != nil {
			r = Recovered{Path: p, Err: fmt.Errorf("recover %s: %w", p, r.Err)}
		}
		s.live.release(p)
		out = append(out, r)
	}
	return out
}

// recoverPart recovers one .part, as RecoverParts describes.
func (s *Store) recoverPart(part string, fn RecoverFunc) (Recording, int, error) {
	id, ok := idOfName(filepath.Base(part))
	if !ok || filepath.Base(part) != id+partSuffix {
		return Recording{}, 0, errors.New("not named <record id>.part")
	}
	n, _ := parseID(id)
	dirRel, err := filepath.Rel(s.dir, filepath.Dir(part))
	if err != nil {
		return Recording{}, 0, err
	}
	dirRel = filepath.ToSlash(dirRel)
	if rec, ok, err := s.dropRecovered(part, id); ok || err != nil {
		return rec, 0, err
	}

	f, err := os.Open(part)
	if err != nil {
		return Recording{}, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	h, raw, aead, err := readHeader(br, s.kek, n)
	if err != nil {
		return Recording{}, 0, err
	}
	aad := raw[:identitySize]
	lay := h.layout()
	start := time.Unix(0, h.start).UTC()

	// Metadata: the head slot's when it authenticates, else the newest
	// draft's. A short read leaves br at the end: no segments follow.
	var meta []byte
	if slot, err := readHeadSlot(br, &h, aead, aad); err == nil {
		if m, _, err := decodeHeadSlot(slot); err == nil {
			rec, complete, err := s.finishSeal(part, dirRel, id, lay)
			if err != nil {
				return Recording{}, 0, err
			}
			if complete {
				return rec, segmentsIn(rec.Size, lay, h.segment), nil
			}
			meta = m
		}
	}
	if lay.drafts != 0 {
		drafts := make([]byte, 2*draftSlotSize)
		if _, err := io.ReadFull(br, drafts); err == nil && meta == nil {
			meta = bestDraft(drafts, aead, aad)
		}
	}
	draft := Recording{ID: id, Start: start}
	var d Recording
	if meta != nil && json.Unmarshal(meta, &d) == nil {
		draft = d
		draft.ID = id
		if draft.Start.IsZero() {
			draft.Start = start
		}
		draft.File, draft.Size, draft.SHA256, draft.Status = "", 0, "", ""
	}
	if draft.KeepPending {
		f.Close()
		if err := destroyFile(part); err != nil {
			return Recording{}, 0, fmt.Errorf("destroy a live keep call not kept: %w", err)
		}
		return Recording{}, 0, errUnkept
	}

	audio := newSalvageReader(br, aead, aad, h.segment)
	rec, err := s.rewrite(n, start, dirRel, draft, audio, fn)
	if err != nil {
		return Recording{}, 0, err
	}
	if err := os.Remove(part); err != nil {
		s.log.Warn("recovered recording: .part not removed (the next recovery removes it)", "path", part, "err", err)
	} else if err := atomicfile.SyncDir(filepath.Dir(part)); err != nil {
		s.log.Warn("recovered recording: removal of its .part not synced", "path", part, "err", err)
	}
	return rec, audio.segments, nil
}

// finishSeal completes a Seal that a crash cut short after the head slot
// was written: when the whole .part authenticates, only the clearing of
// the draft slots (no encryption: zeros), the fsync and the rename were
// missing. It renames the .part to the name its head slot gives and
// indexes it with its SHA-256. complete is false, with no error, when the
// file does not authenticate: its audio is to be salvaged. An I/O error
// leaves the file for the next run.
func (s *Store) finishSeal(part, dirRel, id string, lay layout) (rec Recording, complete bool, err error) {
	f, err := os.OpenFile(part, os.O_WRONLY, 0)
	if err != nil {
		return Recording{}, false, err
	}
	if lay.drafts != 0 {
		_, err = f.WriteAt(make([]byte, 2*draftSlotSize), lay.drafts)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Recording{}, false, fmt.Errorf("clear draft slots: %w", err)
	}
	rec, err = s.ExportFile(part, io.Discard)
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTruncated) {
		return Recording{}, false, nil
	}
	if err != nil {
		return Recording{}, false, err
	}
	name := path.Base(rec.File)
	if got, _ := idOfName(name); rec.ID != id || got != id || path.Join(dirRel, name) != rec.File || !strings.HasSuffix(name, sealedSuffix) {
		return Recording{}, false, nil // not what Seal writes: salvage it
	}
	if rec.SHA256, err = fileSHA256(part); err != nil {
		return Recording{}, false, err
	}
	final := joinUnder(s.dir, rec.File)
	if err := s.usage.placed(part, final, rec.File, rec.Size); err != nil {
		return Recording{}, false, err
	}
	if err := atomicfile.SyncDir(filepath.Dir(final)); err != nil {
		return Recording{}, false, err
	}
	if err := s.index(rec); err != nil {
		return Recording{}, false, fmt.Errorf("sealed as %s, not indexed: %w", rec.File, err)
	}
	return rec, true, nil
}

// dropRecovered handles a .part whose recovery already sealed a file (a
// crash between that Seal's rename and the removal of the .part): when a
// sealed file of the same id beside it authenticates, it indexes that file
// (again) and removes the .part. ok is false when there is no such file.
func (s *Store) dropRecovered(part, id string) (rec Recording, ok bool, err error) {
	twins, err := filepath.Glob(filepath.Join(filepath.Dir(part), id+"_*"+sealedSuffix))
	if err != nil || len(twins) == 0 {
		return Recording{}, false, err
	}
	rec, err = s.ExportFile(twins[0], io.Discard)
	if err == nil && rec.ID != id {
		err = fmt.Errorf("%s holds record %q: %w", twins[0], rec.ID, ErrCorrupt)
	}
	if err == nil {
		rec.SHA256, err = fileSHA256(twins[0])
	}
	if err == nil {
		err = s.index(rec)
	}
	if err != nil {
		return Recording{}, true, fmt.Errorf("sealed twin: %w", err)
	}
	if err := os.Remove(part); err != nil {
		return Recording{}, true, err
	}
	return rec, true, atomicfile.SyncDir(filepath.Dir(part))
}

// rewrite writes the audio through fn into a new file <id>.salvage with a
// fresh data key, the record's id and start, and seals it.
func (s *Store) rewrite(n uint64, start time.Time, dirRel string, draft Recording, audio io.Reader, fn RecoverFunc) (Recording, error) {
	w, err := s.create(n, start, dirRel, formatID(n)+salvageSuffix)
	if err != nil {
		return Recording{}, fmt.Errorf("create: %w", err)
	}
	rec, head, err := fn(draft, audio, w)
	if err != nil {
		w.Abort()
		return Recording{}, fmt.Errorf("salvage audio: %w", err)
	}
	rec.Status = StatusRecovered
	if w.Written() == 0 {
		rec.Status = StatusFailed
	}
	sealed, err := w.Seal(rec, head)
	if err != nil {
		w.Abort() // removes the .salvage, unless Seal got as far as the rename
		return Recording{}, err
	}
	return sealed, nil
}

// segmentsIn is the number of segments of a complete file of size bytes.
func segmentsIn(size int64, lay layout, segment uint32) int {
	rec := int64(lenSize) + int64(segment) + tagSize
	return int((size - lay.data + rec - 1) / rec)
}

// salvageReader reads the authenticated audio plaintext of a file's
// segments in order, from the first. It ends (io.EOF) at the first short
// read, bad length or tag failure, the torn last write of a crash, and
// after a segment that opens as final.
type salvageReader struct {
	r        io.Reader // at the first segment
	aead     cipher.AEAD
	aad      []byte
	nonce    [nonceSize]byte
	ct, pt   []byte
	rest     []byte // plaintext of the current segment not yet read
	counter  uint64 // of the next segment
	done     bool
	segments int // segments authenticated
}

func newSalvageReader(r io.Reader, aead cipher.AEAD, aad []byte, segment uint32) *salvageReader {
	return &salvageReader{
		r: r, aead: aead, aad: aad, counter: 1,
		ct: make([]byte, int(segment)+tagSize), pt: make([]byte, 0, segment),
	}
}

// next authenticates the next segment into rest; false at the end.
func (s *salvageReader) next() bool {
	if s.done {
		return false
	}
	seg, err := readSegment(s.r, s.ct, s.counter)
	if err != nil {
		s.done = true
		return false
	}
	p, err := openSegment(s.aead, &s.nonce, s.counter, 0, s.pt, seg, s.aad)
	if err == nil && len(seg) != len(s.ct) {
		err = errors.New("short segment before the final one")
	}
	if err != nil {
		p, err = openSegment(s.aead, &s.nonce, s.counter, flagFinal, s.pt, seg, s.aad)
		s.done = true // the final segment, or a torn one: either ends the walk
		if err != nil {
			return false
		}
	}
	s.rest = p
	s.counter++
	s.segments++
	return true
}

// Read implements io.Reader.
func (s *salvageReader) Read(p []byte) (int, error) {
	for len(s.rest) == 0 {
		if !s.next() {
			return 0, io.EOF
		}
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

// WriteTo implements io.WriterTo, so io.Copy hands each segment to w
// without a copy buffer.
func (s *salvageReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(s.rest) > 0 || s.next() {
		n, err := w.Write(s.rest)
		total += int64(n)
		s.rest = s.rest[n:]
		if err == nil && n == 0 {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
