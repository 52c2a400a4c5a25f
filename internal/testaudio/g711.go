package testaudio

import "github.com/callvault/callvault/internal/g711"

// EncodeUlaw encodes linear samples to G.711 µ-law (ITU-T G.711, with the
// usual bias of 0x84 and clipping at 32635).
func EncodeUlaw(samples []int16) []byte { return g711.EncodeUlaw(samples) }

// EncodeAlaw encodes linear samples to G.711 A-law.
func EncodeAlaw(samples []int16) []byte { return g711.EncodeAlaw(samples) }
