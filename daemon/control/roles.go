package control

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Role is what a caller of the control API may do. The daemon decides it
// from the peer credentials of the connection (see [ConnContext]); nothing
// the console sends counts.
type Role int

const (
	// RoleNone: the caller could open the socket but is in neither group;
	// every request is refused.
	RoleNone Role = iota
	// RoleNOC: a member of the NOC group (callvault-noc) may watch and
	// search: status, calls, recordings' metadata, events, users list,
	// verify.
	RoleNOC
	// RoleAdmin: root, the daemon's own user and members of the admin
	// group (callvault) may do everything.
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RoleNOC:
		return "noc"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// Caller is who sent a control request: the peer credentials of its
// connection, the user name (the uid in decimal when it has none) and the
// role the daemon gave it.
type Caller struct {
	UID, GID uint32
	User     string
	Role     Role
}

type callerKey struct{}

// CallerFrom returns the caller of a request that passed [WithRoles].
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Roles configures WithRoles. The zero value uses the default groups.
type Roles struct {
	// AdminGroup names the group whose members are admins ("callvault"
	// when empty).
	AdminGroup string
	// NOCGroup names the group whose members may watch and search
	// ("callvault-noc" when empty).
	NOCGroup string
	// CacheTTL is how long a user's groups and the groups' ids are
	// remembered (30 s when zero): a change of membership takes effect
	// within it.
	CacheTTL time.Duration
}

// Default group names and cache lifetime of Roles.
const (
	DefaultAdminGroup = "callvault"
	DefaultNOCGroup   = "callvault-noc"
	DefaultRolesTTL   = 30 * time.Second
)

func (cfg Roles) withDefaults() Roles {
	if cfg.AdminGroup == "" {
		cfg.AdminGroup = DefaultAdminGroup
	}
	if cfg.NOCGroup == "" {
		cfg.NOCGroup = DefaultNOCGroup
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultRolesTTL
	}
	return cfg
}

// routeRoles is the least role each route of the API needs. A request that
// matches no route here needs RoleAdmin, so a route added to the handler
// and forgotten here is closed to the NOC rather than open.
var routeRoles = []struct {
	pattern string
	min     Role
}{
	{"GET /v1/status", RoleNOC},
	{"GET /v1/calls", RoleNOC},
	{"GET /v1/recordings", RoleNOC},
	{"GET /v1/recordings/{id}", RoleNOC},
	{"GET /v1/recordings/{id}/audio", RoleAdmin},
	{"GET /v1/recordings/{id}/verify", RoleNOC},
	{"GET /v1/verify", RoleNOC},
	{"GET /v1/users", RoleNOC},
	{"POST /v1/users", RoleAdmin},
	{"DELETE /v1/users/{username}", RoleAdmin},
	{"PUT /v1/users/{username}", RoleAdmin},
	{"GET /v1/events", RoleNOC},
	{"POST /v1/record", RoleAdmin},
	{"PUT /v1/license", RoleAdmin},
}

// routeTable matches requests to routeRoles with the same patterns as the
// handler's mux.
type routeTable struct {
	mux   *http.ServeMux
	roles map[string]Role
}

func newRouteTable() routeTable {
	t := routeTable{mux: http.NewServeMux(), roles: make(map[string]Role, len(routeRoles))}
	for _, r := range routeRoles {
		t.mux.Handle(r.pattern, http.NotFoundHandler()) // never served: only matched
		t.roles[r.pattern] = r.min
	}
	return t
}

// need returns the least role r needs.
func (t routeTable) need(r *http.Request) Role {
	if _, pattern := t.mux.Handler(r); pattern != "" {
		if role, ok := t.roles[pattern]; ok {
			return role
		}
	}
	return RoleAdmin
}

// WithRoles wraps the control API h: it gives each request the role of its
// caller, refuses with 403 (ErrNotAllowed to the client) what the role may
// not do, and logs every request with the caller's uid, user name and role.
// The server must put the peer credentials in each connection's context
// with [ConnContext] (http.Server.ConnContext); a request without them is
// refused. log may be nil.
//
// On Linux the role comes from SO_PEERCRED: root, the daemon's own uid and
// members of cfg.AdminGroup (primary or supplementary, looked up in the
// user database) are admins, members of cfg.NOCGroup are NOC, anyone else
// is refused everything.
func WithRoles(h http.Handler, cfg Roles, log *slog.Logger) http.Handler {
	return newRoleGate(h, cfg, log, newResolver(cfg.withDefaults(), osLookup{}, time.Now, log))
}

type roleGate struct {
	next   http.Handler
	cfg    Roles
	log    *slog.Logger
	routes routeTable
	res    *resolver
}

func newRoleGate(h http.Handler, cfg Roles, log *slog.Logger, res *resolver) *roleGate {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &roleGate{next: h, cfg: cfg.withDefaults(), log: log, routes: newRouteTable(), res: res}
}

func (g *roleGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	p, ok := peerFrom(r.Context())
	if !ok {
		g.log.Error("control request without peer credentials: serve with ConnContext",
			"method", r.Method, "path", r.URL.Path, "err", p.err)
		g.refuse(sw, r, "callvaultd could not identify the caller (no peer credentials)")
		return
	}
	c := g.res.caller(p.uid, p.gid)
	defer func() {
		g.log.Info("control request", "method", r.Method, "path", r.URL.Path, "status", sw.status(),
			"uid", c.UID, "user", c.User, "role", c.Role.String(),
			"duration", time.Since(start).Round(time.Microsecond).String())
	}()
	if need := g.routes.need(r); c.Role < need {
		g.refuse(sw, r, g.refusal(c))
		return
	}
	g.next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
}

// refusal is the message a caller gets for a request its role may not make.
func (g *roleGate) refusal(c Caller) string {
	if c.Role == RoleNOC {
		return fmt.Sprintf("%s is in %s: %s members may watch and search; exporting, users, licences and record actions need the %s group",
			c.User, g.cfg.NOCGroup, g.cfg.NOCGroup, g.cfg.AdminGroup)
	}
	return fmt.Sprintf("%s (uid %d) is not a member of %s or %s", c.User, c.UID, g.cfg.AdminGroup, g.cfg.NOCGroup)
}

func (g *roleGate) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	(&handler{log: g.log}).reply(w, r, http.StatusForbidden, errorBody{Error: msg})
}

// statusWriter remembers the status a handler sent, for the log. Unwrap
// lets http.ResponseController reach the server's writer (flushes, write
// deadlines of the long responses).
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) FlushError() error {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK // nothing written: the server sends 200
	}
	return w.code
}
