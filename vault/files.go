package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Suffixes of the files under records/.
const (
	sealedSuffix = ".mp3.enc" // a sealed recording
	partSuffix   = ".part"    // a recording being written, or left by a crash
)

// fileSHA256 returns the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// walkRecords calls fn with the absolute path of every regular file under
// <Dir>/records whose name ends in suffix, in lexical order (so by day).
// An error from fn stops the walk and is returned.
func (s *Store) walkRecords(suffix string, fn func(path string) error) error {
	root := filepath.Join(s.dir, "records")
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), suffix) {
			return fn(path)
		}
		return nil
	})
}

// idOfName returns the record id that prefixes a record file's base name
// (<id>_..., <id>.part), or false.
func idOfName(name string) (string, bool) {
	if len(name) < idLen+1 {
		return "", false
	}
	id := name[:idLen]
	if _, ok := parseID(id); !ok || (name[idLen] != '_' && name[idLen] != '.') {
		return "", false
	}
	return id, true
}
