package testaudio

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// rtpRanges is how many 100-port ranges 20000-59999 holds.
const rtpRanges = 400

var (
	rangeMu   sync.Mutex
	rangeNext = os.Getpid() % rtpRanges // where this process starts looking
)

// RTPRange claims a 100-port RTP range in 20000-59999 that no other test
// holds, in this process or in another `go test` run, and returns its
// first port: range n is held by an flock on callvault-rtp-n.lock in the
// temp dir until the test ends (the kernel drops it if the process dies).
// End-to-end tests give it to the daemons they start.
func RTPRange(t testing.TB) int {
	t.Helper()
	rangeMu.Lock()
	first := rangeNext
	rangeNext = (rangeNext + 1) % rtpRanges
	rangeMu.Unlock()
	for i := range rtpRanges {
		n := (first + i) % rtpRanges
		f, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("callvault-rtp-%d.lock", n)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatalf("rtp range lock: %v", err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			t.Cleanup(func() { f.Close() })
			return 20000 + n*100
		}
		f.Close()
	}
	t.Fatal("every RTP range of 20000-59999 is held by another test")
	return 0
}

// SIPPort returns a loopback port free for both UDP and TCP now, for a
// sipp that must not take its default 5060: two sipp runs of parallel
// tests both bind 5060 over TCP (SO_REUSEADDR) and the second one's
// listen fails ("Unable to listen main socket, errno = 98").
func SIPPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("sip port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return 0
}
