package testaudio

import (
	"fmt"
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
