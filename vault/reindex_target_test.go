package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callvault/callvault/vault/target"
)

// TestReindexFromTargets: two nodes sharing a KEK copy to one target; a
// fresh node's reindex from it lists both nodes' recordings, evicted, and
// exports them from their copies.
func TestReindexFromTargets(t *testing.T) {
	creds := t.TempDir()
	kek := hex.EncodeToString(randomBytes(t, 32))
	if err := os.WriteFile(filepath.Join(creds, "callvault.kek"), []byte(kek), 0o600); err != nil {
		t.Fatal(err)
	}
	nas, err := target.NewDir(target.Config{Name: "nas", Path: filepath.Join(t.TempDir(), "nas")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	head, audio := fakeMP3(5000)
	want := map[string][]byte{}
	for node := range 2 {
		s, err := Open(Config{Dir: t.TempDir(), CredentialsDir: creds, Location: testZone, Node: node}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(t, s, Recording{User: "alice", Remote: "+15558201320"}, head, audio)
		f, err := os.Open(s.Path(rec))
		if err != nil {
			t.Fatal(err)
		}
		key := "site-a/node-" + string(rune('0'+node)) + "/" + rec.File
		if _, err := nas.Put(ctx, key, f, rec.Size, rec.SHA256); err != nil {
			t.Fatal(err)
		}
		f.Close()
		day := SecretsDayOf(rec)
		b, _, err := s.Secrets(day)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nas.Put(ctx, "site-a/"+SecretsKey("node-"+string(rune('0'+node)), day), bytes.NewReader(b), int64(len(b)), sha256Hex(b)); err != nil {
			t.Fatal(err)
		}
		want[rec.ID], _ = exportBytes(s, rec.ID)
		s.Close()
	}
	if len(want) != 2 {
		t.Fatalf("the two nodes' ids collide: %v", want)
	}
	// Something else under the prefix is left alone.
	nas.Put(ctx, "site-a/notes.txt", strings.NewReader(""), 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

	fresh := t.TempDir()
	cfg := Config{Dir: fresh, CredentialsDir: creds, Location: testZone, Node: 2}
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rep, err := ReindexFromTargets(cfg, nil, []TargetSource{{Target: nas, Prefix: "site-a/"}})
	if err != nil || rep.Indexed != 2 || len(rep.Failed) != 0 {
		t.Fatalf("reindex from the target: %+v, %v; want both recordings", rep, err)
	}
	s, err = Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetFetch(func(r Recording) (io.ReadCloser, error) {
		c, _ := r.VerifiedCopy()
		rc, _, err := nas.Open(ctx, c.Key)
		return rc, err
	})
	found, err := s.Search(Query{User: "alice"})
	if err != nil || len(found) != 2 {
		t.Fatalf("search after the reindex: %d, %v", len(found), err)
	}
	for _, rec := range found {
		if rec.Evicted.IsZero() || len(rec.Copies) != 1 || rec.Copies[0].Target != "nas" || rec.EvictedKEK != s.KEKID() {
			t.Errorf("%s: evicted %v under KEK %q, copies %+v; want evicted under %s with its nas copy", rec.ID, rec.Evicted, rec.EvictedKEK, rec.Copies, s.KEKID())
		}
		got, err := exportBytes(s, rec.ID)
		if err != nil || string(got) != string(want[rec.ID]) {
			t.Errorf("export %s from the copy: %d bytes, %v", rec.ID, len(got), err)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
