package media

import (
	"errors"
	"fmt"
	"strings"
)

// errUnsupportedCodec is returned by NewDecoder for codecs this package
// cannot decode.
var errUnsupportedCodec = errors.New("unsupported codec")

var errG729Init = errors.New("bcg729: cannot create a decoder context")

// Decoder turns the RTP payloads of one codec into 16-bit linear PCM at the
// codec's clock rate. A Decoder may keep state between packets (G.729
// does), so each leg and payload type gets its own, and it is fed in RTP
// order: every payload, or a concealment in its place, once.
//
// A decoder that holds memory outside the Go heap (G.729) also implements
// interface{ Close() }; whoever created it calls Close when done with it
// (a Recording closes its decoders in SetCodecs and Stop).
type Decoder interface {
	// Decode appends the samples of payload to dst and returns the
	// extended slice. It must not retain payload.
	Decode(dst []int16, payload []byte) []int16
	// Samples returns how many samples Decode makes of payload, without
	// decoding it.
	Samples(payload []byte) int
	// Conceal appends samples samples in place of audio lost on the way
	// (the codec's packet-loss concealment, or silence) and returns the
	// extended slice. A stateful decoder keeps its state in step, as if it
	// had decoded the lost frames.
	Conceal(dst []int16, samples int) []int16
}

// closeDecoder closes d if it has resources to free.
func closeDecoder(d Decoder) {
	if c, ok := d.(interface{ Close() }); ok {
		c.Close()
	}
}

// NewDecoder returns a decoder for the codec with the SDP encoding name name
// (case-insensitive) and clock rate rate. Supported at 8000 Hz: PCMU, PCMA,
// and G729 (also named G729A; G.729 and G.729A share one bitstream, with
// Annex B SID frames decoded as comfort noise). A G.729 decoder must be
// closed (see Decoder).
func NewDecoder(name string, rate int) (Decoder, error) {
	if rate == 8000 {
		switch strings.ToUpper(name) {
		case "PCMU":
			return g711Decoder{ulawTable}, nil
		case "PCMA":
			return g711Decoder{alawTable}, nil
		case "G729", "G729A":
			d, err := newG729Decoder()
			if err != nil {
				return nil, fmt.Errorf("new decoder %s/%d: %w", name, rate, err)
			}
			return d, nil
		}
	}
	return nil, fmt.Errorf("new decoder %s/%d: %w", name, rate, errUnsupportedCodec)
}

// Supported reports whether NewDecoder accepts name at rate.
func Supported(name string, rate int) bool {
	if rate != 8000 {
		return false
	}
	switch strings.ToUpper(name) {
	case "PCMU", "PCMA", "G729", "G729A":
		return true
	}
	return false
}

// payloadKind is what a leg does with the packets of a payload type.
type payloadKind uint8

const (
	kindNone  payloadKind = iota // not negotiated or not understood: ignored
	kindAudio                    // decoded by the payload type's Decoder
	kindCN                       // comfort noise (RFC 3389): silence
	kindEvent                    // telephone-event (RFC 4733): never audio
)

// Payload-type names that are not codecs but still mean something on a
// leg. The static payload type 13 is comfort noise whatever the map says
// (RFC 3551).
const (
	nameCN    = "CN"
	nameEvent = "telephone-event"
	ptCN      = 13
)

// kindOf returns the kind of a payload type that no decoder took, from its
// SDP name.
func kindOf(pt uint8, name string, listed bool) payloadKind {
	switch {
	case strings.EqualFold(name, nameCN), pt == ptCN && !listed:
		return kindCN
	case strings.EqualFold(name, nameEvent):
		return kindEvent
	}
	return kindNone
}
