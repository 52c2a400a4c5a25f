package s3target

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/callvault/callvault/vault/target"
)

// Open streams the object. The GET is made here, not at the first Read,
// so that a missing object is ErrNotFound from Open.
func (s *Target) Open(ctx context.Context, key string) (io.ReadCloser, target.Object, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, target.Object{}, s.objectErr("open", key, err)
	}
	info, err := obj.Stat() // sends the GET and reads its headers
	if err != nil {
		obj.Close()
		return nil, target.Object{}, s.objectErr("open", key, err)
	}
	return obj, s.object(info), nil
}

// Stat asks for the object's headers (HEAD); its SHA-256 is the one Put
// stored in its metadata, "" for an object some other program wrote.
func (s *Target) Stat(ctx context.Context, key string) (target.Object, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return target.Object{}, s.objectErr("stat", key, err)
	}
	return s.object(info), nil
}

// List lists the objects under prefix, in the lexical key order S3 lists
// in. S3's listing carries no user metadata, so the objects have no
// SHA-256 (Stat tells it).
func (s *Target) List(ctx context.Context, prefix string, fn func(target.Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn stops it
	for info := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			return s.fail("list "+prefix, info.Err)
		}
		if err := fn(s.object(info)); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Delete removes the object; S3 does not mind one that is not there.
func (s *Target) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return s.fail("delete "+key, err)
	}
	return nil
}

// object is what info tells of an object.
func (s *Target) object(info minio.ObjectInfo) target.Object {
	o := target.Object{Key: info.Key, Size: info.Size, Modified: info.LastModified}
	for k, v := range info.UserMetadata {
		if strings.EqualFold(strings.TrimPrefix(strings.ToLower(k), "x-amz-meta-"), metaSHA256) {
			o.SHA256 = v
		}
	}
	return o
}

// objectErr wraps an error about key, as ErrNotFound when there is no
// such object.
func (s *Target) objectErr(what, key string, err error) error {
	if notFound(err) {
		return fmt.Errorf("target %s: %s: %w", s.name, key, target.ErrNotFound)
	}
	return s.fail(what+" "+key, err)
}
