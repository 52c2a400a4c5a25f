package media

import (
	"errors"
	"fmt"
	"strings"
)

// errUnsupportedCodec is returned by NewDecoder for codecs this package
// cannot decode.
var errUnsupportedCodec = errors.New("unsupported codec")

// Decoder turns one RTP payload into 16-bit linear PCM at the codec's clock
// rate. Decode appends the samples to dst and returns the extended slice; it
// must not retain payload. A Decoder may keep state between packets (G.729
// does), so each leg and payload type gets its own.
type Decoder interface {
	Decode(dst []int16, payload []byte) []int16
}

// NewDecoder returns a decoder for the codec with the SDP encoding name name
// (case-insensitive) and clock rate rate. Only PCMU and PCMA at 8000 Hz are
// supported; G.729 will be added behind the same interface.
func NewDecoder(name string, rate int) (Decoder, error) {
	if rate == 8000 {
		switch strings.ToUpper(name) {
		case "PCMU":
			return g711Decoder{ulawTable}, nil
		case "PCMA":
			return g711Decoder{alawTable}, nil
		}
	}
	return nil, fmt.Errorf("new decoder %s/%d: %w", name, rate, errUnsupportedCodec)
}

// Supported reports whether NewDecoder accepts name at rate.
func Supported(name string, rate int) bool {
	_, err := NewDecoder(name, rate)
	return err == nil
}

// g711Decoder expands G.711 code words through a 256-entry table. It has no
// state.
type g711Decoder struct {
	table *[256]int16
}

func (d g711Decoder) Decode(dst []int16, payload []byte) []int16 {
	return decodeTable(d.table, dst, payload)
}
