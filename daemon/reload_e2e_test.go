package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/callvault/callvault/daemon/control"
)

// TestReloadUsersAndLicence: SIGHUP (systemctl reload) reads the users
// file and the licence again, with the configuration's licence keys, and
// a users file that does not read keeps the users as they were.
func TestReloadUsersAndLicence(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	d.cli("users", "add", "alice", "--ext", "2501")

	// An admin restores a users file with a second user, and installs a
	// licence by hand with the key that signed it in the config.
	path := filepath.Join(d.data, "users.json")
	var file map[string]any
	if err := json.Unmarshal(readFile(t, path), &file); err != nil {
		t.Fatal(err)
	}
	file["users"] = append(file["users"].([]any), map[string]any{"username": "bob", "full_name": "Bob", "extensions": []string{"2600"}, "mode": "always"})
	writeJSONFile(t, path, file)
	lic, pub := testLicence(t, 12)
	if err := os.WriteFile(filepath.Join(d.data, "license.json"), lic, 0o640); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(d.dir, "callvaultd.toml")
	if err := os.WriteFile(conf, append(readFile(t, conf), fmt.Sprintf("\n[license]\npublic_keys = [%q]\n", pub)...), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	if st := d.waitReloads(1); st.Error != "" {
		t.Fatalf("reload: %s", st.Error)
	}
	if out := d.cli("users", "list"); !strings.Contains(out, "bob") || !strings.Contains(out, "alice") {
		t.Errorf("users after the reload:\n%s", out)
	}
	var st control.Status
	d.cliJSON(&st, "status")
	if st.License.Count != 12 || st.License.Evaluation {
		t.Errorf("licence after the reload: %+v, want the 12 channels installed", st.License)
	}

	// A broken users file: the reload is refused, the users stay.
	if err := os.WriteFile(path, []byte("{not json"), 0o640); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	if st := d.waitReloads(2); !strings.Contains(st.Error, "users") {
		t.Errorf("reload of a broken users file: %+v, want the users named", st)
	}
	if out := d.cli("users", "list"); !strings.Contains(out, "bob") {
		t.Errorf("users after a refused reload:\n%s", out)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}
