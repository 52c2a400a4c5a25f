package control

import (
	"errors"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"sync"
	"time"
)

// roleGroups is what roleOf needs besides the caller: the daemon's own uid
// and the ids of the admin and NOC groups (has* false when the group does
// not exist on this machine: nobody is in it).
type roleGroups struct {
	self             uint32
	adminGID, nocGID uint32
	hasAdmin, hasNOC bool
}

// roleOf decides the role of uid, whose process runs with gid and whose
// user is in groups (primary and supplementary, from the user database).
// Root and the daemon's own uid are admins whatever their groups; the
// admin group wins over the NOC group.
func roleOf(uid, gid uint32, groups []uint32, g roleGroups) Role {
	if uid == 0 || uid == g.self {
		return RoleAdmin
	}
	in := func(want uint32) bool {
		if gid == want {
			return true
		}
		for _, id := range groups {
			if id == want {
				return true
			}
		}
		return false
	}
	switch {
	case g.hasAdmin && in(g.adminGID):
		return RoleAdmin
	case g.hasNOC && in(g.nocGID):
		return RoleNOC
	}
	return RoleNone
}

// lookup is the user database: the name and group ids of a uid, the id of
// a group name. found is false when there is no such user or group.
type lookup interface {
	user(uid uint32) (name string, gids []uint32, found bool, err error)
	group(name string) (gid uint32, found bool, err error)
}

// osLookup reads the user database with os/user.
type osLookup struct{}

func (osLookup) user(uid uint32) (string, []uint32, bool, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	var unknown user.UnknownUserIdError
	if errors.As(err, &unknown) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	ids, err := u.GroupIds()
	if err != nil {
		return u.Username, nil, true, err
	}
	gids := make([]uint32, 0, len(ids))
	for _, s := range ids {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			gids = append(gids, uint32(n))
		}
	}
	return u.Username, gids, true, nil
}

func (osLookup) group(name string) (uint32, bool, error) {
	g, err := user.LookupGroup(name)
	var unknown user.UnknownGroupError
	if errors.As(err, &unknown) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, false, err
	}
	return uint32(n), true, nil
}

// resolver turns peer credentials into a Caller, remembering lookups for
// cfg.CacheTTL. A failed lookup is remembered too (the caller then gets
// only what its uid and process gid give), so a broken directory service
// is not asked on every request.
type resolver struct {
	cfg  Roles
	db   lookup
	now  func() time.Time
	self uint32
	log  *slog.Logger

	mu     sync.Mutex
	users  map[uint32]userEntry
	groups map[string]groupEntry
}

type userEntry struct {
	name    string
	gids    []uint32
	expires time.Time
}

type groupEntry struct {
	gid     uint32
	found   bool
	expires time.Time
}

// maxCached bounds the user cache; expired entries are dropped past it.
const maxCached = 1024

func newResolver(cfg Roles, db lookup, now func() time.Time, log *slog.Logger) *resolver {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &resolver{cfg: cfg.withDefaults(), db: db, now: now, self: uint32(os.Geteuid()), log: log,
		users: make(map[uint32]userEntry), groups: make(map[string]groupEntry)}
}

// caller returns the Caller for a peer with uid and gid.
func (r *resolver) caller(uid, gid uint32) Caller {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	u := r.userLocked(uid, now)
	g := roleGroups{self: r.self}
	g.adminGID, g.hasAdmin = r.groupLocked(r.cfg.AdminGroup, now)
	g.nocGID, g.hasNOC = r.groupLocked(r.cfg.NOCGroup, now)
	return Caller{UID: uid, GID: gid, User: u.name, Role: roleOf(uid, gid, u.gids, g)}
}

func (r *resolver) userLocked(uid uint32, now time.Time) userEntry {
	if e, ok := r.users[uid]; ok && now.Before(e.expires) {
		return e
	}
	name, gids, found, err := r.db.user(uid)
	if err != nil {
		r.log.Warn("control caller: user lookup failed", "uid", uid, "err", err)
	}
	if !found || name == "" {
		name = strconv.FormatUint(uint64(uid), 10)
	}
	if len(r.users) >= maxCached {
		for id, e := range r.users {
			if !now.Before(e.expires) {
				delete(r.users, id)
			}
		}
	}
	e := userEntry{name: name, gids: gids, expires: now.Add(r.cfg.CacheTTL)}
	r.users[uid] = e
	return e
}

func (r *resolver) groupLocked(name string, now time.Time) (uint32, bool) {
	if e, ok := r.groups[name]; ok && now.Before(e.expires) {
		return e.gid, e.found
	}
	gid, found, err := r.db.group(name)
	if err != nil {
		r.log.Warn("control caller: group lookup failed", "group", name, "err", err)
	}
	e := groupEntry{gid: gid, found: found && err == nil, expires: now.Add(r.cfg.CacheTTL)}
	r.groups[name] = e
	return e.gid, e.found
}
