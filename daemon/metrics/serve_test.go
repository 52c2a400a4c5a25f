package metrics_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/metrics"
)

// TestServeStopsWithItsContext: when the context ends Serve returns nil,
// the port is closed and no goroutine of the server is left.
func TestServeStopsWithItsContext(t *testing.T) {
	tr := &http.Transport{}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	before := runtime.NumGoroutine()

	s := start(t, fixed(richStatus()))
	for range 3 {
		if _, err := scrape(c, s.url); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatalf("Serve after its context ended: %v", err)
	}
	tr.CloseIdleConnections()

	if conn, err := net.DialTimeout("tcp", s.url[len("http://"):], 5*time.Second); err == nil {
		conn.Close()
		t.Error("the port still accepts connections after Serve returned")
	}
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before the server:\n%s",
				runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeShutsDownAnIdleConnection: a client holding a kept-alive
// connection does not keep Serve from returning.
func TestServeShutsDownAnIdleConnection(t *testing.T) {
	s := start(t, fixed(richStatus()))
	if _, err := scrape(client, s.url); err != nil { // leaves an idle connection
		t.Fatal(err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServeReportsAClosedListener: a listener that fails is Serve's error.
func TestServeReportsAClosedListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	done := make(chan error, 1)
	go func() { done <- metrics.Serve(context.Background(), ln, http.NotFoundHandler()) }()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve on a closed listener: %v, want its error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve on a closed listener did not return")
	}
}
