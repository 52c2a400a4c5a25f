package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrMissing: the index has the recording but its file is not on disk.
// (Declared here, beside its first use; errors.go holds the others.)
var ErrMissing = errors.New("recording file missing")

// Export writes the original MP3 of the recording id to w: its audio head
// (ID3 tag and LAME Info frame), then its audio. It first authenticates the
// whole file and, when the index has the file's SHA-256, checks it; only
// then does it decrypt again into w, so a damaged, truncated, replaced or
// foreign file is an error before w sees a byte. The cost is two reads and
// two decryptions of the file (the second from the page cache); an error
// during the second pass (the file changed in between) may leave a
// partial, authentic prefix in w.
//
// Errors name the problem and wrap ErrNotFound (no such id), ErrMissing
// (and fs.ErrNotExist: no file), ErrCorrupt (tampered, reordered, foreign
// segment, SHA-256 mismatch), ErrTruncated or ErrWrongKey.
func (s *Store) Export(id string, w io.Writer) error {
	rec, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	n, _ := parseID(id)
	f, err := s.openVerified(rec, n)
	if err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	defer f.Close()
	if _, err := decryptFile(f, s.kek, n, w); err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	return nil
}

// ExportFile decrypts any sealed file written under this store's KEK, as
// Export does (authenticating the whole file before writing to w; with w
// io.Discard it reads the file once), and returns the Recording stored in
// its head slot (the basis of a reindex from the files alone).
func (s *Store) ExportFile(path string, w io.Writer) (Recording, error) {
	var rec Recording
	f, err := openRecordFile(path)
	if err != nil {
		return rec, fmt.Errorf("export file: %w", err)
	}
	defer f.Close()
	meta, _, err := s.authenticate(f, 0)
	if err == nil {
		rec, err = parseMeta(meta)
	}
	if err == nil && w != io.Discard {
		err = rewind(f)
		if err == nil {
			_, err = decryptFile(f, s.kek, 0, w)
		}
	}
	if err != nil {
		return rec, fmt.Errorf("export file %s: %w", path, err)
	}
	return rec, nil
}

// openRecordFile opens a recording's file; a missing one is an error
// wrapping ErrMissing and fs.ErrNotExist.
func openRecordFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrMissing, err)
	}
	return f, err
}

// parseMeta decodes the metadata JSON of a head slot.
func parseMeta(meta []byte) (Recording, error) {
	var rec Recording
	if err := json.Unmarshal(meta, &rec); err != nil {
		return rec, fmt.Errorf("head slot metadata: %v: %w", err, ErrCorrupt)
	}
	return rec, nil
}

// rewind seeks f back to its start for a second pass.
func rewind(f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	return nil
}
