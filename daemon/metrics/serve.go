package metrics

import (
	"context"
	"net"
	"net/http"

	"github.com/callvault/callvault/internal/httpserve"
)

// Serve serves h on ln until ctx ends, then shuts the server down: the
// scrapes under way get 5 s to finish, and ln is closed. It returns nil
// after a shutdown, or the error that stopped the server before.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	return httpserve.Serve(ctx, ln, h, httpserve.Limits{})
}
