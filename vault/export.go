package vault

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Export decrypts and authenticates the recording id and writes its audio
// head (ID3 tag and LAME Info frame) and then its audio to w: the original
// MP3. Output is written as each segment authenticates, so on error the
// caller must discard what was written. Errors name the problem and wrap
// ErrNotFound, ErrCorrupt (tampered, reordered, foreign segment),
// ErrTruncated or ErrWrongKey.
func (s *Store) Export(id string, w io.Writer) error {
	rec, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	n, _ := parseID(id)
	f, err := os.Open(s.Path(rec))
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
// Export does, and returns the Recording stored in its head slot (the
// basis of a reindex from the files alone).
func (s *Store) ExportFile(path string, w io.Writer) (Recording, error) {
	var rec Recording
	f, err := os.Open(path)
	if err != nil {
		return rec, fmt.Errorf("export file: %w", err)
	}
	defer f.Close()
	meta, err := decryptFile(f, s.kek, 0, w)
	if err != nil {
		return rec, fmt.Errorf("export file %s: %w", path, err)
	}
	if err := json.Unmarshal(meta, &rec); err != nil {
		return rec, fmt.Errorf("export file %s: metadata: %w", path, err)
	}
	return rec, nil
}
