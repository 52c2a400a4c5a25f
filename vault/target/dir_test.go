package target_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callvault/callvault/vault/target"
	"github.com/callvault/callvault/vault/target/targettest"
)

func TestDir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "nas")
	d, err := target.NewDir(target.Config{Name: "nas", Kind: target.KindDir, Path: root})
	if err != nil {
		t.Fatal(err)
	}
	targettest.Run(t, d, "site-a/", targettest.Options{Large: 9 << 20})
	// No temporary file is left beside the objects.
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

func TestDirRefusesKeysOutside(t *testing.T) {
	d, err := target.NewDir(target.Config{Name: "nas", Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../x", "a/../../x", "/abs", "", "a//b"} {
		if _, _, err := d.Open(context.Background(), key); err == nil || errors.Is(err, target.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want a bad key error", key, err)
		}
	}
}

func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	id, secret, err := target.ReadCredentials(write("s3.cred", "AKIA:se:cret\n"))
	if err != nil || id != "AKIA" || secret != "se:cret" {
		t.Errorf("s3: %q %q %v", id, secret, err)
	}
	if _, secret, err := target.ReadCredentials(write("sas", "sv=2024-01-01&se=2027-01-01T00:00:00Z&sig=x\n")); err != nil || !strings.HasPrefix(secret, "sv=") {
		t.Errorf("sas: %q %v", secret, err)
	}
	if _, _, err := target.ReadCredentials(write("empty", "\n")); err == nil {
		t.Error("empty file: no error")
	}
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	if id, _, err := target.ReadCredentials("s3.cred"); err != nil || id != "AKIA" {
		t.Errorf("from $CREDENTIALS_DIRECTORY: %q %v", id, err)
	}
}
