package media

import (
	"errors"
	"fmt"
	"io"
)

var errFrameHeader = errors.New("bad mpeg audio frame header")

// Layer III bit rates in kbit/s by bit-rate index, for MPEG-1 and for
// MPEG-2/2.5 (ISO/IEC 11172-3 and 13818-3).
var (
	l3Bitrates1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	l3Bitrates2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
)

// frameSize returns the length in bytes of the MPEG Layer III frame whose
// 4-byte header is h.
//
//	AAAAAAAA AAABBCCD EEEEFFGH IIJJKLMM
//	A sync, B version (00 2.5, 10 2, 11 1), C layer (01 = III), D no CRC,
//	E bit-rate index, F sample-rate index, G padding, H private, ...
func frameSize(h [4]byte) (int, error) {
	if h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return 0, fmt.Errorf("%w: no sync in % x", errFrameHeader, h)
	}
	version := (h[1] >> 3) & 3
	layer := (h[1] >> 1) & 3
	bri := h[2] >> 4
	sri := (h[2] >> 2) & 3
	pad := int(h[2]>>1) & 1
	if version == 1 || layer != 1 || sri == 3 {
		return 0, fmt.Errorf("%w: not layer iii in % x", errFrameHeader, h)
	}
	rates := [3]int{44100, 48000, 32000}
	sr := rates[sri]
	var kbps int
	switch version {
	case 3: // MPEG-1: 1152 samples per frame
		kbps = l3Bitrates1[bri]
	case 2: // MPEG-2: 576 samples per frame
		kbps, sr = l3Bitrates2[bri], sr/2
	case 0: // MPEG-2.5
		kbps, sr = l3Bitrates2[bri], sr/4
	}
	if kbps == 0 {
		return 0, fmt.Errorf("%w: free or bad bit rate in % x", errFrameHeader, h)
	}
	if version == 3 {
		return 144*kbps*1000/sr + pad, nil
	}
	return 72*kbps*1000/sr + pad, nil
}

// withholdFirst passes an MPEG audio stream to w, except its first frame.
// LAME's first frame is a placeholder for the LAME/Info tag, which is only
// known after the flush; the caller puts the real tag in its place.
type withholdFirst struct {
	w    io.Writer
	hdr  [4]byte
	nhdr int // header bytes collected so far
	skip int // bytes of the first frame still to drop after the header
	held int // size of the withheld frame, 0 until known
}

func (s *withholdFirst) Write(p []byte) (int, error) {
	total := len(p)
	for s.held == 0 && len(p) > 0 {
		k := copy(s.hdr[s.nhdr:], p)
		s.nhdr += k
		p = p[k:]
		if s.nhdr < len(s.hdr) {
			return total, nil
		}
		size, err := frameSize(s.hdr)
		if err != nil {
			return 0, fmt.Errorf("withhold first frame: %w", err)
		}
		s.held, s.skip = size, size-len(s.hdr)
	}
	k := min(s.skip, len(p))
	s.skip -= k
	p = p[k:]
	if len(p) == 0 {
		return total, nil
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return total, nil
}
