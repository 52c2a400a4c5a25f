// Package s3target is the S3 kind of target.Target: an S3 bucket on
// Amazon or any S3-compatible store (MinIO, Ceph RGW, versitygw, Wasabi),
// reached with minio-go. Objects are written with a SHA-256 the server
// checks as it receives them, multipart above PartSize, and carry their
// hex SHA-256 as user metadata (x-amz-meta-sha256) so that Stat can tell
// it without reading the object.
package s3target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/callvault/callvault/vault/target"
)

// PartSize is the size of a multipart upload's parts: an object larger
// than this goes up in parts, one of at most this size at a time.
const PartSize = 16 << 20

// maxParts is S3's limit on the parts of one upload.
const maxParts = 10000

// retries is how often the client tries a request: few, because the
// archiver retries a failed copy itself, with back-off.
const retries = 3

// Target is an S3 bucket. Its methods are safe for concurrent use.
type Target struct {
	name   string
	bucket string
	region string
	creds  string // the credential file, for error messages
	client *minio.Client
}

var _ target.Target = (*Target)(nil)

// New makes the S3 target of cfg: cfg.Endpoint is an http or https URL
// (with a port where it is not the scheme's), cfg.Bucket the bucket and
// cfg.Credentials the file holding "ACCESS_KEY:SECRET". PathStyle asks for
// endpoint/bucket/key URLs; without it minio-go chooses, virtual-host
// style where the store is known to support it (Amazon) and path style
// elsewhere. New reads the credentials but makes no request.
func New(cfg target.Config) (*Target, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("target %s: kind s3 needs a bucket", cfg.Name)
	}
	host, secure, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", cfg.Name, err)
	}
	id, secret, err := target.ReadCredentials(cfg.Credentials)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", cfg.Name, err)
	}
	if id == "" {
		return nil, fmt.Errorf("target %s: credentials %s: want ACCESS_KEY:SECRET on one line", cfg.Name, target.CredentialsPath(cfg.Credentials))
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:           credentials.NewStaticV4(id, secret, ""),
		Secure:          secure,
		Region:          cfg.Region,
		BucketLookup:    lookup,
		TrailingHeaders: true,
		MaxRetries:      retries,
	})
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", cfg.Name, err)
	}
	return &Target{name: cfg.Name, bucket: cfg.Bucket, region: cfg.Region, creds: target.CredentialsPath(cfg.Credentials), client: client}, nil
}

// parseEndpoint splits an endpoint URL into the host[:port] minio-go
// wants and whether it is https.
func parseEndpoint(endpoint string) (host string, secure bool, err error) {
	if endpoint == "" {
		return "", false, errors.New("kind s3 needs an endpoint")
	}
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return "", false, fmt.Errorf("endpoint %q: want an http:// or https:// URL", endpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	switch {
	case u.Host == "":
		return "", false, fmt.Errorf("endpoint %q: no host", endpoint)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil:
		return "", false, fmt.Errorf("endpoint %q: want scheme, host and port only (the bucket is configured apart)", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// Name is the target's name.
func (s *Target) Name() string { return s.name }

// Prepare checks that the bucket exists and creates it when it does not.
// A refusal of the credentials, or of the bucket's creation, is said
// plainly, with the credential file it came from.
func (s *Target) Prepare(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.fail("bucket "+s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region})
	if code(err) == "BucketAlreadyOwnedByYou" {
		return nil // made meanwhile, by another node
	}
	if code(err) == minio.AccessDenied {
		return fmt.Errorf("target %s: bucket %s does not exist and the credentials in %s may not create it: %w", s.name, s.bucket, s.creds, err)
	}
	if err != nil {
		return s.fail("create bucket "+s.bucket, err)
	}
	return nil
}

// refused are the S3 error codes that mean the credentials were not
// accepted.
var refused = map[string]string{
	"InvalidAccessKeyId":    "the access key is unknown",
	"XAdminUserNotFound":    "the access key is unknown", // versitygw's word for it
	"SignatureDoesNotMatch": "the secret does not match the access key",
	minio.AccessDenied:      "access denied",
}

// fail wraps err from doing what, naming the credential file when the
// server refused them.
func (s *Target) fail(what string, err error) error {
	if why, ok := refused[code(err)]; ok {
		return fmt.Errorf("target %s: %s: %s (credentials %s): %w", s.name, what, why, s.creds, err)
	}
	var r minio.ErrorResponse
	if errors.As(err, &r) && r.StatusCode == http.StatusForbidden {
		return fmt.Errorf("target %s: %s: refused (%s; credentials %s): %w", s.name, what, r.Code, s.creds, err)
	}
	return fmt.Errorf("target %s: %s: %w", s.name, what, err)
}

// code is the S3 error code in err, "" when it holds none.
func code(err error) string {
	var r minio.ErrorResponse
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

// notFound reports whether err says there is no such object (minio-go
// names a 404 without a body, as HEAD has, NoSuchKey too).
func notFound(err error) bool { return code(err) == minio.NoSuchKey }
