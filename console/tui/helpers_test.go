package tui

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/gdamore/tcell/v2"
)

// limit is how long a test waits for the screen: generous, for slow
// machines and -race.
const limit = 20 * time.Second

// console runs the console on a simulation screen of w x h against the
// daemon at socket until the test ends.
type console struct {
	t      *testing.T
	screen tcell.SimulationScreen
	mu     sync.Mutex // held while the screen shows
	done   chan error
	cancel context.CancelFunc
}

func startConsole(t *testing.T, socket string, w, h int) *console {
	t.Helper()
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	s.SetSize(w, h)
	ctx, cancel := context.WithCancel(context.Background())
	c := &console{t: t, screen: s, done: make(chan error, 1), cancel: cancel}
	go func() { c.done <- Run(ctx, &control.Client{Socket: socket}, presized{s, &c.mu}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-c.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(limit):
			t.Error("Run did not return after its context ended")
		}
	})
	return c
}

// presized is a simulation screen initialised and sized by the test:
// tview initialises the screen it is given, which would reset the size.
// It also keeps the test from reading the cells while Show writes them
// (GetContents hands out the screen's own slice).
type presized struct {
	tcell.SimulationScreen
	mu *sync.Mutex
}

func (presized) Init() error { return nil }

func (p presized) Show() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.SimulationScreen.Show()
}

func (p presized) Sync() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.SimulationScreen.Sync()
}

// text is the screen's content, one line per row.
func (c *console) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	cells, w, h := c.screen.GetContents()
	var b strings.Builder
	for y := range h {
		for x := range w {
			r := cells[y*w+x].Runes
			if len(r) == 0 || r[0] == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteRune(r[0])
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// waitFor waits until the screen shows every one of want.
func (c *console) waitFor(want ...string) {
	c.t.Helper()
	c.waitUntil(strings.Join(want, ", "), func(s string) bool {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
}

// waitGone waits until the screen no longer shows s.
func (c *console) waitGone(what string) {
	c.t.Helper()
	c.waitUntil("no "+what, func(s string) bool { return !strings.Contains(s, what) })
}

func (c *console) waitUntil(what string, cond func(screen string) bool) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := c.text()
		if cond(s) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("screen: want %s within %v; it shows:\n%s", what, limit, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *console) key(k tcell.Key) { c.screen.InjectKey(k, 0, tcell.ModNone) }

func (c *console) typeText(s string) {
	for _, r := range s {
		c.screen.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
}

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
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close(); <-done }) }
	t.Cleanup(stop)
	return stop
}
