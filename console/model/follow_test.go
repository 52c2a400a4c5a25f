package model

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
)

// serveAt serves b on the unix socket at path until stop (or the test's
// end), as a daemon does.
func serveAt(t *testing.T, path string, b control.Backend) (stop func()) {
	t.Helper()
	ln, err := control.Listen(path)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: control.NewHandler(b, nil)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds, failing the test after a
// generous limit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func backend(lic string, calls ...control.Call) *controltest.Backend {
	b := controltest.New()
	b.SetStatus(control.Status{License: control.License{Customer: lic, Model: "channel", Count: 8}})
	b.SetCalls(calls)
	return b
}

func TestFollowReconnects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	b1 := backend("first", control.Call{ID: "one@gw", Start: t0})
	stop1 := serveAt(t, path, b1)

	var mu sync.Mutex
	var waits []time.Duration
	bo := Backoff{First: 10 * time.Millisecond, Max: 40 * time.Millisecond,
		Wait: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return sleep(ctx, time.Millisecond)
		}}
	m := New()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, &control.Client{Socket: path}, m, bo) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Follow returned %v, want context.Canceled", err)
		}
	}()

	eventually(t, "live with the first daemon's call", func() bool {
		return m.Connection().Live() && ids(m.Calls()) == "one@gw() "
	})
	b1.Publish(control.Event{Type: control.EventCallStarted, Time: t0, Call: &control.Call{ID: "two@gw", Start: t0.Add(time.Second)}})
	eventually(t, "the started call", func() bool { return ids(m.Calls()) == "one@gw() two@gw() " })

	stop1()
	eventually(t, "disconnected, retrying, several times", func() bool {
		c := m.Connection()
		return c.State == Retrying && c.LastError != "" && c.Failures >= 4
	})
	if got := ids(m.Calls()); got != "one@gw() two@gw() " {
		t.Errorf("while retrying, calls = %s: want the last known kept", got)
	}

	b2 := backend("second", control.Call{ID: "three@gw", Start: t0})
	serveAt(t, path, b2)
	eventually(t, "back with the new daemon's snapshot", func() bool {
		return m.Connection().Live() && ids(m.Calls()) == "three@gw() " && m.Licence().Customer == "second"
	})
	if c := m.Connection(); c.Failures != 0 || c.LastError == "" {
		t.Errorf("connection = %+v, want no failures and the last error kept", c)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(waits) < 4 || waits[0] != bo.First {
		t.Fatalf("waits = %v, want several, the first %v", waits, bo.First)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] || waits[i] > bo.Max {
			t.Errorf("waits = %v, want growing up to %v", waits, bo.Max)
			break
		}
	}
	if waits[len(waits)-1] != bo.Max {
		t.Errorf("last wait %v, want the cap %v", waits[len(waits)-1], bo.Max)
	}
}

func TestFollowStreamEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	b := backend("one")
	serveAt(t, path, b)
	m := New()
	retried := make(chan struct{}, 1)
	bo := Backoff{First: time.Millisecond, Wait: func(ctx context.Context, d time.Duration) error {
		select {
		case retried <- struct{}{}:
		default:
		}
		return sleep(ctx, time.Millisecond)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, &control.Client{Socket: path}, m, bo) }()
	eventually(t, "live", func() bool { return m.Connection().Live() })
	b.CloseSubscriptions() // the daemon shuts down its streams
	select {
	case <-retried:
	case <-time.After(20 * time.Second):
		t.Fatal("no retry after the stream ended")
	}
	eventually(t, "live again", func() bool { return m.Connection().Live() })
	if c := m.Connection(); c.LastError != "the daemon ended the event stream" {
		t.Errorf("last error = %q", c.LastError)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow returned %v", err)
	}
}

func TestBackoffDefaults(t *testing.T) {
	b := Backoff{}.withDefaults()
	var got []time.Duration
	for d := b.First; len(got) < 5; d = b.next(d) {
		got = append(got, d)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits = %v, want %v", got, want)
		}
	}
}
