package media

/*
#cgo LDFLAGS: -lmp3lame
#include <stdlib.h>
#include <lame/lame.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

var errEncoderClosed = errors.New("encoder closed")

// Encoder is a LAME 3.100 encoder for this package's one output format:
// MPEG-2.5 Layer III, 8000 Hz in and out, 32 kbps CBR, with a LAME/Info tag
// (its placeholder is the first frame of the output; LAMETag returns the real
// one after Flush) and without ID3 tags. It is not safe for concurrent use.
type Encoder struct {
	gf       *C.lame_global_flags
	channels int
	flushed  bool
	out      []byte
	tag      []byte
	cleanup  runtime.Cleanup
}

// NewEncoder returns an encoder for channels (1 or 2; stereo input is
// interleaved) at LAME quality 0 (best, slowest) to 9.
func NewEncoder(channels, quality int) (*Encoder, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("new encoder: %d channels, want 1 or 2", channels)
	}
	if quality < 0 || quality > 9 {
		return nil, fmt.Errorf("new encoder: quality %d out of 0-9", quality)
	}
	gf := C.lame_init()
	if gf == nil {
		return nil, errors.New("new encoder: lame_init failed")
	}
	mode := C.MPEG_mode(C.MONO)
	if channels == 2 {
		mode = C.MPEG_mode(C.JOINT_STEREO)
	}
	C.lame_set_num_channels(gf, C.int(channels))
	C.lame_set_in_samplerate(gf, sampleRate)
	C.lame_set_out_samplerate(gf, sampleRate)
	C.lame_set_mode(gf, mode)
	C.lame_set_VBR(gf, C.vbr_mode(C.vbr_off))
	C.lame_set_brate(gf, 32)
	C.lame_set_quality(gf, C.int(quality))
	C.lame_set_bWriteVbrTag(gf, 1)
	C.lame_set_write_id3tag_automatic(gf, 0)
	if rc := C.lame_init_params(gf); rc < 0 {
		C.lame_close(gf)
		return nil, fmt.Errorf("new encoder: lame_init_params: %d", int(rc))
	}
	// MPEG-2.5 is the only MPEG version with 8 kHz.
	if sr, br := C.lame_get_out_samplerate(gf), C.lame_get_brate(gf); sr != sampleRate || br != 32 {
		C.lame_close(gf)
		return nil, fmt.Errorf("new encoder: lame chose %d Hz %d kbps, want 8000 Hz 32 kbps", int(sr), int(br))
	}
	e := &Encoder{gf: gf, channels: channels}
	e.cleanup = runtime.AddCleanup(e, func(gf *C.lame_global_flags) { C.lame_close(gf) }, gf)
	return e, nil
}

// Encode encodes pcm (interleaved L,R when stereo) and returns the MPEG data
// LAME produced, which may be empty. The slice is valid until the next call.
func (e *Encoder) Encode(pcm []int16) ([]byte, error) {
	out, err := e.EncodeTo(e.out[:0], pcm)
	if cap(out) > cap(e.out) {
		e.out = out[:0]
	}
	return out, err
}

// EncodeTo is Encode into out's array, grown when it is too small for
// LAME's worst case: out is the caller's, so that encoders used in turn
// can share one buffer instead of each keeping its own (10 KB at a batch of
// four frames).
func (e *Encoder) EncodeTo(out []byte, pcm []int16) ([]byte, error) {
	if e.gf == nil || e.flushed {
		return nil, fmt.Errorf("encode: %w", errEncoderClosed)
	}
	if len(pcm)%e.channels != 0 {
		return nil, fmt.Errorf("encode: %d samples for %d channels", len(pcm), e.channels)
	}
	n := len(pcm) / e.channels
	if n == 0 {
		return out[:0], nil
	}
	if size := n*5/4 + 7200; cap(out) < size { // lame.h's worst case
		out = make([]byte, size)
	}
	out = out[:cap(out)]
	in := (*C.short)(unsafe.Pointer(&pcm[0]))
	var rc C.int
	if e.channels == 1 {
		rc = C.lame_encode_buffer(e.gf, in, in, C.int(n), (*C.uchar)(&out[0]), C.int(len(out)))
	} else {
		rc = C.lame_encode_buffer_interleaved(e.gf, in, C.int(n), (*C.uchar)(&out[0]), C.int(len(out)))
	}
	if rc < 0 {
		return nil, fmt.Errorf("encode: lame_encode_buffer: %d", int(rc))
	}
	return out[:rc], nil
}

// Flush encodes the samples LAME still buffers (padding the last frame) and
// returns the final MPEG data. Encode fails after Flush.
func (e *Encoder) Flush() ([]byte, error) {
	if e.gf == nil || e.flushed {
		return nil, fmt.Errorf("flush: %w", errEncoderClosed)
	}
	e.flushed = true
	out := e.outBuf(7200)
	rc := C.lame_encode_flush(e.gf, (*C.uchar)(&out[0]), C.int(len(out)))
	if rc < 0 {
		return nil, fmt.Errorf("flush: lame_encode_flush: %d", int(rc))
	}
	buf := make([]byte, 2048)
	size := C.lame_get_lametag_frame(e.gf, (*C.uchar)(&buf[0]), C.size_t(len(buf)))
	if int(size) > len(buf) {
		buf = make([]byte, int(size))
		size = C.lame_get_lametag_frame(e.gf, (*C.uchar)(&buf[0]), C.size_t(len(buf)))
	}
	e.tag = buf[:min(int(size), len(buf))]
	return out[:rc], nil
}

// LAMETag returns the LAME/Info tag frame (the first frame of the file,
// replacing the placeholder LAME wrote there). It is nil before Flush.
func (e *Encoder) LAMETag() []byte {
	return e.tag
}

// Delay returns LAME's encoder delay: the samples per channel that precede
// the first input sample in the encoded stream (a decoder adds its own
// DecoderDelay). It is EncoderDelay at this package's settings, and 0 after
// Close.
func (e *Encoder) Delay() int {
	if e.gf == nil {
		return 0
	}
	return int(C.lame_get_encoder_delay(e.gf))
}

// Close frees the LAME state. It is safe to call more than once.
func (e *Encoder) Close() {
	if e.gf == nil {
		return
	}
	e.cleanup.Stop()
	C.lame_close(e.gf)
	e.gf = nil
}

func (e *Encoder) outBuf(n int) []byte {
	if cap(e.out) < n {
		e.out = make([]byte, n)
	}
	return e.out[:n]
}
