package azuretarget

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/callvault/callvault/internal/testservers"
	"github.com/callvault/callvault/vault/target"
	"github.com/callvault/callvault/vault/target/targettest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	az := testservers.StartAzurite(t)
	tg := newTarget(t, az.Endpoint, "recordings", az.CredentialsFile())
	// Large spans three blocks, the last a part one, so staging and the
	// committed-list check run.
	targettest.Run(t, tg, "site-a/", targettest.Options{Large: 2*BlockSize + 12345})
}

// TestPutShowsWholeObjectsOnly: staged blocks of a Put that fails (a
// wrong sum, a reader that breaks or runs on) are never seen, and a
// replaced object stays as it was.
func TestPutShowsWholeObjectsOnly(t *testing.T) {
	t.Parallel()
	az := testservers.StartAzurite(t)
	tg := prepared(t, newTarget(t, az.Endpoint, "whole", az.CredentialsFile()))
	tg.blockSize = 1024 // small blocks: every Put below stages several
	ctx := context.Background()
	data, other := random(t, 5000), random(t, 4500)

	if _, err := tg.Put(ctx, "new", bytes.NewReader(data), int64(len(data)), sum(other)); !errors.Is(err, target.ErrChecksum) {
		t.Errorf("Put with a wrong sum: %v, want ErrChecksum", err)
	}
	if _, err := tg.Stat(ctx, "new"); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("Stat after a refused staged Put: %v, want ErrNotFound", err)
	}

	if _, err := tg.Put(ctx, "kept", bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	fails := map[string]struct {
		r   io.Reader
		sum string
	}{
		"a wrong sum":           {bytes.NewReader(other), sum(data)},
		"a reader that breaks":  {io.MultiReader(bytes.NewReader(other[:3000]), iotest.ErrReader(errors.New("disk gone"))), sum(other)},
		"a reader that runs on": {io.MultiReader(bytes.NewReader(other), strings.NewReader("more")), sum(other)},
	}
	for name, f := range fails {
		if _, err := tg.Put(ctx, "kept", f.r, int64(len(other)), f.sum); err == nil {
			t.Errorf("Put with %s: no error", name)
		}
		if got := targettest.Read(t, tg, "kept"); !bytes.Equal(got, data) {
			t.Errorf("after a Put with %s: %d bytes, not the %d of the object before", name, len(got), len(data))
		}
	}
	var keys []string
	tg.List(ctx, "", func(o target.Object) error { keys = append(keys, o.Key); return nil })
	if len(keys) != 1 || keys[0] != "kept" {
		t.Errorf("List = %q, want only the whole object", keys)
	}
}

// TestServiceChecksMD5: what Put relies on, that Azurite (as Azure)
// refuses a block or a blob whose body does not match its Content-MD5.
func TestServiceChecksMD5(t *testing.T) {
	t.Parallel()
	az := testservers.StartAzurite(t)
	tg := prepared(t, newTarget(t, az.Endpoint, "md5", az.CredentialsFile()))
	ctx := context.Background()
	block := random(t, 4096)
	wrong := md5.Sum([]byte("other bytes"))
	bb := tg.blob("md5/blob")
	if err := stage(ctx, bb, "YmxvY2stMQ==", block, wrong[:]); !bloberror.HasCode(err, bloberror.MD5Mismatch) {
		t.Errorf("StageBlock with a wrong MD5: %v, want Md5Mismatch", err)
	}
	_, err := bb.Upload(ctx, streaming.NopCloser(bytes.NewReader(block)), &blockblob.UploadOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(wrong[:]),
	})
	if !bloberror.HasCode(err, bloberror.MD5Mismatch) {
		t.Errorf("Upload with a wrong MD5: %v, want Md5Mismatch", err)
	}
}

// TestOpenChecksWhatItReads: a blob changed behind the target's back
// (other bytes under the same stored sha256) fails at the end of the
// read with ErrChecksum.
func TestOpenChecksWhatItReads(t *testing.T) {
	t.Parallel()
	az := testservers.StartAzurite(t)
	tg := prepared(t, newTarget(t, az.Endpoint, "open", az.CredentialsFile()))
	ctx := context.Background()
	data := random(t, 3000)
	if _, err := tg.Put(ctx, "k", bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
		t.Fatal(err)
	}
	if got := targettest.Read(t, tg, "k"); !bytes.Equal(got, data) {
		t.Fatalf("Open gave %d bytes, not the %d put", len(got), len(data))
	}
	forged := random(t, 3000)
	s := sum(data)
	if _, err := tg.blob("k").UploadBuffer(ctx, forged, &blockblob.UploadBufferOptions{Metadata: map[string]*string{metaSHA256: &s}}); err != nil {
		t.Fatal(err)
	}
	rc, _, err := tg.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, target.ErrChecksum) {
		t.Errorf("reading a changed blob: %v, want ErrChecksum", err)
	}
}

func TestWrongKeyIsRefusedClearly(t *testing.T) {
	t.Parallel()
	az := testservers.StartAzurite(t)
	other := make([]byte, 64)
	rand.Read(other)
	key := hex.EncodeToString(other[:32]) // base64 too, of other bytes
	tg := newTarget(t, az.Endpoint, "refused", credFile(t, az.Account+":"+key))
	err := tg.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("Prepare with a wrong key: %v, want the credentials refused (HTTP 403)", err)
	}
	if err != nil && strings.Contains(err.Error(), key) {
		t.Errorf("the error quotes the key: %v", err)
	}
	if _, err := New(target.Config{Name: "a", Endpoint: az.Endpoint, Bucket: "recordings", Credentials: credFile(t, az.Account+":not*base64")}); err == nil || strings.Contains(err.Error(), "not*base64") {
		t.Errorf("New with a key that is not base64: %v, want an error that does not quote it", err)
	}
}

// TestSAS: an account SAS that may create the container, a SAS for one
// container that may not (Prepare finds the container there), and a SAS
// as the portal writes it (colons unescaped, sp first).
func TestSAS(t *testing.T) {
	t.Parallel()
	az := testservers.StartAzurite(t)
	cred, err := service.NewSharedKeyCredential(az.Account, az.Key)
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().UTC().Add(time.Hour)
	account, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    expiry,
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Delete: true, List: true, Add: true, Create: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("account", func(t *testing.T) {
		tg := newTarget(t, az.Endpoint, "sas-account", credFile(t, account.Encode()))
		targettest.Run(t, tg, "site-a/", targettest.Options{})
	})

	prepared(t, newTarget(t, az.Endpoint, "sas-container", az.CredentialsFile()))
	scoped, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    expiry,
		ContainerName: "sas-container",
		Permissions:   (&sas.ContainerPermissions{Read: true, Write: true, Delete: true, List: true, Add: true, Create: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("container", func(t *testing.T) {
		tg := newTarget(t, az.Endpoint, "sas-container", credFile(t, scoped.Encode()))
		targettest.Run(t, tg, "site-b/", targettest.Options{})
	})
	t.Run("as the portal writes it", func(t *testing.T) {
		tg := newTarget(t, az.Endpoint, "sas-container", credFile(t, portalStyle(scoped.Encode())))
		targettest.Run(t, tg, "site-c/", targettest.Options{})
	})
	t.Run("expired", func(t *testing.T) {
		old, err := sas.BlobSignatureValues{
			Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().UTC().Add(-time.Hour), ContainerName: "sas-container",
			Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(),
		}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		tg := newTarget(t, az.Endpoint, "sas-container", credFile(t, old.Encode()))
		if err := tg.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
			t.Errorf("Prepare with an expired SAS: %v, want the credentials refused", err)
		}
	})
}

// TestOutageKeepsSecretsOut: with Azurite stopped a Put fails with an
// error that does not quote the SAS; started again, it still holds what
// it held, and Put works again.
func TestOutageKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	az := testservers.StartAzurite(t)
	cred, _ := service.NewSharedKeyCredential(az.Account, az.Key)
	token, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().UTC().Add(time.Hour),
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Delete: true, List: true, Create: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	tg := prepared(t, newTarget(t, az.Endpoint, "outage", credFile(t, token.Encode())))
	ctx := context.Background()
	data := random(t, 2000)
	if _, err := tg.Put(ctx, "before", bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
		t.Fatal(err)
	}

	az.Stop()
	_, err = tg.Put(ctx, "during", bytes.NewReader(data), int64(len(data)), sum(data))
	if err == nil {
		t.Fatal("Put with Azurite stopped: no error")
	}
	if sig := token.Signature(); strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), "sig=") {
		t.Errorf("the error quotes the SAS: %v", err)
	}
	if errors.Is(err, target.ErrChecksum) || errors.Is(err, target.ErrNotFound) {
		t.Errorf("an outage reported as %v", err)
	}

	az.Start()
	if got := targettest.Read(t, tg, "before"); !bytes.Equal(got, data) {
		t.Errorf("after a restart: %d bytes, want the %d put before", len(got), len(data))
	}
	if _, err := tg.Put(ctx, "after", bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
		t.Errorf("Put after a restart: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	cred := credFile(t, testservers.AzuriteAccount+":"+testservers.AzuriteKey)
	sasCred := credFile(t, "sv=2024-01-01&sig=x")
	for name, cfg := range map[string]target.Config{
		"no container":              {Name: "a", Endpoint: "http://127.0.0.1:1/acct", Credentials: cred},
		"a container Azure refuses": {Name: "a", Endpoint: "http://127.0.0.1:1/acct", Bucket: "Call--Recordings", Credentials: cred},
		"no credentials":            {Name: "a", Endpoint: "http://127.0.0.1:1/acct", Bucket: "recordings"},
		"SAS and no endpoint":       {Name: "a", Bucket: "recordings", Credentials: sasCred},
		"not a URL":                 {Name: "a", Endpoint: "127.0.0.1:1", Bucket: "recordings", Credentials: cred},
		"a SAS in the address":      {Name: "a", Endpoint: "https://a.blob.core.windows.net/?sv=1&sig=x", Bucket: "recordings", Credentials: cred},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	tg, err := New(target.Config{Name: "a", Bucket: "recordings", Credentials: cred})
	if err != nil {
		t.Fatalf("a shared key and no endpoint: %v", err)
	}
	if tg.endpoint != "https://devstoreaccount1.blob.core.windows.net/" {
		t.Errorf("a shared key and no endpoint: endpoint %q, want the account's Azure endpoint", tg.endpoint)
	}
}

// portalStyle writes a SAS as the Azure portal shows it: sp first, the
// times' colons unescaped.
func portalStyle(token string) string {
	var first, rest []string
	for _, p := range strings.Split(token, "&") {
		if strings.HasPrefix(p, "sp=") {
			first = append(first, p)
		} else {
			rest = append(rest, strings.ReplaceAll(p, "%3A", ":"))
		}
	}
	return strings.Join(append(first, rest...), "&")
}

func newTarget(t testing.TB, endpoint, container, cred string) *Target {
	t.Helper()
	tg, err := New(target.Config{Name: "azure", Kind: target.KindAzure, Endpoint: endpoint, Bucket: container, Credentials: cred})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func prepared(t testing.TB, tg *Target) *Target {
	t.Helper()
	if err := tg.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tg
}

func credFile(t testing.TB, line string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "azure.cred")
	if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func random(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
