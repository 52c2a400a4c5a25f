package azuretarget

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/testservers"
)

// BenchmarkPut1MiB and BenchmarkPut64MiB copy objects to Azurite on
// loopback: one Put Blob request for 1 MiB, eight staged blocks, the
// commit and the block-list check for 64 MiB. cpu-ms/op is this
// process's CPU (hashing, HTTP, TLS-free loopback), not Azurite's.
func BenchmarkPut1MiB(b *testing.B)  { benchmarkPut(b, 1<<20) }
func BenchmarkPut64MiB(b *testing.B) { benchmarkPut(b, 64<<20) }

func benchmarkPut(b *testing.B, size int) {
	az := testservers.StartAzurite(b)
	tg := prepared(b, newTarget(b, az.Endpoint, "bench", az.CredentialsFile()))
	data := random(b, size)
	s := sum(data)
	ctx := context.Background()
	b.SetBytes(int64(size))
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := tg.Put(ctx, fmt.Sprintf("bench/%d", i%8), bytes.NewReader(data), int64(size), s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the CPU this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
