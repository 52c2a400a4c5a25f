package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/metrics"
)

// metricsService is the Prometheus endpoint's listener, or nil when
// [metrics] listen is empty.
type metricsService struct{ ln net.Listener }

func listenMetrics(addr string) (*metricsService, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &metricsService{ln: ln}, nil
}

// addr is where the endpoint listens, "" without one.
func (m *metricsService) addr() string {
	if m == nil {
		return ""
	}
	return m.ln.Addr().String()
}

func (m *metricsService) close() {
	if m != nil {
		m.ln.Close()
	}
}

// serve answers scrapes with the control API's status until ctx ends.
func (m *metricsService) serve(ctx context.Context, status func(context.Context) (control.Status, error), log *slog.Logger) error {
	if m == nil {
		<-ctx.Done()
		return nil
	}
	return metrics.Serve(ctx, m.ln, metrics.NewHandler(status, log))
}
