package azuretarget

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/callvault/callvault/vault/target"
)

// responseError is the SDK's error response in one line, status and
// Azure's error code, for logs and the index; it unwraps to the
// *azcore.ResponseError, so bloberror.HasCode still sees the code.
type responseError struct{ re *azcore.ResponseError }

func (e responseError) Error() string {
	if e.re.ErrorCode == "" {
		return fmt.Sprintf("HTTP %d", e.re.StatusCode)
	}
	return fmt.Sprintf("HTTP %d %s", e.re.StatusCode, e.re.ErrorCode)
}

func (e responseError) Unwrap() error { return e.re }

// short makes an SDK error fit a log line and keeps secrets out of it:
// the SDK's response errors run to twenty lines, and a transport error
// quotes the request's URL, SAS signature included.
func short(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return responseError{re}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: withoutQuery(ue.URL), Err: ue.Err}
	}
	return err
}

// withoutQuery is raw with its query (a SAS token, a block id) left out.
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.RawQuery, u.ForceQuery = "", false
	return u.String()
}

// isNotFound reports whether err says the blob or its container is not
// there.
func isNotFound(err error) bool {
	return bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound)
}

// isRefused reports whether the service refused the credentials, or what
// they allow.
func isRefused(err error) bool {
	return bloberror.HasCode(err,
		bloberror.AuthenticationFailed,
		bloberror.AuthorizationFailure,
		bloberror.AuthorizationPermissionMismatch,
		bloberror.AuthorizationResourceTypeMismatch,
		bloberror.AuthorizationServiceMismatch,
		bloberror.AuthorizationProtocolMismatch,
		bloberror.AuthorizationSourceIPMismatch,
		bloberror.InvalidAuthenticationInfo,
		bloberror.NoAuthenticationInformation,
	)
}

// fail wraps err from op on key with the target's name, ErrNotFound when
// the service said the blob is not there.
func (t *Target) fail(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("target %s: %s %s: %w", t.name, op, key, target.ErrNotFound)
	}
	return fmt.Errorf("target %s: %s %s: %w", t.name, op, key, short(err))
}
