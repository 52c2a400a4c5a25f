package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
	"github.com/callvault/callvault/internal/testservers"
	"github.com/callvault/callvault/vault/target"
	"github.com/callvault/callvault/vault/target/azuretarget"
	"github.com/callvault/callvault/vault/target/s3target"
	"github.com/callvault/callvault/vault/target/targettest"
)

// storageTables is a daemon's [storage] keys and one target.
func storageTables(node int, keepLocal, target string) string {
	return fmt.Sprintf("keep_local = %q\nnode = %d\n%s\n", keepLocal, node, target)
}

// dirTarget is a [[storage.target]] table of a dir target.
func dirTarget(name, path, prefix string) string {
	return fmt.Sprintf("[[storage.target]]\nname = %q\nkind = \"dir\"\npath = %q\nprefix = %q\n", name, path, prefix)
}

// copied waits until recording id is copied to every target it names
// and, with evicted, its local file removed; it returns the recording.
func (d *daemonProc) copied(id string, evicted bool, targets ...string) control.Recording {
	d.t.Helper()
	var rec control.Recording
	d.until(90*time.Second, "recording "+id+" copied to "+strings.Join(targets, ", "), func() bool {
		d.cliJSON(&rec, "show", id)
		for _, name := range targets {
			ok := false
			for _, c := range rec.Copies {
				ok = ok || c.Target == name && c.State == "copied" && c.SHA256 == rec.SHA256
			}
			if !ok {
				return false
			}
		}
		return !evicted || !rec.Evicted.IsZero()
	})
	return rec
}

// archiveCase is a target of the copies test: its [[storage.target]]
// table, the same target as the test reads it, and how to take it away
// and bring it back.
type archiveCase struct {
	name   string
	table  string
	target target.Target
	down   func()
	up     func()
}

// dirCase is a NAS directory; it goes away as an unmounted share would
// (a file where the directory was).
func dirCase(t *testing.T) archiveCase {
	nas := filepath.Join(t.TempDir(), "nas")
	tg, err := target.NewDir(target.Config{Name: "archive", Path: nas})
	if err != nil {
		t.Fatal(err)
	}
	return archiveCase{name: "dir", table: dirTarget("archive", nas, "site-a/"), target: tg,
		down: func() {
			if err := os.Rename(nas, nas+".away"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(nas, []byte("not a directory"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		up: func() {
			if err := os.Remove(nas); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(nas+".away", nas); err != nil {
				t.Fatal(err)
			}
		}}
}

// s3Case is a bucket on a real versitygw, stopped and started again.
func s3Case(t *testing.T) archiveCase {
	gw := testservers.StartVersityGW(t)
	cfg := target.Config{Name: "archive", Kind: target.KindS3, Endpoint: gw.Endpoint, Bucket: "recordings",
		Prefix: "site-a/", PathStyle: true, Credentials: gw.CredentialsFile()}
	tg, err := s3target.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("[[storage.target]]\nname = \"archive\"\nkind = \"s3\"\nendpoint = %q\nbucket = \"recordings\"\n"+
		"prefix = \"site-a/\"\npath_style = true\ncredentials = %q\n", gw.Endpoint, gw.CredentialsFile())
	return archiveCase{name: "s3", table: table, target: tg, down: gw.Stop, up: gw.Start}
}

// azureCase is a container on a real Azurite, stopped and started again.
func azureCase(t *testing.T) archiveCase {
	az := testservers.StartAzurite(t)
	cfg := target.Config{Name: "archive", Kind: target.KindAzure, Endpoint: az.Endpoint, Bucket: "recordings",
		Prefix: "site-a/", Credentials: az.CredentialsFile()}
	tg, err := azuretarget.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("[[storage.target]]\nname = \"archive\"\nkind = \"azure\"\nendpoint = %q\nbucket = \"recordings\"\n"+
		"prefix = \"site-a/\"\ncredentials = %q\n", az.Endpoint, az.CredentialsFile())
	return archiveCase{name: "azure", table: table, target: tg, down: az.Stop, up: az.Start}
}

// TestCopiesToTargets: for each kind of target, a call is recorded,
// copied byte for byte under <prefix>node-<N>/<file>, its local file
// removed (keep_local 0), then exported through the daemon from the copy
// and read by ffprobe. With the target down, copies wait and fail; once
// it is back every recording arrives, once.
func TestCopiesToTargets(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe")
	for _, mk := range []func(*testing.T) archiveCase{dirCase, s3Case, azureCase} {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			checkCopies(t, mk(t))
		})
	}
}

func checkCopies(t *testing.T, c archiveCase) {
	ctx := context.Background()
	d := startDaemon(t, daemonOptions{tables: storageTables(2, "0", c.table)})
	d.cli("users", "add", "alice", "--name", "Alice Archer", "--ext", "2501")
	spec := callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"}

	s := d.setup(spec)
	s.send("PCMU", sentSeconds)
	first := s.hangUp()
	if first.ID[4] != '2' {
		t.Errorf("record id %s of node 2: want its sequence to start with 2", first.ID)
	}
	local, err := os.ReadFile(filepath.Join(d.data, filepath.FromSlash(first.File)))
	if err != nil {
		t.Fatal(err)
	}
	rec := d.copied(first.ID, true, "archive")
	key := "site-a/node-2/" + rec.File
	if rec.Copies[0].Key != key {
		t.Errorf("%s: copy key %q, want %q", c.name, rec.Copies[0].Key, key)
	}
	if object := targettest.Read(t, c.target, key); !bytes.Equal(object, local) {
		t.Errorf("%s: the object has %d bytes, not the local file's %d", c.name, len(object), len(local))
	}
	if _, err := os.Stat(filepath.Join(d.data, filepath.FromSlash(rec.File))); !os.IsNotExist(err) {
		t.Errorf("local file still there with keep_local 0: %v", err)
	}
	out := exportAudio(t, d, rec)
	mp3, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkFormat(t, out, mp3, 1)
	if v := d.cli("verify", rec.ID); !strings.Contains(v, "intact") {
		t.Errorf("verify from the copy: %s", v)
	}

	// The target goes away mid-backlog: the next calls wait for it.
	c.down()
	var ids []string
	for range 2 {
		s := d.setup(spec)
		s.send("PCMU", 1)
		ids = append(ids, s.hangUp().ID)
	}
	var st control.Status
	d.until(60*time.Second, "the target down and the backlog of 2", func() bool {
		d.cliJSON(&st, "status")
		return st.Storage != nil && st.Storage.Backlog == 2 && st.Storage.Targets[0].State == "down" && st.Storage.Targets[0].Error != ""
	})
	// The target may be "up" again for its next try by now, but its last
	// error stays until a copy succeeds.
	if out := d.cli("storage", "status"); !strings.Contains(out, "backlog      2 recordings") || strings.HasSuffix(strings.TrimSpace(out), " -") {
		t.Errorf("storage status while the target is down:\n%s", out)
	}
	for _, id := range ids {
		var r control.Recording
		d.cliJSON(&r, "show", id)
		if !r.Evicted.IsZero() {
			t.Errorf("%s evicted before it was copied", id)
		}
	}

	// Back: every recording arrives, once.
	c.up()
	for _, id := range ids {
		d.copied(id, true, "archive")
	}
	var objects, secrets []string
	if err := c.target.List(ctx, "site-a/", func(o target.Object) error {
		if strings.Contains(o.Key, "/keys/secrets/") {
			secrets = append(secrets, o.Key)
		} else {
			objects = append(objects, o.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(objects) != 3 || len(secrets) == 0 {
		t.Errorf("objects on the target: %q and %q, want the 3 recordings once each and their day's erasure secrets", objects, secrets)
	}
	d.cliJSON(&st, "status")
	if s := st.Storage; s.Backlog != 0 || s.Targets[0].State != "up" || s.Targets[0].Copied != 3 {
		t.Errorf("storage after the outage: %+v", s)
	}
}

// TestTwoNodesOneTarget: two recorders (nodes 1 and 2, one key) copy to
// one S3 bucket (a real versitygw) while recording at the same time: no record id or object
// name collides, and a fresh node's `reindex -from-target` lists both
// nodes' recordings and exports them from the target.
func TestTwoNodesOneTarget(t *testing.T) {
	testaudio.Require(t, "sipp")
	t.Parallel()
	bucket := s3Case(t)
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "callvault.kek"), []byte(strings.Repeat("5a", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"CREDENTIALS_DIRECTORY=" + creds}
	table := bucket.table
	var nodes []*daemonProc
	for n := 1; n <= 2; n++ {
		d := startDaemon(t, daemonOptions{env: env, tables: storageTables(n, "", table)})
		d.cli("users", "add", "alice", "--ext", "2501")
		nodes = append(nodes, d)
	}
	spec := callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "2501", callee: "+15558201320", codec: "PCMU"}
	var calls []*session
	for range 2 {
		for _, d := range nodes {
			calls = append(calls, d.setup(spec))
		}
	}
	ids := map[string]bool{}
	for _, s := range calls {
		s.send("PCMU", 0.5)
		rec := s.hangUp()
		if ids[rec.ID] {
			t.Errorf("record id %s handed out twice", rec.ID)
		}
		ids[rec.ID] = true
		s.d.copied(rec.ID, false, "archive")
	}
	var objects, secrets []string
	err := bucket.target.List(context.Background(), "site-a/", func(o target.Object) error {
		if strings.Contains(o.Key, "/keys/secrets/") {
			secrets = append(secrets, o.Key)
		} else {
			objects = append(objects, o.Key)
		}
		return nil
	})
	if err != nil || len(objects) != 4 || len(secrets) < 2 {
		t.Errorf("objects in the bucket: %q and %q, %v; want the 4 recordings and each node's day of erasure secrets, under node-1/ and node-2/", objects, secrets, err)
	}

	fresh := t.TempDir()
	conf := filepath.Join(fresh, "callvaultd.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("data_dir = %q\n[storage]\nnode = 3\n%s", filepath.Join(fresh, "data"), table)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(fresh, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bins(t), "callvaultd"), "reindex", "-config", conf, "-from-target")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "reindexed 4 recordings") {
		t.Fatalf("reindex -from-target: %v\n%s", err, out)
	}
	d := startDaemon(t, daemonOptions{dir: fresh, data: filepath.Join(fresh, "data"), env: env, tables: storageTables(3, "", table)})
	var found []control.Recording
	d.cliJSON(&found, "search", "--user", "alice")
	if len(found) != 4 {
		t.Fatalf("the fresh node finds %d recordings, want both nodes' 4", len(found))
	}
	for _, r := range found {
		if !ids[r.ID] || r.Evicted.IsZero() {
			t.Errorf("found %s (evicted %v), want one of %v, evicted", r.ID, r.Evicted, ids)
		}
		if _, err := d.cliErr("export", r.ID, "-o", filepath.Join(t.TempDir(), "x.mp3")); err != nil {
			t.Errorf("export %s from the target: %v", r.ID, err)
		}
	}
}
