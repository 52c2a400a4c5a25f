package media

/*
#cgo LDFLAGS: -lbcg729
#include <stdint.h>
#include <bcg729/decoder.h>

// g729_decode decodes one RTP payload (RFC 3551 section 4.5.6): zero or
// more 10-byte speech frames, then at most one 2-byte Annex B SID frame,
// from which bcg729 generates comfort noise. Any other remainder is
// ignored. It writes 80 samples per decoded frame to out, which has room
// for them, and returns the number of frames decoded.
static int g729_decode(bcg729DecoderChannelContextStruct *ctx, const uint8_t *p, int n, int16_t *out) {
	int frames = 0;
	for (; n >= 10; p += 10, n -= 10, frames++) {
		bcg729Decoder(ctx, p, 10, 0, 0, 0, out + 80*frames);
	}
	if (n == 2) {
		bcg729Decoder(ctx, p, 2, 0, 1, 0, out + 80*frames);
		frames++;
	}
	return frames;
}

// g729_conceal writes frames frames of concealment for lost speech to out
// (ITU-T G.729 section 4.4: bcg729's erasure path repeats the last good
// parameters with decaying gains, or goes on with comfort noise after a SID
// frame). bcg729 reads no bit from the stream of an erased frame; it is
// given ten zero bytes rather than NULL all the same.
static void g729_conceal(bcg729DecoderChannelContextStruct *ctx, int frames, int16_t *out) {
	static const uint8_t none[10];
	for (int i = 0; i < frames; i++) {
		bcg729Decoder(ctx, none, 0, 1, 0, 0, out + 80*i);
	}
}
*/
import "C"

import (
	"runtime"
	"slices"
	"unsafe"
)

const (
	g729FrameBytes   = 10 // one 10 ms speech frame
	g729SIDBytes     = 2  // one Annex B SID (comfort noise) frame
	g729FrameSamples = 80
)

// g729Frames returns how many frames g729_decode decodes from n payload
// bytes.
func g729Frames(n int) int {
	f := n / g729FrameBytes
	if n%g729FrameBytes == g729SIDBytes {
		f++
	}
	return f
}

// g729Decoder decodes G.729 and G.729A (the bitstreams are the same) with
// Annex B SID frames, through bcg729. It keeps the codec's state between
// packets and holds C memory until Close.
type g729Decoder struct {
	ctx     *C.bcg729DecoderChannelContextStruct
	cleanup runtime.Cleanup
}

func newG729Decoder() (*g729Decoder, error) {
	ctx := C.initBcg729DecoderChannel()
	if ctx == nil {
		return nil, errG729Init
	}
	d := &g729Decoder{ctx: ctx}
	// A safety net only: the Recording closes its decoders.
	d.cleanup = runtime.AddCleanup(d, func(ctx *C.bcg729DecoderChannelContextStruct) {
		C.closeBcg729DecoderChannel(ctx)
	}, ctx)
	return d, nil
}

// Decode appends 80 samples per 10-byte frame and per 2-byte SID frame of
// payload to dst, with one cgo call. Trailing bytes that are neither are
// ignored; after Close, Decode appends nothing.
func (d *g729Decoder) Decode(dst []int16, payload []byte) []int16 {
	nf := g729Frames(len(payload))
	if d.ctx == nil || nf == 0 {
		return dst
	}
	n := len(dst)
	dst = slices.Grow(dst, nf*g729FrameSamples)[:n+nf*g729FrameSamples]
	got := C.g729_decode(d.ctx, (*C.uint8_t)(unsafe.Pointer(&payload[0])), C.int(len(payload)),
		(*C.int16_t)(unsafe.Pointer(&dst[n])))
	return dst[:n+int(got)*g729FrameSamples]
}

// Samples returns how many samples Decode makes of payload: 80 per frame.
func (d *g729Decoder) Samples(payload []byte) int {
	return g729Frames(len(payload)) * g729FrameSamples
}

// Conceal appends samples samples of concealment, decoding as many erased
// 10 ms frames as they span (the last one cut short) with one cgo call, so
// that the decoder's state follows the loss. After Close it appends
// silence.
func (d *g729Decoder) Conceal(dst []int16, samples int) []int16 {
	if d.ctx == nil || samples <= 0 {
		return appendSilence(dst, samples)
	}
	nf := (samples + g729FrameSamples - 1) / g729FrameSamples
	n := len(dst)
	dst = slices.Grow(dst, nf*g729FrameSamples)[:n+nf*g729FrameSamples]
	C.g729_conceal(d.ctx, C.int(nf), (*C.int16_t)(unsafe.Pointer(&dst[n])))
	return dst[:n+samples]
}

// Close frees the bcg729 context. It is safe to call more than once.
func (d *g729Decoder) Close() {
	if d.ctx == nil {
		return
	}
	d.cleanup.Stop()
	C.closeBcg729DecoderChannel(d.ctx)
	d.ctx = nil
}
