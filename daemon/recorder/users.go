package recorder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"

	"github.com/callvault/callvault/internal/atomicfile"

	"github.com/callvault/callvault/internal/vocab"
)

// user is one entry of the users directory.
type user struct {
	Username   string   `json:"username"`
	FullName   string   `json:"full_name"`
	Extensions []string `json:"extensions"`
	Mode       string   `json:"mode"`
	// Direction and External filter the user's calls (vocab.FilterIn,
	// vocab.FilterOut, vocab.FilterBoth; vocab.FilterOnly, vocab.FilterAny); "" keeps [policy]'s.
	Direction string `json:"direction,omitempty"`
	External  string `json:"external,omitempty"`
	// RetentionMonths keeps the user's recordings that long; 0: the
	// [retention] months of the configuration.
	RetentionMonths int `json:"retention_months,omitempty"`
	// Added is when the user was added: a user licence covers the first
	// users added. Zero for users added before it was kept (they come
	// first, by name).
	Added time.Time `json:"added,omitzero"`
}

// sortedByAdded returns users in the order they were added (by name
// among those added at the same time).
func sortedByAdded(users []user) []user {
	out := slices.Clone(users)
	slices.SortStableFunc(out, func(a, b user) int {
		if c := a.Added.Compare(b.Added); c != 0 {
			return c
		}
		return strings.Compare(a.Username, b.Username)
	})
	return out
}

// Directory is the users directory, kept in <data>/users.json and written
// atomically on every change. An extension belongs to at most one user.
type Directory struct {
	path  string
	mu    sync.RWMutex
	users []user          // sorted by username
	byExt map[string]user // extension -> user
}

type usersFile struct {
	Version int    `json:"version"`
	Users   []user `json:"users"`
}

func OpenDirectory(path string) (*Directory, error) {
	d := &Directory{path: path}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read users: %w", err)
	default:
		var f usersFile
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("read users %s: %w", path, err)
		}
		for _, u := range f.Users {
			if err := validateUser(u); err != nil {
				return nil, fmt.Errorf("read users %s: %w", path, err)
			}
		}
		d.users = f.Users
	}
	d.index()
	return d, nil
}

func (d *Directory) index() {
	slices.SortFunc(d.users, func(a, b user) int { return strings.Compare(a.Username, b.Username) })
	d.byExt = make(map[string]user)
	for _, u := range d.users {
		for _, e := range u.Extensions {
			d.byExt[e] = u
		}
	}
}

// byExtension returns the user owning extension ext.
func (d *Directory) byExtension(ext string) (user, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u, ok := d.byExt[ext]
	return u, ok
}

func (d *Directory) list() []user {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.users)
}

func validateUser(u user) error {
	var errs []error
	for _, p := range vocab.CheckUser(u.Username, u.FullName, u.Extensions, u.Mode) {
		errs = append(errs, errors.New(p))
	}
	if p := vocab.CheckFilter(u.Direction, u.External); p != "" {
		errs = append(errs, errors.New(p))
	}
	if p := vocab.CheckRetention(u.RetentionMonths); p != "" {
		errs = append(errs, errors.New(p))
	}
	return errors.Join(errs...)
}

// add stores a new user. It fails with control.ErrExists when the username
// or one of its extensions is taken.
func (d *Directory) add(u user) error {
	if u.Mode == "" {
		u.Mode = vocab.ModeAlways
	}
	if u.Added.IsZero() {
		u.Added = time.Now().UTC().Truncate(time.Second)
	}
	if err := validateUser(u); err != nil {
		return fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range d.users {
		if o.Username == u.Username {
			return fmt.Errorf("%w: user %q exists", control.ErrExists, u.Username)
		}
	}
	for _, e := range u.Extensions {
		if o, ok := d.byExt[e]; ok {
			return fmt.Errorf("%w: extension %s belongs to %q", control.ErrExists, e, o.Username)
		}
	}
	next := append(slices.Clone(d.users), u)
	if err := d.save(next); err != nil {
		return err
	}
	d.users = next
	d.index()
	return nil
}

// update replaces a user's name, extensions, mode and filters; the user
// keeps its place in the licence's order (Added). It fails with
// control.ErrNotFound when there is no such user and control.ErrExists
// when an extension belongs to another user.
func (d *Directory) update(u user) error {
	if u.Mode == "" {
		u.Mode = vocab.ModeAlways
	}
	if err := validateUser(u); err != nil {
		return fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.users, func(o user) bool { return o.Username == u.Username })
	if i < 0 {
		return fmt.Errorf("%w: user %q", control.ErrNotFound, u.Username)
	}
	for _, e := range u.Extensions {
		if o, ok := d.byExt[e]; ok && o.Username != u.Username {
			return fmt.Errorf("%w: extension %s belongs to %q", control.ErrExists, e, o.Username)
		}
	}
	u.Added = d.users[i].Added
	next := slices.Clone(d.users)
	next[i] = u
	if err := d.save(next); err != nil {
		return err
	}
	d.users = next
	d.index()
	return nil
}

// remove deletes a user; control.ErrNotFound when there is none.
func (d *Directory) remove(username string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.users, func(u user) bool { return u.Username == username })
	if i < 0 {
		return fmt.Errorf("%w: user %q", control.ErrNotFound, username)
	}
	next := slices.Delete(slices.Clone(d.users), i, i+1)
	if err := d.save(next); err != nil {
		return err
	}
	d.users = next
	d.index()
	return nil
}

// save writes the users atomically: temp file, fsync, rename, fsync dir.
func (d *Directory) save(users []user) error {
	data, err := json.MarshalIndent(usersFile{Version: 1, Users: users}, "", "  ")
	if err != nil {
		return fmt.Errorf("save users: %w", err)
	}
	return atomicfile.WriteBytes(d.path, append(data, '\n'), 0o640)
}

// Reload reads the users file again (an admin edited it, or restored it):
// its users replace the ones in memory. A file that does not read or
// validate changes nothing. It returns how many users there are.
func (d *Directory) Reload() (int, error) {
	fresh, err := OpenDirectory(d.path)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users, d.byExt = fresh.users, fresh.byExt
	return len(d.users), nil
}
