// Package target copies sealed recordings off the box: to a directory (a
// mounted NAS share), an S3 bucket or an Azure Blob container. A target
// stores objects by key and knows nothing of recordings: the archiver
// (daemon) names the keys, keeps the copy state in the index and decides
// when to copy, verify, fetch and delete.
//
// Objects are the sealed files byte for byte, still encrypted: the key
// never leaves the box. Every Put is checked against the SHA-256 of the
// bytes sent, by the target where it can (S3's x-amz-checksum-sha256), or
// by reading back what was stored.
//
// The kinds live in their own packages (Dir here, s3target, azuretarget),
// so that a program takes only the clients it uses.
package target

import (
	"context"
	"errors"
	"io"
	"time"
)

// Object is what a target holds under a key.
type Object struct {
	Key  string
	Size int64
	// SHA256 is the hex SHA-256 of the object's bytes as the target
	// stored or checked it; "" when the target cannot tell.
	SHA256   string
	Modified time.Time
}

// Target is a place sealed recordings are copied to. Keys are
// slash-separated paths without a leading slash; the caller includes any
// prefix. Methods are safe for concurrent use.
type Target interface {
	// Name is the target's name in the configuration, as status, the
	// index and the logs show it.
	Name() string
	// Prepare makes the target ready: it creates the bucket, container
	// or directory when missing and the credentials allow it. Put may be
	// called only after a Prepare that succeeded; a failed Prepare is
	// tried again later.
	Prepare(ctx context.Context) error
	// Put stores size bytes read from r under key, replacing any object
	// there, and returns the object as the target now holds it. sum is
	// the hex SHA-256 of the bytes: a target that received or stored
	// other bytes fails with an error wrapping ErrChecksum. A Put that
	// fails leaves no object, or the previous one, under key: never a
	// part.
	Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (Object, error)
	// Open streams the object under key; the error wraps ErrNotFound when
	// there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// Stat describes the object under key (ErrNotFound when none).
	Stat(ctx context.Context, key string) (Object, error)
	// List calls fn with each object whose key starts with prefix, in
	// lexical key order; an error from fn stops it and is returned.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Delete removes the object under key; removing what is not there is
	// not an error.
	Delete(ctx context.Context, key string) error
}

// Errors a Target wraps.
var (
	ErrNotFound = errors.New("no such object")
	ErrChecksum = errors.New("checksum mismatch")
)

// Kinds of target, as the configuration's kind names them.
const (
	KindDir   = "dir"
	KindS3    = "s3"
	KindAzure = "azure"
)

// Config is one [[storage.target]] table.
type Config struct {
	Name string
	Kind string // KindDir, KindS3 or KindAzure
	// Path is a dir target's directory (a mounted NAS share).
	Path string
	// Endpoint is the S3 endpoint (any S3-compatible store) or the Azure
	// blob service URL, e.g. https://s3.example.net or
	// https://account.blob.core.windows.net.
	Endpoint string
	// Region is the S3 region ("" lets the client find it).
	Region string
	// Bucket is the S3 bucket or the Azure container.
	Bucket string
	// PathStyle asks for path-style S3 URLs (endpoint/bucket/key), which
	// most S3-compatible stores want, instead of virtual-host style.
	PathStyle bool
	// Prefix starts every key the daemon writes (the daemon adds it, not
	// the target).
	Prefix string
	// Credentials is the credential file: "ACCESS_KEY:SECRET" (s3) or
	// "ACCOUNT:KEY" or a SAS token (azure) on one line. A bare name is
	// looked up in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=).
	Credentials string
}
