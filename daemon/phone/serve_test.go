package phone

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeFinishesRequestsInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	trigger := func(ctx context.Context, ext string, a Action) (Result, error) {
		close(entered)
		<-release
		return Result{State: StatePaused}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, NewHandler(Config{Allow: loopback}, trigger)) }()

	type answer struct {
		status int
		page   wireText
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := client.Get("http://" + ln.Addr().String() + RecordPath + "?ext=2501&action=pause")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		var p wireText
		err = xml.NewDecoder(resp.Body).Decode(&p)
		answered <- answer{resp.StatusCode, p, err}
	}()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the trigger was not called")
	}
	cancel() // shut down with the action in flight
	close(release)
	select {
	case a := <-answered:
		if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.page.Text, "Recording paused.") {
			t.Errorf("answer in flight at shutdown: status %d, %+v, err %v", a.status, a.page, a.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer to the request in flight")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after shutdown: %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second); err == nil {
		t.Error("the listener still accepts after Serve returned")
	}
}

func TestServeListenerError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), ln, NewHandler(Config{Allow: loopback}, (&fakeRecorder{}).trigger))
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Serve on a closed listener returned nil")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve on a closed listener did not return")
	}
}

func TestTriggerDeadline(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	hadDeadline := make(chan bool, 1)
	trigger := func(ctx context.Context, ext string, a Action) (Result, error) {
		_, ok := ctx.Deadline()
		hadDeadline <- ok
		<-stuck // ignores ctx
		return Result{}, nil
	}
	logs := &syncBuffer{}
	h := NewHandler(Config{Allow: loopback, Log: slog.New(slog.NewTextHandler(logs, nil))}, trigger).(*handler)
	h.timeout = 50 * time.Millisecond
	base := serveHandler(t, h)

	p, _ := textPage(t, base+RecordPath+"?ext=2501&action=stop")
	if !strings.Contains(p.Text, "did not answer in time") {
		t.Errorf("Text %q, want the recorder's silence explained", p.Text)
	}
	if got := recordKeys(t, base, "2501", p.SoftKeys); len(got) != 1 || got[0] != ActionStop {
		t.Errorf("softkey actions %v, want a retry of stop", got)
	}
	if !<-hadDeadline {
		t.Error("the trigger's context has no deadline")
	}
	if !strings.Contains(logs.String(), "phone record action failed") {
		t.Errorf("the timeout is not logged:\n%s", logs)
	}
}

func TestTriggerPanic(t *testing.T) {
	trigger := func(ctx context.Context, ext string, a Action) (Result, error) {
		panic("recorder bug")
	}
	base, logs := startService(t, Config{Allow: loopback}, trigger)
	p, _ := textPage(t, base+RecordPath+"?ext=2501&action=start")
	if !strings.Contains(p.Text, "Internal error") {
		t.Errorf("Text %q, want an internal error", p.Text)
	}
	if !strings.Contains(logs.String(), "recorder bug") {
		t.Errorf("the panic is not logged:\n%s", logs)
	}
}
