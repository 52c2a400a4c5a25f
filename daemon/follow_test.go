package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/license"
)

// The harness waits on what the daemon says, never on a clock: READY=1 on
// the notify socket (sd_notify, as systemd sees it) before the first
// command, and the control API's event stream before each new look at
// calls or recordings.

// notifySocket listens where a daemon started with NOTIFY_SOCKET set
// sends its sd_notify datagrams.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

func listenNotify(t *testing.T, dir string) *notifySocket {
	t.Helper()
	notifyMu.Lock()
	notifySeq++
	path := filepath.Join(dir, fmt.Sprintf("notify-%d.sock", notifySeq)) // a restarted daemon gets its own
	notifyMu.Unlock()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("notify socket: %v", err)
	}
	t.Cleanup(func() { conn.Close(); os.Remove(path) })
	return &notifySocket{path: path, conn: conn}
}

var (
	notifyMu  sync.Mutex
	notifySeq int
)

// ready waits for READY=1, the daemon's exit or the deadline, whichever
// comes first; it returns false when READY=1 did not come.
func (n *notifySocket) ready(exited <-chan error, limit time.Duration) (bool, error) {
	return n.await("READY=1", exited, limit)
}

// await waits for the sd_notify line want, the daemon's exit or the
// deadline, whichever comes first; it returns false when want did not
// come.
func (n *notifySocket) await(want string, exited <-chan error, limit time.Duration) (bool, error) {
	got := make(chan bool, 1)
	go func() {
		buf := make([]byte, 4096)
		n.conn.SetReadDeadline(time.Now().Add(limit))
		for {
			k, err := n.conn.Read(buf)
			if err != nil {
				got <- false
				return
			}
			for _, line := range strings.Split(string(buf[:k]), "\n") {
				if line == want {
					got <- true
					return
				}
			}
		}
	}()
	select {
	case ok := <-got:
		return ok, nil
	case err := <-exited:
		n.conn.SetReadDeadline(time.Now()) // ends the reader
		return false, err
	}
}

// eventLog follows a daemon's event stream for the test's life: waiters
// learn that something happened.
type eventLog struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced at each event
}

func followEvents(t *testing.T, socket string) *eventLog {
	t.Helper()
	l := &eventLog{changed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := (&control.Client{Socket: socket}).Events(ctx)
	if err != nil {
		cancel()
		t.Fatalf("follow the daemon's events: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := stream.Next(); err != nil {
				l.note() // wake waiters: they look once more and see the end
				return
			}
			l.note()
		}
	}()
	t.Cleanup(func() { cancel(); stream.Close(); <-done })
	return l
}

func (l *eventLog) note() {
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// mark returns a channel closed at the next event.
func (l *eventLog) mark() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// until checks done after each of the daemon's events (and at least every
// second: the daemon drops events for a slow reader, and some changes,
// such as a reload, have no event) until it is true; after limit it fails
// the test with what.
func (d *daemonProc) until(limit time.Duration, what string, done func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		next := d.events.mark()
		if done() {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			d.t.Fatalf("%s: not within %v", what, limit)
		}
		t := time.NewTimer(min(left, time.Second))
		select {
		case <-next:
		case <-t.C:
		}
		t.Stop()
	}
}

// testLicence issues a channel licence of n channels with a fresh key and
// returns it and the key's public half as [license] public_keys takes it.
func testLicence(t *testing.T, n int) (file []byte, pub string) {
	t.Helper()
	priv, key := license.GenerateKey()
	file, err := license.Issue(license.License{Customer: "callvault tests", Model: license.ModelChannel, Count: n}, priv)
	if err != nil {
		t.Fatal(err)
	}
	return file, license.FormatPublicKey(key)
}
