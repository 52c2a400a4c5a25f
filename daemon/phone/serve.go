package phone

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/callvault/callvault/internal/httpserve"
)

// shutdownGrace lets the requests in flight finish (an action takes at
// most triggerTimeout) when ctx ends.
const shutdownGrace = triggerTimeout + time.Second

// Serve serves h on ln until ctx ends, then stops accepting, lets the
// requests in flight finish for a few seconds and returns nil. It returns
// the error when the listener fails first. It closes ln. Phones send
// small GETs and read small pages: headers are bounded at 16 KiB.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	return httpserve.Serve(ctx, ln, h, httpserve.Limits{ShutdownGrace: shutdownGrace})
}
