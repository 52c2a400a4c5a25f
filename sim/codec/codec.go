// Package codec encodes the simulator's audio for RTP: G.711 µ-law and
// A-law from tables built here, and G.729A through bcg729's encoder (cgo).
// A leg's payloads are computed once, before the call, as a cycle that
// the pacer repeats (Cycle), so sending costs no encoding.
package codec

import (
	"github.com/callvault/callvault/internal/g711"

	"fmt"
	"strings"
)

// Codec is an RTP audio format the simulator offers.
type Codec struct {
	Name string // SDP encoding name: PCMU, PCMA, G729
	PT   uint8  // static RTP payload type
	// Fmtp is the a=fmtp parameters offered, "" for none.
	Fmtp string
	// newEncoder returns a function that turns 20 ms of samples at 8 kHz
	// into one payload, keeping the codec's state between calls, and one
	// that frees that state.
	newEncoder func() (encode func([]int16) []byte, done func())
}

// stateless adapts an encoder without memory to newEncoder.
func stateless(enc func([]int16) []byte) func() (func([]int16) []byte, func()) {
	return func() (func([]int16) []byte, func()) { return enc, func() {} }
}

// PCMU, PCMA and G729 are the codecs of -codec.
var (
	PCMU = Codec{Name: "PCMU", PT: 0, newEncoder: stateless(g711.EncodeUlaw)}
	PCMA = Codec{Name: "PCMA", PT: 8, newEncoder: stateless(g711.EncodeAlaw)}
	G729 = Codec{Name: "G729", PT: 18, Fmtp: "annexb=no", newEncoder: newG729Encoder}
)

// Parse returns the codec named by -codec (pcmu, pcma, g729, any case).
func Parse(name string) (Codec, error) {
	switch strings.ToLower(name) {
	case "pcmu", "ulaw", "g711u":
		return PCMU, nil
	case "pcma", "alaw", "g711a":
		return PCMA, nil
	case "g729", "g729a":
		return G729, nil
	}
	return Codec{}, fmt.Errorf("codec %q: want pcmu, pcma or g729", name)
}

// Cycle encodes packets payloads of 20 ms each from a signal that repeats
// every packet (one packet's samples, period), to be sent in a loop. A
// codec with memory (G.729) first encodes warm packets that are thrown
// away, so the cycle starts from a settled state and its seam, where the
// loop goes back to the first payload, is no louder than any other frame.
func (c Codec) Cycle(period []int16, packets, warm int) [][]byte {
	enc, done := c.newEncoder()
	defer done()
	for range warm {
		enc(period)
	}
	out := make([][]byte, packets)
	for i := range out {
		out[i] = enc(period)
	}
	return out
}
