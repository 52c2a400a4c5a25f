package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// EncoderDelay is the encoder delay of this package's Encoder, in samples
// per channel: LAME 3.100 puts 576 samples before the first input sample
// at MPEG-2.5 8 kHz (Encoder.Delay reports it).
const EncoderDelay = 576

// DecoderDelay is the delay of a Layer III decoder's synthesis filterbank,
// 528 + 1 samples per channel: the last DecoderDelay samples a stream
// encodes only come out of a decoder with the frame after. It is the
// padding to declare for a stream cut without a flush, as SalvageMP3 gives:
// none of its samples is padding, but these cannot be decoded.
const DecoderDelay = 529

var errNoFrames = errors.New("no mpeg audio frames")

// Layout of the Xing/Info header and its LAME extension, in bytes from the
// "Info" mark (lame 3.100, VbrTag.c).
const (
	xingFlags       = 4   // which fields follow, big-endian uint32
	xingFrames      = 8   // frame count, big-endian uint32
	xingBytes       = 12  // byte count, big-endian uint32
	xingTOC         = 16  // 100-entry seek table
	lameQuality     = 116 // Xing "quality" field, big-endian uint32
	lameVersion     = 120 // 9-byte encoder version
	lameRevMethod   = 129 // tag revision (high nibble), VBR method (low)
	lameLowpass     = 130 // lowpass in 100 Hz
	lameFlags       = 139 // ATH type and psychoacoustic flags
	lameABR         = 140 // CBR/ABR bit rate in kbit/s
	lameDelays      = 141 // 12-bit delay, 12-bit padding
	lameMisc        = 144 // noise shaping, stereo mode, non-optimal, source rate
	lamePreset      = 146 // big-endian uint16
	lameMusicLength = 148 // big-endian uint32: the byte count again
	lameMusicCRC    = 152 // CRC-16 of the frames after the Info frame
	lameTagCRC      = 154 // CRC-16 of the frame up to here
	lameTagEnd      = 156
)

// What LAME 3.100 writes in the LAME extension for NewEncoder at the
// default quality. A salvaged stream does not say which quality made it;
// decoders read only the counts, the TOC, the delays and the tag CRC.
const (
	xingFlagsAll     = 0x0F // frames, bytes, TOC and quality fields present
	lameEncoder      = "LAME3.100"
	lameQualityValue = 100 - 10*4 - 5 // 100 - 10 x VBR quality (LAME's default 4) - 5: what LAME 3.100 writes at quality 5 and 7 alike
	lameMethodCBR    = 0x01           // revision 0, method 1 (constant bit rate)
	lameFlagsValue   = 0x14           // ATH type 4, new psychoacoustic model
	lameNoiseShaping = 2              // noise shaping of quality 0 to 6
)

// lameStereoMode is the LAME tag's stereo mode by header channel mode
// (stereo, joint stereo, dual channel, mono).
var lameStereoMode = [4]byte{1, 3, 2, 0}

// InfoFrame returns a Xing "Info" frame with a LAME extension for the
// constant-bit-rate stream s describes, as LAME 3.100 writes it with
// lame_get_lametag_frame for this package's Encoder at the default quality.
// It belongs after the ID3 tag and before the frames.
//
// The frame header is that of the stream's first frame without padding,
// CRC or mode extension (LAME copies the mode extension of its last frame,
// which has no meaning in a frame without audio). As in LAME, the frame
// count is the frames after the Info frame, and the byte count (and the
// music length) includes the Info frame itself. The TOC is LAME's for that
// many frames of one bit rate; delay and padding are in samples per channel
// (EncoderDelay, and DecoderDelay for a stream cut without a flush); the
// music CRC is s.MusicCRC and the tag CRC covers the frame up to it. The
// encoder description (quality, lowpass at the Nyquist frequency, noise
// shaping, ATH) is what LAME writes for NewEncoder at the default quality.
func InfoFrame(s Salvaged, delay, padding int) ([]byte, error) {
	if s.Frames <= 0 {
		return nil, fmt.Errorf("info frame: %w", errNoFrames)
	}
	if delay < 0 || delay > 0xFFF || padding < 0 || padding > 0xFFF {
		return nil, fmt.Errorf("info frame: delay %d or padding %d out of 0-4095", delay, padding)
	}
	h := s.Header
	h[1] |= 0x01  // no CRC
	h[2] &^= 0x02 // no padding
	h[3] &^= 0x30 // no mode extension
	f, err := parseFrameHeader(h)
	if err != nil {
		return nil, fmt.Errorf("info frame: %w", err)
	}
	x := 4 + f.sideInfoLen()
	if x+lameTagEnd > f.size {
		return nil, fmt.Errorf("info frame: a %d-byte frame cannot hold the %d-byte tag", f.size, x+lameTagEnd)
	}
	total := s.Bytes + int64(f.size)
	if s.Frames > math.MaxUint32 || s.Bytes < 0 || total > math.MaxUint32 {
		return nil, fmt.Errorf("info frame: %d frames of %d bytes overflow the tag's 32-bit counts", s.Frames, s.Bytes)
	}

	b := make([]byte, f.size)
	copy(b, h[:])
	t := b[x:]
	copy(t, "Info")
	binary.BigEndian.PutUint32(t[xingFlags:], xingFlagsAll)
	binary.BigEndian.PutUint32(t[xingFrames:], uint32(s.Frames))
	binary.BigEndian.PutUint32(t[xingBytes:], uint32(total))
	cbrTOC((*[100]byte)(t[xingTOC:]), s.Frames, f.kbps)
	binary.BigEndian.PutUint32(t[lameQuality:], lameQualityValue)
	copy(t[lameVersion:], lameEncoder)
	t[lameRevMethod] = lameMethodCBR
	t[lameLowpass] = byte(min(f.sampleRate/200, 255))
	t[lameFlags] = lameFlagsValue
	t[lameABR] = byte(min(f.kbps, 255))
	t[lameDelays] = byte(delay >> 4)
	t[lameDelays+1] = byte(delay<<4 | padding>>8)
	t[lameDelays+2] = byte(padding)
	t[lameMisc] = lameNoiseShaping | lameStereoMode[h[3]>>6]<<2 | lameSourceRate(f.sampleRate)
	binary.BigEndian.PutUint16(t[lamePreset:], uint16(f.kbps))
	binary.BigEndian.PutUint32(t[lameMusicLength:], uint32(total))
	binary.BigEndian.PutUint16(t[lameMusicCRC:], s.MusicCRC)
	binary.BigEndian.PutUint16(t[lameTagCRC:], lameCRC(0, b[:x+lameTagCRC]))
	return b, nil
}

// lameSourceRate is the "non-optimal settings" bit and the source sample
// rate code of the LAME tag's misc byte for an encoder whose input rate is
// rate: LAME calls any input at 32 kHz or less non-optimal.
func lameSourceRate(rate int) byte {
	switch {
	case rate <= 32000:
		return 1 << 5
	case rate == 44100:
		return 1 << 6
	case rate == 48000:
		return 2 << 6
	}
	return 3 << 6
}

// cbrTOC fills toc (its entry 0 stays 0) as LAME's Xing_seek_table does
// for frames frames of kbps each. LAME samples the running bit-rate sum
// into at most 400 slots, halving them (and doubling the frames per slot)
// whenever they fill: for a constant bit rate, slot i holds (i+1) x per x
// kbps, with per the smallest power of two that leaves fewer than 400
// slots. The float32 steps are LAME's, so that the bytes match.
func cbrTOC(toc *[100]byte, frames int64, kbps int) {
	per := int64(1)
	for frames/per >= 400 {
		per *= 2
	}
	slots := frames / per
	sum := float64(float32(frames * int64(kbps)))
	for i := 1; i < len(toc); i++ {
		j := float32(i) / float32(len(toc))
		slot := min(int64(math.Floor(float64(float32(j*float32(slots))))), slots-1)
		act := float64(float32((slot + 1) * per * int64(kbps)))
		toc[i] = byte(min(int(256*act/sum), 255))
	}
}

// crc16Table is the table of LAME's CRC-16 (polynomial 0x8005, reflected,
// initial value 0; CRC-16/ARC).
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// lameCRC returns crc updated with p, as LAME computes the music and tag
// CRCs of its tag.
func lameCRC(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc = crc>>8 ^ crc16Table[byte(crc)^b]
	}
	return crc
}
