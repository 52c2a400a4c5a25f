package codec

/*
#cgo LDFLAGS: -lbcg729
#include <stdint.h>
#include <bcg729/encoder.h>

// sim_g729_encode encodes 20 ms (160 samples) into two 10-byte G.729A
// frames at out and returns the bytes written, or -1 when bcg729 emits a
// frame of another size (it does not with VAD off).
static int sim_g729_encode(bcg729EncoderChannelContextStruct *ctx, const int16_t *in, uint8_t *out) {
	int n = 0;
	for (int i = 0; i < 2; i++) {
		uint8_t len = 0;
		bcg729Encoder(ctx, in + 80*i, out + n, &len);
		if (len != 10) {
			return -1;
		}
		n += len;
	}
	return n;
}
*/
import "C"

import "unsafe"

// G729Bytes is the payload of one 20 ms G.729A packet: two 10-byte frames.
const G729Bytes = 20

// newG729Encoder starts a bcg729 encoder with VAD/DTX (Annex B) off, as
// the offer's annexb=no says; done frees it.
func newG729Encoder() (encode func([]int16) []byte, done func()) {
	ctx := C.initBcg729EncoderChannel(0)
	if ctx == nil {
		panic("codec: bcg729 could not start an encoder")
	}
	encode = func(pcm []int16) []byte {
		if len(pcm) != 160 {
			panic("codec: G.729 packets are 160 samples")
		}
		out := make([]byte, G729Bytes)
		n := C.sim_g729_encode(ctx, (*C.int16_t)(unsafe.Pointer(&pcm[0])), (*C.uint8_t)(unsafe.Pointer(&out[0])))
		if n != G729Bytes {
			panic("codec: bcg729 emitted a frame that is not 10 bytes")
		}
		return out
	}
	return encode, func() { C.closeBcg729EncoderChannel(ctx) }
}
