package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/syncbuf"
)

func TestPeerCredOfRealConnection(t *testing.T) {
	ln, err := ListenMode(filepath.Join(t.TempDir(), "control.sock"), PeerCheckedMode)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	client, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer server.Close()
	uid, gid, err := peerCred(server)
	if err != nil {
		t.Fatalf("peerCred: %v", err)
	}
	if uid != uint32(os.Geteuid()) || gid != uint32(os.Getegid()) {
		t.Errorf("peer = uid %d gid %d, want %d %d", uid, gid, os.Geteuid(), os.Getegid())
	}
	p, ok := peerFrom(ConnContext(context.Background(), server))
	if !ok || p.uid != uid || p.gid != gid {
		t.Errorf("ConnContext kept %+v, ok %v", p, ok)
	}
}

// TestRolesOverRealSocket serves WithRoles with ConnContext on a socket:
// the caller (this process, the daemon's own uid) is an admin, the
// handler sees it, flushes and write deadlines reach the connection, and
// the log names the caller.
func TestRolesOverRealSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	ln, err := ListenMode(path, PeerCheckedMode)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != PeerCheckedMode {
		t.Errorf("socket mode = %v (%v), want %v", fi.Mode().Perm(), err, PeerCheckedMode)
	}
	var logs syncBuffer
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := CallerFrom(r.Context())
		if !ok {
			http.Error(w, "no caller", http.StatusInternalServerError)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Time{}); err != nil {
			http.Error(w, "deadline: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Status{Version: c.User + "/" + c.Role.String()})
		if err := rc.Flush(); err != nil {
			t.Errorf("flush through WithRoles: %v", err)
		}
	})
	srv := &http.Server{Handler: WithRoles(inner, Roles{}, slog.New(slog.NewJSONHandler(&logs, nil))), ConnContext: ConnContext}
	go srv.Serve(ln)
	defer srv.Close()

	st, err := (&Client{Socket: path}).Status(context.Background())
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	me := uint32(os.Geteuid())
	wantUser, _, found, _ := osLookup{}.user(me)
	if !found {
		wantUser = "" // any name: the number
	}
	if !strings.HasSuffix(st.Version, "/admin") || (wantUser != "" && !strings.HasPrefix(st.Version, wantUser+"/")) {
		t.Errorf("caller seen by the handler = %q, want %s/admin", st.Version, wantUser)
	}
	var line struct {
		UID    uint32 `json:"uid"`
		User   string `json:"user"`
		Role   string `json:"role"`
		Status int    `json:"status"`
		Path   string `json:"path"`
	}
	// The line is written as the handler returns, maybe after the reply.
	logged := ""
	for deadline := time.Now().Add(10 * time.Second); logged == "" && time.Now().Before(deadline); {
		if logged = firstLine(logs.String(), `"control request"`); logged == "" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := json.Unmarshal([]byte(logged), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line.UID != me || line.User == "" || line.Role != "admin" || line.Status != 200 || line.Path != "/v1/status" {
		t.Errorf("log line = %+v, want uid %d, a user, admin, 200, /v1/status", line, me)
	}
}

func TestRoleOf(t *testing.T) {
	g := roleGroups{self: 990, adminGID: 990, nocGID: 991, hasAdmin: true, hasNOC: true}
	noGroups := roleGroups{self: 990}
	cases := []struct {
		name     string
		uid, gid uint32
		groups   []uint32
		g        roleGroups
		want     Role
	}{
		{"root", 0, 0, nil, g, RoleAdmin},
		{"root without the groups", 0, 0, nil, noGroups, RoleAdmin},
		{"the daemon's own uid", 990, 990, nil, noGroups, RoleAdmin},
		{"admin group, supplementary", 1000, 1000, []uint32{1000, 990}, g, RoleAdmin},
		{"admin group, process gid only", 1000, 990, []uint32{1000}, g, RoleAdmin},
		{"noc group, supplementary", 1001, 1001, []uint32{1001, 991}, g, RoleNOC},
		{"noc group, process gid only", 1001, 991, nil, g, RoleNOC},
		{"both groups: admin wins", 1002, 1002, []uint32{991, 990}, g, RoleAdmin},
		{"neither", 1003, 1003, []uint32{1003, 27}, g, RoleNone},
		{"groups missing on the machine", 1000, 990, []uint32{990, 991}, noGroups, RoleNone},
	}
	for _, c := range cases {
		if got := roleOf(c.uid, c.gid, c.groups, c.g); got != c.want {
			t.Errorf("%s: roleOf = %v, want %v", c.name, got, c.want)
		}
	}
}

// fakeDB is a user database of three users and the two groups.
type fakeDB struct {
	mu      sync.Mutex
	users   map[uint32]fakeUser
	groups  map[string]uint32
	lookups int
}

type fakeUser struct {
	name string
	gids []uint32
}

func newFakeDB() *fakeDB {
	return &fakeDB{
		users: map[uint32]fakeUser{
			2000: {"ada", []uint32{2000, 990}},
			2001: {"nick", []uint32{2001, 991}},
			2002: {"eve", []uint32{2002}},
		},
		groups: map[string]uint32{"callvault": 990, "callvault-noc": 991},
	}
}

func (d *fakeDB) user(uid uint32) (string, []uint32, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lookups++
	u, ok := d.users[uid]
	return u.name, u.gids, ok, nil
}

func (d *fakeDB) group(name string) (uint32, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	gid, ok := d.groups[name]
	return gid, ok, nil
}

func serveAs(h http.Handler, uid uint32, method, path string) *httptest.ResponseRecorder {
	ctx := context.WithValue(context.Background(), peerKey{}, peer{uid: uid, gid: uid})
	r := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader("{}"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gate(t *testing.T, db lookup, log *slog.Logger) http.Handler {
	t.Helper()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := CallerFrom(r.Context()); !ok {
			t.Errorf("%s %s: the handler has no caller", r.Method, r.URL.Path)
		}
		w.WriteHeader(http.StatusOK)
	})
	return newRoleGate(inner, Roles{}, log, newResolver(Roles{}, db, time.Now, log))
}

func TestWithRolesTable(t *testing.T) {
	h := gate(t, newFakeDB(), nil)
	type req struct{ method, path string }
	watch := []req{
		{"GET", "/v1/status"}, {"GET", "/v1/calls"}, {"GET", "/v1/recordings?user=john"},
		{"GET", "/v1/recordings/2026000000001"}, {"GET", "/v1/recordings/2026000000001/verify"},
		{"GET", "/v1/verify"}, {"GET", "/v1/users"}, {"GET", "/v1/events"},
	}
	act := []req{
		{"GET", "/v1/recordings/2026000000001/audio"}, {"POST", "/v1/users"},
		{"DELETE", "/v1/users/john"}, {"PUT", "/v1/license"}, {"POST", "/v1/record"},
		{"POST", "/v1/unknown"}, // a route missing from the table needs an admin
	}
	for _, rq := range append(append([]req{}, watch...), act...) {
		if w := serveAs(h, 2000, rq.method, rq.path); w.Code != http.StatusOK {
			t.Errorf("admin %s %s = %d, want 200", rq.method, rq.path, w.Code)
		}
		if w := serveAs(h, 0, rq.method, rq.path); w.Code != http.StatusOK {
			t.Errorf("root %s %s = %d, want 200", rq.method, rq.path, w.Code)
		}
		if w := serveAs(h, 2002, rq.method, rq.path); w.Code != http.StatusForbidden ||
			!strings.Contains(w.Body.String(), "eve (uid 2002) is not a member of callvault or callvault-noc") {
			t.Errorf("unknown %s %s = %d %q, want 403 not a member", rq.method, rq.path, w.Code, w.Body.String())
		}
		if w := serveAs(h, 3000, rq.method, rq.path); w.Code != http.StatusForbidden ||
			!strings.Contains(w.Body.String(), "3000 (uid 3000)") {
			t.Errorf("uid without a user %s %s = %d %q, want 403 naming the number", rq.method, rq.path, w.Code, w.Body.String())
		}
	}
	for _, rq := range watch {
		if w := serveAs(h, 2001, rq.method, rq.path); w.Code != http.StatusOK {
			t.Errorf("noc %s %s = %d %s, want 200", rq.method, rq.path, w.Code, w.Body.String())
		}
	}
	for _, rq := range act {
		w := serveAs(h, 2001, rq.method, rq.path)
		want := "nick is in callvault-noc: callvault-noc members may watch and search; exporting, users, licences and record actions need the callvault group"
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), want) {
			t.Errorf("noc %s %s = %d %q, want 403 %q", rq.method, rq.path, w.Code, w.Body.String(), want)
		}
	}
}

func TestWithRolesRefusalIsNotAllowedToTheClient(t *testing.T) {
	srv := httptest.NewServer(gate(t, newFakeDB(), nil))
	defer srv.Close()
	// httptest has no peer credentials: WithRoles refuses, and the client
	// sees ErrNotAllowed with the daemon's message.
	c := &Client{Dial: func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
	}}
	err := c.Export(context.Background(), "2026000000001", io.Discard)
	if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "could not identify the caller") {
		t.Errorf("export without peer credentials: err = %v, want ErrNotAllowed naming the reason", err)
	}
}

func TestWithRolesLogsCaller(t *testing.T) {
	var logs syncBuffer
	h := gate(t, newFakeDB(), slog.New(slog.NewTextHandler(&logs, nil)))
	serveAs(h, 2001, "GET", "/v1/recordings/2026000000001/audio")
	serveAs(h, 2000, "POST", "/v1/users")
	out := logs.String()
	for _, want := range []string{
		`msg="control request" method=GET path=/v1/recordings/2026000000001/audio status=403 uid=2001 user=nick role=noc duration=`,
		`msg="control request" method=POST path=/v1/users status=200 uid=2000 user=ada role=admin duration=`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestResolverCachesForTTL(t *testing.T) {
	db := newFakeDB()
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	res := newResolver(Roles{CacheTTL: 30 * time.Second}, db, func() time.Time { return now }, nil)
	if c := res.caller(2002, 2002); c.Role != RoleNone || c.User != "eve" {
		t.Fatalf("eve = %+v, want none", c)
	}
	db.mu.Lock()
	db.users[2002] = fakeUser{"eve", []uint32{2002, 991}} // usermod -aG callvault-noc eve
	db.mu.Unlock()
	now = now.Add(10 * time.Second)
	if c := res.caller(2002, 2002); c.Role != RoleNone || db.lookups != 1 {
		t.Errorf("within the TTL: role %v after %d lookups, want the cached none after 1", c.Role, db.lookups)
	}
	now = now.Add(30 * time.Second)
	if c := res.caller(2002, 2002); c.Role != RoleNOC {
		t.Errorf("after the TTL: role %v, want noc", c.Role)
	}
}

func TestRolesConfigurableGroups(t *testing.T) {
	db := newFakeDB()
	db.groups = map[string]uint32{"ops": 991, "wheel": 990}
	cfg := Roles{AdminGroup: "wheel", NOCGroup: "ops"}
	h := newRoleGate(http.NotFoundHandler(), cfg, nil, newResolver(cfg, db, time.Now, nil))
	w := serveAs(h, 2001, "PUT", "/v1/license")
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "ops members may watch and search") ||
		!strings.Contains(w.Body.String(), "need the wheel group") {
		t.Errorf("noc licence install = %d %q, want 403 naming ops and wheel", w.Code, w.Body.String())
	}
	if w := serveAs(h, 2000, "PUT", "/v1/license"); w.Code != http.StatusNotFound {
		t.Errorf("admin licence install = %d, want the handler's 404", w.Code)
	}
}

// syncBuffer collects output written from other goroutines.
type syncBuffer = syncbuf.Buffer

func firstLine(s, containing string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, containing) {
			return l
		}
	}
	return ""
}
