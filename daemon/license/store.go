package license

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/callvault/callvault/internal/atomicfile"
)

// FileName is the installed licence file in the data dir.
const FileName = "license.json"

// Install verifies a licence file and, when it is valid, writes it as
// the data dir's licence (atomically, mode 0640) and returns its licence.
// A file that fails Verify is not written and the licence in force stays.
func Install(dataDir string, data []byte, trusted []ed25519.PublicKey, now time.Time) (License, error) {
	l, err := Verify(data, trusted, now)
	if err != nil {
		return License{}, err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dataDir, FileName), data, 0o640); err != nil {
		return License{}, fmt.Errorf("install licence: %w", err)
	}
	return l, nil
}

// Load gives the licence in force for a data dir: the installed one when
// it verifies at now; otherwise the evaluation licence, with eval true
// and, when a file is there but fails (unreadable, altered, expired,
// signed by a key no longer trusted), the reason in err. The evaluation
// licence is in force whenever eval is true, err or not.
func Load(dataDir string, trusted []ed25519.PublicKey, now time.Time) (lic License, eval bool, err error) {
	path := filepath.Join(dataDir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Evaluation(), true, nil
	}
	if err != nil {
		return Evaluation(), true, fmt.Errorf("licence: %w; the evaluation licence is in force", err)
	}
	l, err := Verify(data, trusted, now)
	if err != nil {
		return Evaluation(), true, fmt.Errorf("%s: %w; the evaluation licence is in force", path, err)
	}
	return l, false, nil
}
