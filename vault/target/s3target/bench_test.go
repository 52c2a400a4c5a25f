package s3target_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/testservers"
)

// BenchmarkPut copies a typical recording (1 MiB: four minutes at
// 32 kbps, in one PUT) and a large one (64 MiB: four parts) to versitygw
// on loopback, checksums and all; MB/s is the copy throughput and
// cpu-ms/op the CPU the copying process (the box, not the gateway) spent
// on each.
func BenchmarkPut(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"1MiB", 1 << 20}, {"64MiB", 64 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			gw := testservers.StartVersityGW(b)
			tg := newTarget(b, gw, "recordings", true)
			ctx := context.Background()
			if err := tg.Prepare(ctx); err != nil {
				b.Fatal(err)
			}
			data := make([]byte, c.size)
			rand.Read(data)
			s := sum(data)
			b.SetBytes(int64(c.size))
			cpu := cpuTime(b)
			for b.Loop() {
				if _, err := tg.Put(ctx, "site-a/node-1/records/2026/11/28/bench.mp3.enc", bytes.NewReader(data), int64(len(data)), s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
