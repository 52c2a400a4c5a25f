package azuretarget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/callvault/callvault/vault/target"
)

// metaSHA256 is the metadata name of an object's hex SHA-256.
const metaSHA256 = "sha256"

// Prepare creates the container when it is missing. Credentials that may
// not create containers (a SAS for one container) are enough when the
// container is there and they may list it.
func (t *Target) Prepare(ctx context.Context) error {
	_, err := t.client.Create(ctx, nil)
	if err == nil || bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil
	}
	if !isRefused(err) {
		return fmt.Errorf("target %s: create container %s at %s: %w", t.name, t.container, t.endpoint, short(err))
	}
	pager := t.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{MaxResults: to.Ptr[int32](1)})
	if _, lerr := pager.NextPage(ctx); lerr == nil {
		return nil
	}
	return fmt.Errorf("target %s: container %s at %s: the service refused the credentials (check the account name and key, or the SAS token's permissions and expiry): %w",
		t.name, t.container, t.endpoint, short(err))
}

// Open streams the blob; reading it to the end checks it against its
// size and stored SHA-256 (an error wrapping ErrChecksum instead of
// io.EOF when they differ). A connection lost mid-stream is resumed where
// it broke, from the same version of the blob.
func (t *Target) Open(ctx context.Context, key string) (io.ReadCloser, target.Object, error) {
	resp, err := t.blob(key).DownloadStream(ctx, nil)
	if err != nil {
		return nil, target.Object{}, t.fail("open", key, err)
	}
	obj := target.Object{
		Key:      key,
		Size:     deref(resp.ContentLength),
		SHA256:   sha256Of(resp.Metadata),
		Modified: deref(resp.LastModified),
	}
	body := resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 3})
	return &checkedReader{rc: body, h: sha256.New(), obj: obj, target: t.name}, obj, nil
}

// Stat reads the blob's properties; the SHA-256 is the one Put stored.
func (t *Target) Stat(ctx context.Context, key string) (target.Object, error) {
	p, err := t.blob(key).GetProperties(ctx, nil)
	if err != nil {
		return target.Object{}, t.fail("stat", key, err)
	}
	return target.Object{
		Key:      key,
		Size:     deref(p.ContentLength),
		SHA256:   sha256Of(p.Metadata),
		Modified: deref(p.LastModified),
	}, nil
}

// List lists the container's committed blobs under prefix, page by page,
// in the service's lexical order. A container that is not there holds
// nothing.
func (t *Target) List(ctx context.Context, prefix string, fn func(target.Object) error) error {
	pager := t.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:  &prefix,
		Include: container.ListBlobsInclude{Metadata: true},
	})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("target %s: list %s: %w", t.name, prefix, short(err))
		}
		for _, it := range page.Segment.BlobItems {
			obj := target.Object{Key: deref(it.Name), SHA256: sha256Of(it.Metadata)}
			if p := it.Properties; p != nil {
				obj.Size, obj.Modified = deref(p.ContentLength), deref(p.LastModified)
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete deletes the blob with its snapshots; a blob or container that
// is not there is not an error.
func (t *Target) Delete(ctx context.Context, key string) error {
	_, err := t.blob(key).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("target %s: delete %s: %w", t.name, key, short(err))
	}
	return nil
}

// sha256Of finds the SHA-256 in a blob's metadata. Names come back as
// stored from a listing, but capitalised from a blob's headers (Go's
// canonical header names), so they are matched regardless of case.
func sha256Of(meta map[string]*string) string {
	for k, v := range meta {
		if strings.EqualFold(k, metaSHA256) && v != nil {
			return *v
		}
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// checkedReader hashes a blob as it is read and, at its end, compares the
// bytes read with the object's size and SHA-256.
type checkedReader struct {
	rc     io.ReadCloser
	h      hash.Hash
	n      int64
	obj    target.Object
	target string
}

func (r *checkedReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	if err == io.EOF {
		if got := hex.EncodeToString(r.h.Sum(nil)); r.n != r.obj.Size || (r.obj.SHA256 != "" && got != r.obj.SHA256) {
			return n, fmt.Errorf("target %s: read %s: %d bytes hashing to %s, want %d bytes hashing to %s: %w",
				r.target, r.obj.Key, r.n, got, r.obj.Size, r.obj.SHA256, target.ErrChecksum)
		}
	}
	return n, err
}

func (r *checkedReader) Close() error { return r.rc.Close() }
