package s3target

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/callvault/callvault/internal/testservers"
	"github.com/callvault/callvault/vault/target"
)

func prepared(t *testing.T) *Target {
	t.Helper()
	gw := testservers.StartVersityGW(t)
	s, err := New(target.Config{Name: "archive", Endpoint: gw.Endpoint, Bucket: "recordings", PathStyle: true, Credentials: gw.CredentialsFile()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// The server answers the checksum Put compares, for a single PUT and for
// a multipart upload: Put does not fall back on reading the object back.
func TestServerAnswersTheChecksum(t *testing.T) {
	s := prepared(t)
	for _, n := range []int{0, 1000, PartSize, PartSize + 1, 2*PartSize + 5} {
		data := random(t, n)
		h := sha256.Sum256(data)
		v := newVerifier(bytes.NewReader(data), int64(n), h[:])
		info, err := s.upload(context.Background(), "obj", v, hex.EncodeToString(h[:]))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		parts := (n + PartSize - 1) / PartSize
		if n <= PartSize {
			parts = 1
		}
		if info.ChecksumSHA256 == "" || info.ChecksumSHA256 != v.serverSum() {
			t.Errorf("%d bytes: the server answered sha256 %q, want %q", n, info.ChecksumSHA256, v.serverSum())
		}
		if got := len(v.parts); n > PartSize && got != parts {
			t.Errorf("%d bytes: hashed %d parts, want %d", n, got, parts)
		}
	}
}

// The server itself refuses a body that does not match the SHA-256 sent
// with it, and Put reads its refusal as ErrChecksum.
func TestServerRefusesAWrongSHA256(t *testing.T) {
	s := prepared(t)
	data := random(t, 5000)
	wrong := sha256.Sum256([]byte("other bytes"))
	_, err := s.client.PutObject(context.Background(), s.bucket, "bad", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		UserMetadata: map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(wrong[:])},
	})
	if !isBadDigest(err) {
		t.Fatalf("PUT with a wrong x-amz-checksum-sha256: %v (code %q), want a refusal Put takes for ErrChecksum", err, code(err))
	}
	if _, err := s.Stat(context.Background(), "bad"); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("after the refused PUT: %v, want ErrNotFound", err)
	}
}

// An answer with another checksum than the bytes sent is ErrChecksum;
// with none, the object is read back.
func TestCheckStored(t *testing.T) {
	s := prepared(t)
	ctx := context.Background()
	data := random(t, 3000)
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	if _, err := s.Put(ctx, "obj", bytes.NewReader(data), int64(len(data)), sum); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(bytes.NewReader(data), int64(len(data)), h[:])
	io.Copy(io.Discard, v)
	other := sha256.Sum256([]byte("x"))
	for _, c := range []struct {
		name string
		info minio.UploadInfo
		sum  string
		ok   bool
	}{
		{"the same", minio.UploadInfo{Size: 3000, ChecksumSHA256: v.serverSum()}, sum, true},
		{"another checksum", minio.UploadInfo{Size: 3000, ChecksumSHA256: base64.StdEncoding.EncodeToString(other[:])}, sum, false},
		{"another size", minio.UploadInfo{Size: 2999, ChecksumSHA256: v.serverSum()}, sum, false},
		{"none, read back the same", minio.UploadInfo{Size: 3000}, sum, true},
		{"none, read back other bytes", minio.UploadInfo{Size: 3000}, hex.EncodeToString(other[:]), false},
	} {
		err := s.checkStored(ctx, "obj", c.info, v, c.sum)
		if c.ok && err != nil || !c.ok && !errors.Is(err, target.ErrChecksum) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestVerifier(t *testing.T) {
	data := random(t, 2*PartSize+3)
	h := sha256.Sum256(data)
	v := newVerifier(bytes.NewReader(data), int64(len(data)), h[:])
	if got, err := io.ReadAll(v); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	p1, p2, p3 := sha256.Sum256(data[:PartSize]), sha256.Sum256(data[PartSize:2*PartSize]), sha256.Sum256(data[2*PartSize:])
	whole := sha256.Sum256(append(append(p1[:], p2[:]...), p3[:]...))
	if want := base64.StdEncoding.EncodeToString(whole[:]) + "-3"; v.serverSum() != want {
		t.Errorf("serverSum = %s, want %s", v.serverSum(), want)
	}

	// The last bytes are withheld when the whole does not hash right.
	bad := newVerifier(bytes.NewReader(data[:100]), 100, h[:])
	got, err := io.ReadAll(bad)
	if !errors.Is(err, target.ErrChecksum) || len(got) == 100 {
		t.Errorf("wrong sum: read %d of 100 bytes, %v; want fewer and ErrChecksum", len(got), err)
	}
	if _, err := io.ReadAll(newVerifier(strings.NewReader(""), 0, h[:])); !errors.Is(err, target.ErrChecksum) {
		t.Errorf("empty object with a wrong sum: %v", err)
	}
	if _, err := io.ReadAll(newVerifier(bytes.NewReader(data[:10]), 20, h[:])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short reader: %v, want ErrUnexpectedEOF", err)
	}
}
