package main

import (
	"sync"

	"github.com/callvault/callvault/sim/codec"
	"github.com/callvault/callvault/sim/tone"
)

// cycleCache holds the payload cycle of each tone, computed once: every
// call with the same tones shares it (the pacer only reads it).
type cycleCache struct {
	mu sync.Mutex
	m  map[float64][][]byte
}

// g729Cycle and g729Warm are the packets of a G.729 cycle and the ones
// encoded first to settle the encoder; G.711 needs one packet.
const (
	g729Cycle = 50
	g729Warm  = 25
)

// get returns the payloads of a leg carrying freq in c.
func (cc *cycleCache) get(c codec.Codec, freq float64) [][]byte {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if p, ok := cc.m[freq]; ok {
		return p
	}
	if cc.m == nil {
		cc.m = map[float64][][]byte{}
	}
	period := tone.Sine(freq, tone.PacketSamples, tone.Amplitude)
	packets, warm := 1, 0
	if c.Name == codec.G729.Name {
		packets, warm = g729Cycle, g729Warm
	}
	p := c.Cycle(period, packets, warm)
	cc.m[freq] = p
	return p
}
