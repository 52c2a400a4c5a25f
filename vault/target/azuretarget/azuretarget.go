// Package azuretarget is the Azure Blob kind of target.Target: each object
// is a block blob in one container, its hex SHA-256 kept as the blob's
// metadata "sha256".
//
// Put reads the object in blocks of 8 MiB, hashing as it reads. An object
// of one block goes up in one Put Blob request; a larger one is staged
// block by block and becomes visible only when its block list is
// committed. Azure checks every request's body against the MD5 sent with
// it (Content-MD5), so the service refuses a block damaged on the way, and
// the SHA-256 of everything read is compared with the caller's before the
// object is made visible: a wrong sum commits nothing. After the commit,
// what the service holds is compared with what was sent (the MD5 it
// computed for a Put Blob, the committed block list for a staged one);
// a difference deletes the blob. Open checks the stream against the
// stored SHA-256 as the caller reads it.
//
// Put does not read the blob back, as the dir target does: the service
// has checked every byte it received against an MD5 computed here from
// the same bytes that hashed to sum, so a read-back would check them a
// second time at the price of downloading every recording again (the
// uplink's time, and egress that Azure bills). What can still go wrong
// later, at rest, Open's check finds.
package azuretarget

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/callvault/callvault/vault/target"
)

// BlockSize is the size of the blocks Put stages; an object of at most
// this size goes up in one request.
const BlockSize = 8 << 20

// Target is an Azure Blob container.
type Target struct {
	name      string
	endpoint  string // the service URL without any SAS, for messages
	container string
	client    *container.Client
	blockSize int
}

var _ target.Target = (*Target)(nil)

// New makes the Azure target of cfg: cfg.Endpoint is the blob service URL
// (https://ACCOUNT.blob.core.windows.net by default for a shared key, or
// http://127.0.0.1:10000/devstoreaccount1 for Azurite), cfg.Bucket the
// container. The credential file holds "ACCOUNT:KEY" (a shared key) or a
// SAS token, which is appended to the service URL.
func New(cfg target.Config) (*Target, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("target %s: kind azure needs a bucket (the container)", cfg.Name)
	}
	if !containerName.MatchString(cfg.Bucket) || len(cfg.Bucket) < 3 || len(cfg.Bucket) > 63 {
		return nil, fmt.Errorf("target %s: container %q: Azure wants 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit", cfg.Name, cfg.Bucket)
	}
	account, secret, err := target.ReadCredentials(cfg.Credentials)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", cfg.Name, err)
	}
	if strings.ContainsAny(account, "=&") {
		// A SAS as the portal writes it ("sp=r&st=2026-11-28T10:00:00Z&…"),
		// cut at a time's colon: no account name has "=" or "&".
		account, secret = "", account+":"+secret
	}
	endpoint := cfg.Endpoint
	if endpoint == "" && account != "" {
		endpoint = "https://" + account + ".blob.core.windows.net/"
	}
	if err := checkEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("target %s: %w", cfg.Name, err)
	}
	svc, err := serviceClient(endpoint, account, secret)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", cfg.Name, err)
	}
	return &Target{
		name:      cfg.Name,
		endpoint:  endpoint,
		container: cfg.Bucket,
		client:    svc.NewContainerClient(cfg.Bucket),
		blockSize: BlockSize,
	}, nil
}

// containerName is what Azure accepts as a container's name, but for its
// length.
var containerName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// checkEndpoint refuses what cannot be a blob service URL, and a URL that
// carries a query: a SAS belongs in the credential file.
func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("kind azure needs an endpoint (the blob service URL) with a SAS token")
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("endpoint %q: want http(s)://HOST[/ACCOUNT]", endpoint)
	}
	if u.RawQuery != "" {
		return errors.New("endpoint: put the SAS token in the credentials file, not in the URL")
	}
	return nil
}

// serviceClient authenticates with the account's shared key, or with a
// SAS token when the credential file held one (no account).
func serviceClient(endpoint, account, secret string) (*service.Client, error) {
	opts := &service.ClientOptions{ClientOptions: azcore.ClientOptions{
		// The archiver backs off and retries on its own: a few quick
		// tries here ride out a blip without holding a copy for long.
		Retry:     policy.RetryOptions{MaxRetries: 2, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 8 * time.Second},
		Telemetry: policy.TelemetryOptions{ApplicationID: "callvault"},
	}}
	if account == "" {
		sas := strings.TrimPrefix(secret, "?")
		return service.NewClientWithNoCredential(strings.TrimSuffix(endpoint, "/")+"/?"+sas, opts)
	}
	cred, err := service.NewSharedKeyCredential(account, secret)
	if err != nil {
		// The SDK's message could quote the key: say only what is wrong.
		return nil, errors.New("credentials: the account key is not base64")
	}
	return service.NewClientWithSharedKeyCredential(endpoint, cred, opts)
}

// Name is the target's name.
func (t *Target) Name() string { return t.name }

// blob is the client of the block blob under key.
func (t *Target) blob(key string) *blockblob.Client { return t.client.NewBlockBlobClient(key) }
