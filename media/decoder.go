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

// Decoder turns one RTP payload into 16-bit linear PCM at the codec's clock
// rate. Decode appends the samples to dst and returns the extended slice; it
// must not retain payload. A Decoder may keep state between packets (G.729
// does), so each leg and payload type gets its own.
//
// A decoder that holds memory outside the Go heap (G.729) also implements
// interface{ Close() }; whoever created it calls Close when done with it
// (a Recording closes its decoders in SetCodecs and Stop).
type Decoder interface {
	Decode(dst []int16, payload []byte) []int16
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

// g711Decoder expands G.711 code words through a 256-entry table. It has no
// state.
type g711Decoder struct {
	table *[256]int16
}

func (d g711Decoder) Decode(dst []int16, payload []byte) []int16 {
	return decodeTable(d.table, dst, payload)
}
