package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/callvault/callvault/internal/atomicfile"
)

// Destroy makes the recording unreadable for good and removes it: a Live
// Keep call that was not kept. The data key goes first: the key block
// (bytes 32..99: KEK id, wrap nonce, wrapped data key) is overwritten with
// zeros and synced before the file is removed, so that blocks of the file
// that outlive its removal (a journal, a snapshot, an undelete) hold only
// ciphertext under a key that exists nowhere. It is a no-op after Abort or
// Destroy and an error after a successful Seal.
func (w *Writer) Destroy() error {
	switch w.state {
	case stateAborted:
		return nil
	case stateSealed:
		return fmt.Errorf("destroy recording %s: already sealed", w.id)
	}
	var errs []error
	if w.f != nil {
		if err := shredKey(w.f); err != nil {
			errs = append(errs, err)
		}
	} else if err := destroyFile(w.partPath); err != nil { // closed: the .part waits on disk
		errs = append(errs, err)
	}
	if err := w.Abort(); err != nil {
		errs = append(errs, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(w.partPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy recording %s: %w", w.id, err)
	}
	return nil
}

// shredKey overwrites a file's key block with zeros and syncs it.
func shredKey(f recordFile) error {
	if _, err := f.WriteAt(make([]byte, headerSize-identitySize), identitySize); err != nil {
		return fmt.Errorf("overwrite data key: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync overwritten data key: %w", err)
	}
	return nil
}

// destroyFile shreds the key block of the recording file at path, then
// removes the file and syncs its directory.
func destroyFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	err = shredKey(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}
