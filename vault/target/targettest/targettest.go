// Package targettest is the conformance test every target.Target passes:
// the dir target here, S3 against versitygw and Azure Blob against
// Azurite in their own packages.
package targettest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/callvault/callvault/vault/target"
)

// Options tune Run for a target.
type Options struct {
	// Large is the size of the large object Run puts (enough for a
	// multipart upload where the target makes one); 0 leaves it out.
	Large int
}

// Run checks tg against the Target contract, under keys that start with
// prefix (so that runs can share a bucket).
func Run(t *testing.T, tg target.Target, prefix string, o Options) {
	ctx := context.Background()
	if err := tg.Prepare(ctx); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if err := tg.Prepare(ctx); err != nil {
		t.Fatalf("Prepare again: %v", err)
	}
	key := prefix + "node-1/records/2026/11/28/2026100000001_20261128101500_alice_2001_+15558201320_OUT.mp3.enc"
	data := random(t, 70_000)

	t.Run("put, stat, open", func(t *testing.T) {
		obj := put(t, tg, key, data)
		if obj.Key != key || obj.Size != int64(len(data)) || obj.SHA256 != sum(data) {
			t.Errorf("Put = %+v, want key %s, %d bytes, sha256 %s", obj, key, len(data), sum(data))
		}
		st, err := tg.Stat(ctx, key)
		if err != nil || st.Size != int64(len(data)) || (st.SHA256 != "" && st.SHA256 != sum(data)) {
			t.Errorf("Stat = %+v, %v", st, err)
		}
		if got := Read(t, tg, key); !bytes.Equal(got, data) {
			t.Errorf("Open gave %d bytes, not the %d put", len(got), len(data))
		}
	})

	t.Run("a wrong checksum leaves no object", func(t *testing.T) {
		bad := prefix + "bad/checksum.mp3.enc"
		_, err := tg.Put(ctx, bad, bytes.NewReader(data), int64(len(data)), sum([]byte("other bytes")))
		if !errors.Is(err, target.ErrChecksum) {
			t.Errorf("Put with a wrong sum: %v, want ErrChecksum", err)
		}
		if _, err := tg.Stat(ctx, bad); !errors.Is(err, target.ErrNotFound) {
			t.Errorf("Stat after the refused Put: %v, want ErrNotFound", err)
		}
	})

	t.Run("replace", func(t *testing.T) {
		other := random(t, 1000)
		put(t, tg, key, other)
		if got := Read(t, tg, key); !bytes.Equal(got, other) {
			t.Errorf("after a second Put: %d bytes, want the second object's %d", len(got), len(other))
		}
		put(t, tg, key, data)
	})

	t.Run("list", func(t *testing.T) {
		keys := []string{prefix + "list/a/2", prefix + "list/a/10", prefix + "list/b/1", prefix + "listless"}
		for _, k := range keys {
			put(t, tg, k, []byte(k))
		}
		var got []string
		err := tg.List(ctx, prefix+"list/", func(o target.Object) error {
			got = append(got, o.Key)
			if o.Size != int64(len(o.Key)) {
				t.Errorf("List: %s has %d bytes, want %d", o.Key, o.Size, len(o.Key))
			}
			return nil
		})
		want := []string{prefix + "list/a/10", prefix + "list/a/2", prefix + "list/b/1"}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List = %q, %v; want %q", got, err, want)
		}
		stop := errors.New("stop")
		n := 0
		if err := tg.List(ctx, prefix+"list/", func(target.Object) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Errorf("List stopped by fn: %v after %d calls, want fn's error after 1", err, n)
		}
	})

	t.Run("delete", func(t *testing.T) {
		k := prefix + "delete/me"
		put(t, tg, k, []byte("x"))
		for range 2 {
			if err := tg.Delete(ctx, k); err != nil {
				t.Errorf("Delete: %v", err)
			}
		}
		if _, _, err := tg.Open(ctx, k); !errors.Is(err, target.ErrNotFound) {
			t.Errorf("Open after Delete: %v, want ErrNotFound", err)
		}
	})

	if o.Large > 0 {
		t.Run("large", func(t *testing.T) {
			big := random(t, o.Large)
			k := prefix + "large/object"
			if obj := put(t, tg, k, big); obj.Size != int64(len(big)) {
				t.Errorf("Put = %+v, want %d bytes", obj, len(big))
			}
			if got := Read(t, tg, k); !bytes.Equal(got, big) {
				t.Errorf("Open gave %d bytes, not the %d put", len(got), len(big))
			}
		})
	}
}

func put(t *testing.T, tg target.Target, key string, data []byte) target.Object {
	t.Helper()
	obj, err := tg.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), sum(data))
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	return obj
}

// Read reads the object under key whole, failing t when it cannot.
func Read(t testing.TB, tg target.Target, key string) []byte {
	t.Helper()
	rc, _, err := tg.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
