package s3target

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"

	"github.com/minio/minio-go/v7"

	"github.com/callvault/callvault/vault/target"
)

// metaSHA256 is the user metadata (x-amz-meta-sha256) holding an
// object's hex SHA-256.
const metaSHA256 = "sha256"

// Put uploads the object, checked three ways: the bytes read from r must
// hash to sum before the upload is let finish (the last bytes are
// withheld otherwise, so the server keeps no object); the server checks
// what it receives against a SHA-256 (x-amz-checksum-sha256: sum itself
// for a single PUT, each part's for a multipart upload); and the checksum
// the server answers with must be ours (sum, or for a multipart upload
// the SHA-256 of the parts' SHA-256s, "-N" after it). An object stored
// with another checksum is deleted. Objects up to PartSize go up in one
// PUT, larger ones in parts of PartSize. The object returned has no
// Modified time: S3 does not answer a PUT with it (Stat tells it).
func (s *Target) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (target.Object, error) {
	raw, err := hex.DecodeString(sum)
	if err != nil || len(raw) != sha256.Size {
		return target.Object{}, fmt.Errorf("target %s: put %s: %q is not a hex SHA-256", s.name, key, sum)
	}
	if size < 0 {
		return target.Object{}, fmt.Errorf("target %s: put %s: negative size %d", s.name, key, size)
	}
	if size > PartSize*maxParts {
		return target.Object{}, fmt.Errorf("target %s: put %s: %d bytes is more than %d parts of %d", s.name, key, size, maxParts, PartSize)
	}
	v := newVerifier(r, size, raw)
	info, err := s.upload(ctx, key, v, sum)
	if err != nil {
		return target.Object{}, err
	}
	if err := s.checkStored(ctx, key, info, v, sum); err != nil {
		s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, key, minio.RemoveObjectOptions{})
		return target.Object{}, err
	}
	return target.Object{Key: key, Size: info.Size, SHA256: sum}, nil
}

// upload sends what v reads: in one PUT carrying sum as the
// x-amz-checksum-sha256 the server checks the body against, or above
// PartSize in parts, each with its own SHA-256 the server checks.
func (s *Target) upload(ctx context.Context, key string, v *verifier, sum string) (minio.UploadInfo, error) {
	opts := minio.PutObjectOptions{
		UserMetadata: map[string]string{metaSHA256: sum},
		ContentType:  "application/octet-stream",
		PartSize:     PartSize,
	}
	if v.single {
		opts.UserMetadata["x-amz-checksum-sha256"] = base64.StdEncoding.EncodeToString(v.want)
	} else {
		opts.Checksum = minio.ChecksumSHA256
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, v, v.size, opts)
	switch {
	case v.mismatch != nil:
		return info, fmt.Errorf("target %s: put %s: %w", s.name, key, v.mismatch)
	case isBadDigest(err):
		return info, fmt.Errorf("target %s: put %s: the server received other bytes: %v: %w", s.name, key, err, target.ErrChecksum)
	case err != nil:
		return info, s.fail("put "+key, err)
	}
	return info, nil
}

// checkStored compares the checksum the server answered with to the one
// of the bytes sent. A server that answers none (an S3-compatible store
// without checksums) is checked by reading the object back.
func (s *Target) checkStored(ctx context.Context, key string, info minio.UploadInfo, v *verifier, sum string) error {
	if info.Size != v.size {
		return fmt.Errorf("target %s: put %s: stored %d bytes, sent %d: %w", s.name, key, info.Size, v.size, target.ErrChecksum)
	}
	want := v.serverSum()
	if info.ChecksumSHA256 == "" {
		return s.readBack(ctx, key, sum)
	}
	if info.ChecksumSHA256 != want {
		return fmt.Errorf("target %s: put %s: the server's SHA-256 is %s, want %s: %w", s.name, key, info.ChecksumSHA256, want, target.ErrChecksum)
	}
	return nil
}

// readBack reads the object whole and compares its SHA-256 with sum.
func (s *Target) readBack(ctx context.Context, key, sum string) error {
	rc, _, err := s.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("target %s: read back %s: %w", s.name, key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("target %s: put %s: read back bytes hashing to %s, want %s: %w", s.name, key, got, sum, target.ErrChecksum)
	}
	return nil
}

// isBadDigest reports whether the server refused a body that did not
// match its checksum.
func isBadDigest(err error) bool {
	switch code(err) {
	case "BadDigest", "XAmzContentChecksumMismatch", "XAmzContentSHA256Mismatch", "InvalidDigest":
		return true
	}
	return false
}

// verifier reads the object to upload, hashing it whole and by part. The
// read that would hand over its last bytes fails instead when the whole
// does not hash to want, so that no upload of other bytes completes.
type verifier struct {
	r      io.Reader
	size   int64
	want   []byte
	n      int64
	whole  hash.Hash
	part   hash.Hash
	parts  [][]byte // SHA-256 of each finished part
	single bool
	done   bool // the whole was checked

	// mismatch is set when the bytes did not hash to want.
	mismatch error
}

func newVerifier(r io.Reader, size int64, want []byte) *verifier {
	return &verifier{r: r, size: size, want: want, whole: sha256.New(), part: sha256.New(), single: size <= PartSize}
}

// Read reads from r, at most up to size bytes in all.
func (v *verifier) Read(p []byte) (int, error) {
	if v.mismatch != nil {
		return 0, v.mismatch
	}
	if v.n == v.size {
		if !v.done { // an empty object
			if err := v.finish(nil); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if rest := v.size - v.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := v.r.Read(p)
	if n == 0 {
		if errors.Is(err, io.EOF) {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, err
	}
	if v.n+int64(n) == v.size {
		if err := v.finish(p[:n]); err != nil {
			return 0, err
		}
		return n, io.EOF
	}
	v.add(p[:n])
	return n, nil
}

// add hashes b, closing a part at each PartSize boundary.
func (v *verifier) add(b []byte) {
	for len(b) > 0 {
		room := PartSize - v.n%PartSize
		chunk := b[:min(int64(len(b)), room)]
		v.whole.Write(chunk)
		v.part.Write(chunk)
		v.n += int64(len(chunk))
		b = b[len(chunk):]
		if v.n%PartSize == 0 || v.n == v.size {
			v.parts = append(v.parts, v.part.Sum(nil))
			v.part.Reset()
		}
	}
}

// finish hashes the last bytes and checks the whole against want.
func (v *verifier) finish(last []byte) error {
	v.add(last)
	v.done = true
	if got := v.whole.Sum(nil); !bytes.Equal(got, v.want) {
		v.mismatch = fmt.Errorf("read %d bytes hashing to %x, want %x: %w", v.n, got, v.want, target.ErrChecksum)
		return v.mismatch
	}
	return nil
}

// serverSum is the x-amz-checksum-sha256 an S3 server gives the object:
// the base64 SHA-256 of the bytes for a single PUT; for a multipart
// upload the base64 SHA-256 of the parts' SHA-256s, then "-" and the
// number of parts.
func (v *verifier) serverSum() string {
	if v.single {
		return base64.StdEncoding.EncodeToString(v.want)
	}
	h := sha256.New()
	for _, p := range v.parts {
		h.Write(p)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(v.parts))
}
