// Package httpserve runs the daemon's small HTTP servers (the phone
// service, the metrics endpoint) with bounded timeouts and a graceful
// stop. It depends on the standard library only.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Limits of a server. The zero value of a field takes the default.
type Limits struct {
	ReadHeaderTimeout time.Duration // default 5 s
	WriteTimeout      time.Duration // default 10 s
	IdleTimeout       time.Duration // default 60 s
	MaxHeaderBytes    int           // default 16 KiB
	// ShutdownGrace is how long the requests in flight may go on when ctx
	// ends, before the connections are closed; default 5 s.
	ShutdownGrace time.Duration
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Serve serves h on ln until ctx ends, then stops accepting, lets the
// requests in flight finish within the grace and returns nil. It returns
// the error when the listener fails first. It closes ln.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, lim Limits) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(lim.ReadHeaderTimeout, 5*time.Second),
		WriteTimeout:      or(lim.WriteTimeout, 10*time.Second),
		IdleTimeout:       or(lim.IdleTimeout, 60*time.Second),
		MaxHeaderBytes:    or(lim.MaxHeaderBytes, 16<<10),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err // Serve never returns nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), or(lim.ShutdownGrace, 5*time.Second))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
