package recorder

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/callvault/callvault/daemon/control"

	"github.com/callvault/callvault/internal/vocab"
)

func TestDirectoryAddRemovePersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	d, err := OpenDirectory(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.add(user{Username: "john_doe", FullName: "John Doe", Extensions: []string{"2501", "+3902501"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.add(user{Username: "amy", Extensions: []string{"2600"}, Mode: vocab.ModeLiveKeep}); err != nil {
		t.Fatal(err)
	}
	if u, ok := d.byExtension("+3902501"); !ok || u.Username != "john_doe" || u.Mode != vocab.ModeAlways {
		t.Fatalf("byExtension(+3902501) = %+v, %v; want john_doe, mode always", u, ok)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("users file: %v, mode %v; want 0640", err, info.Mode())
	}

	again, err := OpenDirectory(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.list(); len(got) != 2 || got[0].Username != "amy" || got[1].Username != "john_doe" {
		t.Fatalf("reopened list = %+v, want amy and john_doe", got)
	}
	if err := again.remove("amy"); err != nil {
		t.Fatal(err)
	}
	if _, ok := again.byExtension("2600"); ok {
		t.Fatal("extension of a removed user still matches")
	}
	if err := again.remove("amy"); !errors.Is(err, control.ErrNotFound) {
		t.Fatalf("second remove: %v, want ErrNotFound", err)
	}
}

func TestDirectoryRejects(t *testing.T) {
	d, err := OpenDirectory(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.add(user{Username: "a", Extensions: []string{"100"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		u    user
		want error
	}{
		{user{Username: "a", Extensions: []string{"101"}}, control.ErrExists},
		{user{Username: "b", Extensions: []string{"100"}}, control.ErrExists},
		{user{Username: "b c", Extensions: []string{"102"}}, control.ErrInvalid},
		{user{Username: "b", Extensions: nil}, control.ErrInvalid},
		{user{Username: "b", Extensions: []string{"12a"}}, control.ErrInvalid},
		{user{Username: "b", Extensions: []string{"103"}, Mode: "sometimes"}, control.ErrInvalid},
	} {
		if err := d.add(c.u); !errors.Is(err, c.want) {
			t.Errorf("add(%+v) = %v, want %v", c.u, err, c.want)
		}
	}
}

func TestDirectoryCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	os.WriteFile(path, []byte("{not json"), 0o640)
	if _, err := OpenDirectory(path); err == nil {
		t.Fatal("corrupt users file opened without error")
	}
}
