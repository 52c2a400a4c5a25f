package vault

import "sync"

// fileSet is a set of paths, safe for concurrent use. Its zero value is
// empty and ready. Store.live holds the recording files (absolute paths of
// .part and .salvage files) that a Writer or a recovery of the store is
// writing, so that RecoverParts never touches them: a Writer's file is
// claimed at create and released by Seal, Abort and Close (and by a Seal
// that fails).
type fileSet struct {
	mu    sync.Mutex
	paths map[string]struct{}
}

// claim adds path; false if it was already there.
func (fs *fileSet) claim(path string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fs.paths[path]; ok {
		return false
	}
	if fs.paths == nil {
		fs.paths = make(map[string]struct{})
	}
	fs.paths[path] = struct{}{}
	return true
}

// release removes path.
func (fs *fileSet) release(path string) {
	fs.mu.Lock()
	delete(fs.paths, path)
	fs.mu.Unlock()
}

// has reports whether path is in the set.
func (fs *fileSet) has(path string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	_, ok := fs.paths[path]
	return ok
}
