package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestLoopbackOf(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:5060":  "127.0.0.1:5060",
		"[::]:5060":     "[::1]:5060",
		"10.0.0.5:5060": "10.0.0.5:5060",
	} {
		if got := loopbackOf(in); got != want {
			t.Errorf("loopbackOf(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestSIPAnswers: a listener that answers passes the probe, one that
// keeps silent fails it.
func TestSIPAnswers(t *testing.T) {
	answering := udpPeer(t, func(req []byte) []byte {
		if !strings.HasPrefix(string(req), "OPTIONS ") {
			return nil
		}
		return []byte("SIP/2.0 200 OK\r\n\r\n")
	})
	if err := sipAnswers(context.Background(), answering); err != nil {
		t.Errorf("an answering listener: %v", err)
	}
	silent := udpPeer(t, func([]byte) []byte { return nil })
	if err := sipAnswers(context.Background(), silent); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("a silent listener: %v, want no answer", err)
	}
}

// udpPeer serves reply on a loopback UDP port until the test ends.
func udpPeer(t *testing.T, reply func([]byte) []byte) string {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if out := reply(buf[:n]); out != nil {
				conn.WriteTo(out, from)
			}
		}
	}()
	return conn.LocalAddr().String()
}

// TestWatchdogPings: under a watchdog the daemon pings systemd once its
// health check passes, also with loopback outside the SIP allow-list, and
// the probe leaves no refusal in the log.
func TestWatchdogPings(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{sip: `allow = ["192.0.2.0/24"]`, env: []string{"WATCHDOG_USEC=400000"}})
	if ok, err := d.notify.await("WATCHDOG=1", d.exited, 20*time.Second); !ok {
		t.Fatalf("no WATCHDOG=1 within 20 s (%v)\n%s", err, d.stderr.String())
	}
	if log := d.stderr.String(); strings.Contains(log, "health check failed") || strings.Contains(log, "refused") && strings.Contains(log, "health") {
		t.Errorf("the health probe left traces in the log:\n%s", tail(log, 2000))
	}
}
