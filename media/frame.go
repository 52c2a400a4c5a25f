package media

import (
	"errors"
	"fmt"
)

var errFrameHeader = errors.New("bad mpeg audio frame header")

// Layer III bit rates in kbit/s by bit-rate index, for MPEG-1 and for
// MPEG-2/2.5 (ISO/IEC 11172-3 and 13818-3).
var (
	l3Bitrates1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	l3Bitrates2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
)

// frameHeader is what the 4-byte header of an MPEG Layer III frame says
// about its frame.
type frameHeader struct {
	size       int // bytes, header included
	samples    int // per channel: 1152 for MPEG-1, 576 for MPEG-2 and 2.5
	sampleRate int // Hz
	kbps       int
	mpeg1      bool
	mono       bool // channel mode 11 (single channel)
}

// parseFrameHeader decodes the 4-byte header h of an MPEG Layer III frame.
//
//	AAAAAAAA AAABBCCD EEEEFFGH IIJJKLMM
//	A sync, B version (00 2.5, 10 2, 11 1), C layer (01 = III), D no CRC,
//	E bit-rate index, F sample-rate index, G padding, H private,
//	I channel mode (00 stereo, 01 joint, 10 dual, 11 mono), J mode
//	extension, K copyright, L original, M emphasis.
func parseFrameHeader(h [4]byte) (frameHeader, error) {
	if h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return frameHeader{}, fmt.Errorf("%w: no sync in % x", errFrameHeader, h)
	}
	version := (h[1] >> 3) & 3
	layer := (h[1] >> 1) & 3
	bri := h[2] >> 4
	sri := (h[2] >> 2) & 3
	pad := int(h[2]>>1) & 1
	if version == 1 || layer != 1 || sri == 3 {
		return frameHeader{}, fmt.Errorf("%w: not layer iii in % x", errFrameHeader, h)
	}
	rates := [3]int{44100, 48000, 32000}
	f := frameHeader{sampleRate: rates[sri], samples: 576, mono: h[3]>>6 == 3}
	switch version {
	case 3: // MPEG-1
		f.kbps, f.samples, f.mpeg1 = l3Bitrates1[bri], 1152, true
	case 2: // MPEG-2
		f.kbps, f.sampleRate = l3Bitrates2[bri], f.sampleRate/2
	case 0: // MPEG-2.5
		f.kbps, f.sampleRate = l3Bitrates2[bri], f.sampleRate/4
	}
	if f.kbps == 0 {
		return frameHeader{}, fmt.Errorf("%w: free or bad bit rate in % x", errFrameHeader, h)
	}
	// samples x bit rate / 8 bits / sample rate, in whole bytes, plus the
	// padding byte.
	f.size = f.samples/8*f.kbps*1000/f.sampleRate + pad
	return f, nil
}

// sideInfoLen is the length in bytes of the side information that follows
// the header (and its CRC, if any) in a Layer III frame.
func (f frameHeader) sideInfoLen() int {
	switch {
	case f.mpeg1 && f.mono:
		return 17
	case f.mpeg1:
		return 32
	case f.mono:
		return 9
	}
	return 17
}

// frameSize returns the length in bytes of the MPEG Layer III frame whose
// 4-byte header is h.
func frameSize(h [4]byte) (int, error) {
	f, err := parseFrameHeader(h)
	return f.size, err
}

// streamHeaderMask selects the header bits that every frame of one CBR
// stream shares: all but padding, private and mode extension.
var streamHeaderMask = [4]byte{0xFF, 0xFF, 0xFC, 0xCF}

// sameStream reports whether the frame header b belongs to the same CBR
// stream as the frame header a: same version, layer, CRC, bit rate, sample
// rate, channel mode, copyright, original and emphasis. b may be shorter
// than a header (the end of the input): only its bytes are compared.
func sameStream(a [4]byte, b []byte) bool {
	for i := range min(len(b), len(a)) {
		if a[i]&streamHeaderMask[i] != b[i]&streamHeaderMask[i] {
			return false
		}
	}
	return true
}
