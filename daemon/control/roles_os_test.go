package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// The helper process: TestRolesAcrossProcesses runs this test binary as
// another user with these variables set.
const (
	helperSocketEnv = "CVTEST_ROLES_SOCKET"
	helperDoEnv     = "CVTEST_ROLES_DO"
)

// TestRolesOSHelper is not a test: in a child process started by
// TestRolesAcrossProcesses it makes one request and prints its outcome.
func TestRolesOSHelper(t *testing.T) {
	sock := os.Getenv(helperSocketEnv)
	if sock == "" {
		return
	}
	c := &control.Client{Socket: sock}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	switch do := os.Getenv(helperDoEnv); do {
	case "status":
		_, err = c.Status(ctx)
	case "export":
		err = c.Export(ctx, "2026000000001", io.Discard)
	default:
		err = fmt.Errorf("unknown helper action %q", do)
	}
	switch {
	case err == nil:
		fmt.Println("RESULT ok")
	case errors.Is(err, control.ErrNotAllowed):
		fmt.Println("RESULT forbidden:", err)
	default:
		fmt.Println("RESULT error:", err)
	}
}

// TestRolesAcrossProcesses: a member of the NOC group is refused export
// over the socket, a member of the admin group may, and a user in neither
// group is refused even the status. It needs root to create the users and
// groups (cvtest-*, removed afterwards) and to run the requests as them.
func TestRolesAcrossProcesses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peer credentials are read on Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create users and groups and to run requests as them")
	}
	for _, tool := range []string{"groupadd", "useradd", "userdel", "groupdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	broken := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	run := func(name string, args ...string) error {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}

	n := strconv.Itoa(os.Getpid() % 100000)
	adminGroup, nocGroup, plainGroup := "cvtest-adm-"+n, "cvtest-noc-"+n, "cvtest-usr-"+n
	for _, g := range []string{adminGroup, nocGroup, plainGroup} {
		if err := run("groupadd", "--system", g); err != nil {
			broken("%v", err)
		}
		t.Cleanup(func() { _ = run("groupdel", g) })
	}
	// The role groups are supplementary: the primary group is plainGroup.
	users := map[string]string{"cvtest-a-" + n: adminGroup, "cvtest-n-" + n: nocGroup, "cvtest-x-" + n: ""}
	for name, extra := range users {
		args := []string{"--system", "-M", "-N", "-g", plainGroup, "-s", "/usr/sbin/nologin"}
		if extra != "" {
			args = append(args, "-G", extra)
		}
		if err := run("useradd", append(args, name)...); err != nil {
			broken("%v", err)
		}
		t.Cleanup(func() { _ = run("userdel", name) })
	}

	// A directory the users may enter, with a copy of this test binary
	// they may run (go test's own directories are root's alone).
	dir, err := os.MkdirTemp("", "cvtest-roles-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "control.test")
	if err := copyFile(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}

	sock := filepath.Join(dir, "control.sock")
	ln, err := control.ListenMode(sock, control.PeerCheckedMode)
	if err != nil {
		t.Fatal(err)
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/audio") {
			w.Header().Set("Content-Type", "audio/mpeg")
			_, _ = w.Write([]byte("ID3"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}\n"))
	})
	srv := &http.Server{
		Handler:     control.WithRoles(inner, control.Roles{AdminGroup: adminGroup, NOCGroup: nocGroup}, nil),
		ConnContext: control.ConnContext,
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	as := func(name, do string) string {
		t.Helper()
		u, err := user.Lookup(name)
		if err != nil {
			broken("look up %s: %v", name, err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		var groups []uint32
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := strconv.ParseUint(id, 10, 32); err == nil {
					groups = append(groups, uint32(g))
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-test.run=^TestRolesOSHelper$", "-test.count=1")
		cmd.Dir = dir
		cmd.Env = []string{helperSocketEnv + "=" + sock, helperDoEnv + "=" + do, "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: uint32(uid), Gid: uint32(gid), Groups: groups}}
		out, err := cmd.CombinedOutput()
		for _, l := range strings.Split(string(out), "\n") {
			if r, ok := strings.CutPrefix(l, "RESULT "); ok {
				return r
			}
		}
		t.Fatalf("%s as %s: no result (%v): %s", do, name, err, out)
		return ""
	}

	if got := as("cvtest-a-"+n, "export"); got != "ok" {
		t.Errorf("a %s member's export: %s, want ok", adminGroup, got)
	}
	got := as("cvtest-n-"+n, "export")
	if !strings.HasPrefix(got, "forbidden:") || !strings.Contains(got, "need the "+adminGroup+" group") {
		t.Errorf("a %s member's export: %s, want forbidden, naming %s", nocGroup, got, adminGroup)
	}
	if got := as("cvtest-n-"+n, "status"); got != "ok" {
		t.Errorf("a %s member's status: %s, want ok", nocGroup, got)
	}
	got = as("cvtest-x-"+n, "status")
	if !strings.HasPrefix(got, "forbidden:") || !strings.Contains(got, "not a member of") {
		t.Errorf("an outsider's status: %s, want forbidden, not a member", got)
	}
}

func copyFile(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
