// Package mp3 decodes a recording the simulator exported, with LAME's own
// decoder (hip, in libmp3lame, which the recorder already links for
// encoding): the ID3v2 tag is skipped, the MPEG audio frames decoded to
// 16-bit samples per channel.
package mp3

/*
#cgo LDFLAGS: -lmp3lame
#include <stdlib.h>
#include <lame/lame.h>

// sim_decode_frame decodes at most one frame of in (len bytes, 0 to drain
// what hip holds) into l and r, and reports the stream's channels and
// sample rate once a header has been read, and the encoder's delay and
// padding once the LAME Info frame has (-1 without one).
static int sim_decode_frame(hip_t hip, unsigned char *in, size_t len, short *l, short *r,
                            int *channels, int *rate, int *delay, int *padding) {
	mp3data_struct md = {0};
	int d = -1, p = -1;
	int n = hip_decode1_headersB(hip, in, len, l, r, &md, &d, &p);
	if (md.header_parsed) {
		*channels = md.stereo;
		*rate = md.samplerate;
	}
	if (d >= 0) {
		*delay = d;
		*padding = p;
	}
	return n;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Audio is decoded audio: one slice of samples per channel.
type Audio struct {
	Rate     int
	Channels [][]int16
}

// Seconds is the audio's length.
func (a Audio) Seconds() float64 {
	if a.Rate == 0 || len(a.Channels) == 0 {
		return 0
	}
	return float64(len(a.Channels[0])) / float64(a.Rate)
}

// maxFrameSamples bounds the samples per channel hip returns for a frame
// (1,152 for MPEG-1; it may hand back what it buffered, so keep room).
const maxFrameSamples = 8192

// Decode decodes a whole MP3 file.
func Decode(file []byte) (Audio, error) {
	data := skipID3v2(file)
	if len(data) == 0 {
		return Audio{}, errors.New("mp3: no audio after the tag")
	}
	hip := C.hip_decode_init()
	if hip == nil {
		return Audio{}, errors.New("mp3: hip_decode_init failed")
	}
	defer C.hip_decode_exit(hip)
	in := C.CBytes(data)
	defer C.free(in)
	pcm := (*C.short)(C.malloc(C.size_t(2 * maxFrameSamples * 2)))
	defer C.free(unsafe.Pointer(pcm))
	l, r := pcm, (*C.short)(unsafe.Add(unsafe.Pointer(pcm), 2*maxFrameSamples))
	var (
		channels, rate C.int
		delay, padding C.int = -1, -1
		left, right    []int16
	)
	// The first call hands hip the whole file; later ones take a frame
	// each from what it holds. A frame may yield nothing (the LAME Info
	// frame, a frame waiting for its bit reservoir), so the end is a few
	// empty calls in a row.
	for call, empty := 0, 0; empty < 3; call++ {
		length := C.size_t(0)
		if call == 0 {
			length = C.size_t(len(data))
		}
		n := int(C.sim_decode_frame(hip, (*C.uchar)(in), length, l, r, &channels, &rate, &delay, &padding))
		if n < 0 {
			return Audio{}, fmt.Errorf("mp3: decoding failed after %d samples", len(left))
		}
		if n == 0 {
			empty++
			continue
		}
		empty = 0
		left = append(left, unsafe.Slice((*int16)(unsafe.Pointer(l)), n)...)
		right = append(right, unsafe.Slice((*int16)(unsafe.Pointer(r)), n)...)
	}
	if rate == 0 || len(left) == 0 {
		return Audio{}, errors.New("mp3: no MPEG audio frame found")
	}
	if delay >= 0 {
		left, right = trim(left, int(delay), int(padding)), trim(right, int(delay), int(padding))
	}
	a := Audio{Rate: int(rate), Channels: [][]int16{left}}
	if channels == 2 {
		a.Channels = append(a.Channels, right)
	}
	return a, nil
}

// decoderDelay is what LAME's decoder adds to the encoder's delay that the
// Info frame gives (528 samples of the synthesis filter, plus one).
const decoderDelay = 528 + 1

// trim cuts the encoder's delay and padding, as the Info frame gives them,
// off the decoded samples, so that the audio is as long as what was
// encoded.
func trim(s []int16, delay, padding int) []int16 {
	head := min(delay+decoderDelay, len(s))
	s = s[head:]
	tail := max(padding-decoderDelay, 0)
	return s[:max(len(s)-tail, 0)]
}

// skipID3v2 returns file after its ID3v2 tag, if it has one.
func skipID3v2(file []byte) []byte {
	if len(file) < 10 || string(file[:3]) != "ID3" {
		return file
	}
	size := int(file[6]&0x7f)<<21 | int(file[7]&0x7f)<<14 | int(file[8]&0x7f)<<7 | int(file[9]&0x7f)
	end := 10 + size
	if file[5]&0x10 != 0 { // footer present
		end += 10
	}
	if end > len(file) {
		return nil
	}
	return file[end:]
}
