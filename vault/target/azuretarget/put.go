package azuretarget

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/callvault/callvault/vault/target"
)

// Put stores size bytes from r as the block blob key, with sum as its
// "sha256" metadata. The blob appears whole, or not at all: the bytes
// read must hash to sum before anything is made visible.
func (t *Target) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (target.Object, error) {
	if size < 0 {
		return target.Object{}, fmt.Errorf("target %s: put %s: negative size %d", t.name, key, size)
	}
	if size <= int64(t.blockSize) {
		return t.putOne(ctx, key, r, size, sum)
	}
	return t.putBlocks(ctx, key, r, size, sum)
}

// putOne reads the whole object, checks it and sends it in one Put Blob
// request with its MD5; the MD5 the service computed from what it
// received must be the same.
func (t *Target) putOne(ctx context.Context, key string, r io.Reader, size int64, sum string) (target.Object, error) {
	buf := make([]byte, size+1) // one more byte tells a reader that runs on
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return target.Object{}, fmt.Errorf("target %s: put %s: %w", t.name, key, err)
	}
	body := buf[:n]
	h := sha256.Sum256(body)
	if err := t.checkSent(key, int64(n), h[:], size, sum); err != nil {
		return target.Object{}, err
	}
	md := md5.Sum(body)
	resp, err := t.blob(key).Upload(ctx, streaming.NopCloser(bytes.NewReader(body)), &blockblob.UploadOptions{
		Metadata:                map[string]*string{metaSHA256: &sum},
		HTTPHeaders:             headers(md[:]),
		TransactionalValidation: blob.TransferValidationTypeMD5(md[:]),
	})
	if err != nil {
		return target.Object{}, t.putFailed(key, err)
	}
	if resp.ContentMD5 != nil && !bytes.Equal(resp.ContentMD5, md[:]) {
		return target.Object{}, t.discard(ctx, key, fmt.Errorf("stored MD5 %x, sent %x", resp.ContentMD5, md))
	}
	return target.Object{Key: key, Size: size, SHA256: sum, Modified: deref(resp.LastModified)}, nil
}

// putBlocks stages the object block by block, each with its MD5, and
// commits the block list once everything read hashed to sum. The
// committed list must then be the one staged.
func (t *Target) putBlocks(ctx context.Context, key string, r io.Reader, size int64, sum string) (target.Object, error) {
	bb := t.blob(key)
	st := staging{nonce: nonce(), sha: sha256.New()}
	buf := make([]byte, t.blockSize)
	lr := io.LimitReader(r, size+1) // one more byte tells a reader that runs on
	for {
		n, err := io.ReadFull(lr, buf)
		if n > 0 {
			block := buf[:n]
			md := md5.Sum(block)
			id := st.add(block)
			if err := stage(ctx, bb, id, block, md[:]); err != nil {
				return target.Object{}, t.putFailed(key, err)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return target.Object{}, fmt.Errorf("target %s: put %s: %w", t.name, key, err)
		}
	}
	// On a mismatch nothing is committed: staged blocks are never seen,
	// and the service drops them within a week.
	if err := t.checkSent(key, st.n, st.sha.Sum(nil), size, sum); err != nil {
		return target.Object{}, err
	}
	// No whole-blob Content-MD5: it would cost a second MD5 pass over
	// every byte (MD5 runs at 40 % of SHA-256's speed here) to store
	// what the sha256 metadata already says.
	resp, err := bb.CommitBlockList(ctx, st.ids, &blockblob.CommitBlockListOptions{
		Metadata:    map[string]*string{metaSHA256: &sum},
		HTTPHeaders: headers(nil),
	})
	if err != nil {
		return target.Object{}, t.putFailed(key, err)
	}
	if err := t.checkCommitted(ctx, key, bb, resp.ETag, &st); err != nil {
		return target.Object{}, err
	}
	return target.Object{Key: key, Size: size, SHA256: sum, Modified: deref(resp.LastModified)}, nil
}

// putFailed wraps an error from the service during a Put. Unlike
// t.fail it never says ErrNotFound: a missing container is a failed Put
// (its message names ContainerNotFound), not a missing object.
func (t *Target) putFailed(key string, err error) error {
	return fmt.Errorf("target %s: put %s: %w", t.name, key, short(err))
}

// stage sends one block with md as its Content-MD5, which the service
// checks against the bytes it received (Md5Mismatch when they differ).
func stage(ctx context.Context, bb *blockblob.Client, id string, block, md []byte) error {
	_, err := bb.StageBlock(ctx, id, streaming.NopCloser(bytes.NewReader(block)), &blockblob.StageBlockOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(md),
	})
	return err
}

// staging is what putBlocks has sent: the block ids and sizes in order,
// the byte count and the running hashes.
type staging struct {
	nonce string
	ids   []string
	sizes []int64
	n     int64
	sha   hash.Hash
}

// add hashes block and names it. Ids are unique to this Put, so that
// two Puts to one key never commit each other's blocks, and all of one
// length, as Azure wants.
func (s *staging) add(block []byte) string {
	s.sha.Write(block)
	s.n += int64(len(block))
	id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s-%06d", s.nonce, len(s.ids)))
	s.ids = append(s.ids, id)
	s.sizes = append(s.sizes, int64(len(block)))
	return id
}

// checkCommitted compares the blob's committed block list, at the
// version the commit made, with what was staged. A blob that differs is
// deleted.
func (t *Target) checkCommitted(ctx context.Context, key string, bb *blockblob.Client, etag *azcore.ETag, st *staging) error {
	bl, err := bb.GetBlockList(ctx, blockblob.BlockListTypeCommitted, &blockblob.GetBlockListOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: etag}},
	})
	if err != nil {
		// The commit took the checked blocks: the blob is whole, and a
		// later Put replaces it.
		return t.fail("check", key, err)
	}
	got := bl.CommittedBlocks
	same := len(got) == len(st.ids) && deref(bl.BlobContentLength) == st.n
	for i := 0; same && i < len(got); i++ {
		same = deref(got[i].Name) == st.ids[i] && deref(got[i].Size) == st.sizes[i]
	}
	if !same {
		return t.discard(ctx, key, fmt.Errorf("committed %d blocks, %d bytes; staged %d blocks, %d bytes",
			len(got), deref(bl.BlobContentLength), len(st.ids), st.n))
	}
	return nil
}

// checkSent compares what was read with what the caller said it is.
func (t *Target) checkSent(key string, n int64, sha []byte, size int64, sum string) error {
	if got := hex.EncodeToString(sha); n != size || got != sum {
		return fmt.Errorf("target %s: put %s: read %d bytes hashing to %s, want %d bytes hashing to %s: %w",
			t.name, key, n, got, size, sum, target.ErrChecksum)
	}
	return nil
}

// discard deletes a blob the service stored otherwise than sent, even
// when ctx has ended, and reports why with ErrChecksum.
func (t *Target) discard(ctx context.Context, key string, why error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := t.Delete(ctx, key); err != nil {
		return fmt.Errorf("target %s: put %s: %w: %w (and %w)", t.name, key, why, target.ErrChecksum, err)
	}
	return fmt.Errorf("target %s: put %s: %w: %w", t.name, key, why, target.ErrChecksum)
}

// headers are the blob's stored headers, with its whole MD5 when known,
// for any tool that checks a download.
func headers(md []byte) *blob.HTTPHeaders {
	return &blob.HTTPHeaders{BlobContentType: to.Ptr("application/octet-stream"), BlobContentMD5: md}
}

// nonce is 16 random hex digits.
func nonce() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
