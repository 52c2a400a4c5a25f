package archive

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callvault/callvault/vault"
	"github.com/callvault/callvault/vault/target/targettest"
)

// TestSecretsFollowRecordings: a recording's day file of erasure secrets
// reaches the target with it; after an erase, a pass puts the day file
// anew (without the erased secret) and clears the pending mark, so a
// fresh node's reindex from the target still reads the other recording
// and not the erased one's old object.
func TestSecretsFollowRecordings(t *testing.T) {
	s := openStore(t)
	ck := &clock{time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	nas := newDir(t, "nas")
	a := New(Options{Store: s, Node: "node-0", KeepLocal: -1, Now: ck.now,
		Targets: []Target{{Target: nas, Kind: "dir", Prefix: "site-a/"}}})
	gone := sealed(t, s, ck.t.Add(-time.Minute), 5000)
	kept := sealed(t, s, ck.t.Add(-time.Minute), 5000)
	ctx := context.Background()
	a.Pass(ctx)
	key := "site-a/node-0/keys/secrets/" + vault.SecretsDayOf(gone)
	before := targettest.Read(t, nas, key)
	if _, v, _ := s.Secrets(vault.SecretsDayOf(gone)); len(before) == 0 || v.Entries != 2 {
		t.Fatalf("day file on the target: %d bytes; local %+v", len(before), v)
	}
	// The erased recording's copy on the target, kept aside as a backup
	// would keep it.
	rec, _ := s.Get(gone.ID)
	backup := targettest.Read(t, nas, copyOn(rec, "nas").Key)
	if err := a.DeleteCopies(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(gone.ID, vault.Tombstone{Reason: "request", Actor: "dpo"}); err != nil {
		t.Fatal(err)
	}
	a.Pass(ctx)
	if days, _ := s.PendingSecrets(); len(days) != 0 {
		t.Errorf("pending day files after a pass: %v", days)
	}
	after := targettest.Read(t, nas, key)
	if len(after) != len(before)-40 {
		t.Errorf("day file on the target: %d bytes after the erase, %d before: want one entry less", len(after), len(before))
	}
	p := filepath.Join(t.TempDir(), "backup")
	if err := os.WriteFile(p, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExportFile(p, io.Discard); !errors.Is(err, vault.ErrErased) {
		t.Errorf("the erased recording's old copy: %v, want ErrErased", err)
	}
	if err := s.Export(kept.ID, io.Discard); err != nil {
		t.Errorf("the other recording: %v", err)
	}
}
