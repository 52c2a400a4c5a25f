package s3target_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/testservers"
	"github.com/callvault/callvault/vault/target"
	"github.com/callvault/callvault/vault/target/s3target"
	"github.com/callvault/callvault/vault/target/targettest"
)

// large is the conformance test's large object: one part and a bit, so
// that it goes up as a multipart upload of two parts.
const large = s3target.PartSize + 1<<20 + 12345

func newTarget(t testing.TB, gw *testservers.VersityGW, bucket string, pathStyle bool) *s3target.Target {
	t.Helper()
	tg, err := s3target.New(target.Config{
		Name: "archive", Kind: target.KindS3, Endpoint: gw.Endpoint, Bucket: bucket,
		PathStyle: pathStyle, Credentials: gw.CredentialsFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestConformance(t *testing.T) {
	gw := testservers.StartVersityGW(t)
	targettest.Run(t, newTarget(t, gw, "recordings", true), "site-a/", targettest.Options{Large: large})
}

// Without PathStyle minio-go chooses, and chooses path style for an
// endpoint that is an IP address.
func TestAutoBucketLookup(t *testing.T) {
	gw := testservers.StartVersityGW(t)
	targettest.Run(t, newTarget(t, gw, "recordings", false), "site-b/", targettest.Options{})
}

func TestPrepareCreatesTheBucket(t *testing.T) {
	gw := testservers.StartVersityGW(t)
	tg := newTarget(t, gw, "fresh-bucket", true)
	if _, err := os.Stat(filepath.Join(gw.Dir, "fresh-bucket")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the bucket is there before Prepare: %v", err)
	}
	if err := tg.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(gw.Dir, "fresh-bucket")); err != nil || !fi.IsDir() {
		t.Fatalf("after Prepare, no bucket directory: %v", err)
	}
}

func TestPrepareWithWrongCredentials(t *testing.T) {
	gw := testservers.StartVersityGW(t)
	cred := filepath.Join(t.TempDir(), "wrong.cred")
	for _, c := range []struct{ name, line, want string }{
		{"unknown key", "nobody:" + gw.SecretKey, "the access key is unknown"},
		{"wrong secret", gw.AccessKey + ":not-the-secret", "the secret does not match"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(cred, []byte(c.line+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			tg, err := s3target.New(target.Config{Name: "archive", Endpoint: gw.Endpoint, Bucket: "recordings", PathStyle: true, Credentials: cred})
			if err != nil {
				t.Fatal(err)
			}
			err = tg.Prepare(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), cred) {
				t.Errorf("Prepare = %v, want an error saying %q and naming %s", err, c.want, cred)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "s3.cred")
	noColon := filepath.Join(dir, "nocolon.cred")
	os.WriteFile(good, []byte("AKIA:secret\n"), 0o600)
	os.WriteFile(noColon, []byte("AKIAsecret\n"), 0o600)
	for _, c := range []struct {
		cfg  target.Config
		want string
	}{
		{target.Config{Endpoint: "http://127.0.0.1:9000", Bucket: "b", Credentials: noColon}, noColon},
		{target.Config{Endpoint: "http://127.0.0.1:9000", Bucket: "b", Credentials: filepath.Join(dir, "missing")}, "missing"},
		{target.Config{Endpoint: "127.0.0.1:9000", Bucket: "b", Credentials: good}, "http"},
		{target.Config{Endpoint: "ftp://h", Bucket: "b", Credentials: good}, "http"},
		{target.Config{Endpoint: "http://h:9000/recordings", Bucket: "b", Credentials: good}, "bucket"},
		{target.Config{Endpoint: "http://h:9000", Credentials: good}, "bucket"},
		{target.Config{Bucket: "b", Credentials: good}, "endpoint"},
	} {
		if _, err := s3target.New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", c.cfg, err, c.want)
		}
	}
	if _, err := s3target.New(target.Config{Endpoint: "https://s3.example.net", Bucket: "b", Credentials: good}); err != nil {
		t.Errorf("New with a good configuration: %v", err)
	}
}

// A wrong checksum on a multipart upload completes no upload: the object
// put before stays.
func TestMultipartWrongChecksumKeepsThePrevious(t *testing.T) {
	gw := testservers.StartVersityGW(t)
	tg := newTarget(t, gw, "recordings", true)
	ctx := context.Background()
	if err := tg.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	key := "site-a/node-1/records/2026/11/28/big.mp3.enc"
	old := []byte("the previous object")
	if _, err := tg.Put(ctx, key, bytes.NewReader(old), int64(len(old)), sum(old)); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, large)
	rand.Read(big)
	_, err := tg.Put(ctx, key, bytes.NewReader(big), int64(len(big)), sum(old))
	if !errors.Is(err, target.ErrChecksum) {
		t.Fatalf("Put with a wrong sum: %v, want ErrChecksum", err)
	}
	st, err := tg.Stat(ctx, key)
	if err != nil || st.Size != int64(len(old)) || st.SHA256 != sum(old) {
		t.Errorf("after the refused Put: %+v, %v; want the previous object", st, err)
	}
}

// Stat and Put tell the SHA-256 from the object's metadata, and a
// multipart object is stored whole.
func TestMultipartObject(t *testing.T) {
	gw := testservers.StartVersityGW(t)
	tg := newTarget(t, gw, "recordings", true)
	ctx := context.Background()
	if err := tg.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 2*s3target.PartSize+7)
	rand.Read(big)
	key := "site-a/big"
	obj, err := tg.Put(ctx, key, bytes.NewReader(big), int64(len(big)), sum(big))
	if err != nil || obj.SHA256 != sum(big) || obj.Size != int64(len(big)) {
		t.Fatalf("Put = %+v, %v", obj, err)
	}
	if st, err := tg.Stat(ctx, key); err != nil || st.SHA256 != sum(big) {
		t.Errorf("Stat = %+v, %v; want sha256 %s", st, err, sum(big))
	}
	stored, err := os.ReadFile(filepath.Join(gw.Dir, "recordings", "site-a", "big"))
	if err != nil || !bytes.Equal(stored, big) {
		t.Errorf("the file versitygw stored: %d bytes (%v), want the %d put", len(stored), err, len(big))
	}
}

// A target that is down fails; once it is back the same target works.
func TestTargetDownAndBack(t *testing.T) {
	gw := testservers.StartVersityGW(t)
	tg := newTarget(t, gw, "recordings", true)
	ctx := context.Background()
	if err := tg.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	data := []byte("a recording")
	gw.Stop()
	if _, err := tg.Put(ctx, "k", bytes.NewReader(data), int64(len(data)), sum(data)); err == nil {
		t.Fatal("Put to a stopped gateway: no error")
	}
	gw.Start()
	if _, err := tg.Put(ctx, "k", bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
		t.Fatalf("Put after the restart: %v", err)
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
