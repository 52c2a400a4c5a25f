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

// An edit replaces a user's fields, keeps its place in the licence's
// order and refuses another user's extension.
func TestDirectoryUpdate(t *testing.T) {
	d, err := OpenDirectory(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []user{{Username: "a", Extensions: []string{"2501"}}, {Username: "b", Extensions: []string{"2502"}}} {
		if err := d.add(u); err != nil {
			t.Fatal(err)
		}
	}
	added := d.list()[0].Added
	if err := d.update(user{Username: "a", FullName: "Anna", Extensions: []string{"2503"}, Mode: "live-keep", Direction: "out"}); err != nil {
		t.Fatal(err)
	}
	u, ok := d.byExtension("2503")
	if !ok || u.FullName != "Anna" || u.Mode != "live-keep" || u.Direction != "out" || !u.Added.Equal(added) {
		t.Fatalf("after the edit: %+v (found %t)", u, ok)
	}
	if _, ok := d.byExtension("2501"); ok {
		t.Error("the old extension still finds the user")
	}
	if err := d.update(user{Username: "a", Extensions: []string{"2502"}}); !errors.Is(err, control.ErrExists) {
		t.Errorf("taking b's extension: %v", err)
	}
	if err := d.update(user{Username: "zz", Extensions: []string{"2600"}}); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("editing an unknown user: %v", err)
	}
	again, err := OpenDirectory(d.path)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := again.byExtension("2503"); !ok || u.FullName != "Anna" {
		t.Errorf("the edit is not on disk: %+v", u)
	}
}
