package target

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/callvault/callvault/internal/atomicfile"
)

// Dir is a target in a directory, typically a mounted NAS share (CIFS,
// NFS): an object is a file at its key under the directory, written to a
// temporary file beside it, synced and renamed, and read back to check
// its SHA-256.
type Dir struct {
	name string
	root string
}

// NewDir makes the dir target of cfg (cfg.Path is its directory).
func NewDir(cfg Config) (*Dir, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("target %s: kind dir needs a path", cfg.Name)
	}
	root, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", cfg.Name, err)
	}
	return &Dir{name: cfg.Name, root: root}, nil
}

var _ Target = (*Dir)(nil)

// Name is the target's name.
func (d *Dir) Name() string { return d.name }

// Prepare creates the directory when it is missing.
func (d *Dir) Prepare(ctx context.Context) error {
	if err := os.MkdirAll(d.root, 0o750); err != nil {
		return fmt.Errorf("target %s: %w", d.name, err)
	}
	return nil
}

// file is the path of key under the directory; keys that would leave it
// are refused.
func (d *Dir) file(key string) (string, error) {
	clean := path.Clean("/" + key)[1:]
	if key == "" || clean != key || strings.HasPrefix(key, "../") {
		return "", fmt.Errorf("target %s: bad key %q", d.name, key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put writes the object through a synced temporary file and a rename,
// then reads it back: what is there must hash to sum.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (Object, error) {
	p, err := d.file(key)
	if err != nil {
		return Object{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return Object{}, fmt.Errorf("target %s: %w", d.name, err)
	}
	err = atomicfile.Write(p, 0o640, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), r)
		if err != nil {
			return fmt.Errorf("target %s: put %s: %w", d.name, key, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); n != size || got != sum {
			return fmt.Errorf("target %s: put %s: sent %d bytes hashing to %s, want %d bytes hashing to %s: %w", d.name, key, n, got, size, sum, ErrChecksum)
		}
		return nil
	})
	if err != nil {
		return Object{}, err
	}
	obj, err := d.Stat(ctx, key)
	if err != nil {
		return Object{}, err
	}
	if obj.SHA256 != sum || obj.Size != size {
		os.Remove(p)
		return Object{}, fmt.Errorf("target %s: put %s: read back %d bytes hashing to %s: %w", d.name, key, obj.Size, obj.SHA256, ErrChecksum)
	}
	return obj, nil
}

// Open opens the object's file.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	p, err := d.file(key)
	if err != nil {
		return nil, Object{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Object{}, d.notFound(key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Object{}, fmt.Errorf("target %s: %w", d.name, err)
	}
	return f, Object{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

// Stat reads the object's file whole to hash it.
func (d *Dir) Stat(ctx context.Context, key string) (Object, error) {
	f, obj, err := d.Open(ctx, key)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return Object{}, fmt.Errorf("target %s: read %s: %w", d.name, key, err)
	}
	obj.SHA256 = hex.EncodeToString(h.Sum(nil))
	return obj, nil
}

// List walks the directory in lexical order; temporary files of a Put
// in progress are left out, and so is the hash (Stat tells it).
func (d *Dir) List(ctx context.Context, prefix string, fn func(Object) error) error {
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.root, p)
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			// Go down only where keys with the prefix can be.
			if key != "." && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) || isTemp(e.Name()) {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return nil // gone since the listing
		}
		return fn(Object{Key: key, Size: fi.Size(), Modified: fi.ModTime()})
	})
	if err != nil {
		return fmt.Errorf("target %s: list %s: %w", d.name, prefix, err)
	}
	return nil
}

// isTemp reports whether name is atomicfile's temporary file.
func isTemp(name string) bool { return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") }

// Delete removes the object's file.
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.file(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("target %s: delete %s: %w", d.name, key, err)
	}
	return nil
}

func (d *Dir) notFound(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("target %s: %s: %w", d.name, key, ErrNotFound)
	}
	return fmt.Errorf("target %s: %w", d.name, err)
}
