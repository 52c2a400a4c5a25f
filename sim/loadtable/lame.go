package main

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/callvault/callvault/internal/g711"
	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/sim/tone"
)

// lameAlone is the CPU, in ms, LAME takes to encode one second of what
// the recorder encodes under this load: the mono mix of a simulated
// call's two tones as decoded from the wire, at the recorder's setting (32 kbps, its default quality), in
// 20 ms calls as the recorder makes them. It is the best of five runs of
// 60 s of audio on one locked thread, by the thread's own CPU clock.
func lameAlone(codec string) (float64, error) {
	const seconds = 60
	a, b := tone.ForCall(0)
	l1 := onTheWire(codec, tone.Sine(a, tone.Rate*seconds, tone.Amplitude))
	l2 := onTheWire(codec, tone.Sine(b, tone.Rate*seconds, tone.Amplitude))
	pcm := make([]int16, len(l1))
	for i := range pcm {
		pcm[i] = l1[i]/2 + l2[i]/2
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := time.Duration(1<<63 - 1)
	for range 5 {
		enc, err := media.NewEncoder(1, media.DefaultQuality)
		if err != nil {
			return 0, err
		}
		start := threadCPU()
		for i := 0; i+160 <= len(pcm); i += 160 {
			if _, err := enc.Encode(pcm[i : i+160]); err != nil {
				enc.Close()
				return 0, err
			}
		}
		best = min(best, threadCPU()-start)
		enc.Close()
	}
	return float64(best.Microseconds()) / 1000 / seconds, nil
}

// onTheWire is pcm as the recorder decodes it: through G.711 (A-law for
// pcma, µ-law otherwise; G.729's own loss is left out).
func onTheWire(codec string, pcm []int16) []int16 {
	if codec == "pcma" {
		return g711.DecodeAlaw(g711.EncodeAlaw(pcm))
	}
	return g711.DecodeUlaw(g711.EncodeUlaw(pcm))
}

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}
