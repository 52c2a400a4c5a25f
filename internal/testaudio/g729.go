package testaudio

/*
#cgo LDFLAGS: -lbcg729
#include <stdint.h>
#include <stdlib.h>
#include <malloc.h>
#include <bcg729/encoder.h>

// g729_encode encodes frames 80-sample frames from in to 10 bytes each in
// out, with VAD/DTX (Annex B) off. It returns the bytes written, or -1 when
// bcg729 cannot create a context or emits a frame of another size.
static int g729_encode(const int16_t *in, int frames, uint8_t *out) {
	bcg729EncoderChannelContextStruct *ctx = initBcg729EncoderChannel(0);
	if (ctx == NULL) {
		return -1;
	}
	int n = 0;
	for (int i = 0; i < frames; i++) {
		uint8_t len = 0;
		bcg729Encoder(ctx, in + 80*i, out + n, &len);
		if (len != 10) {
			n = -1;
			break;
		}
		n += len;
	}
	closeBcg729EncoderChannel(ctx);
	return n;
}

static size_t malloc_in_use(void) {
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}
*/
import "C"

import "unsafe"

// EncodeG729 encodes linear 8 kHz samples to G.729A with bcg729, Annex B
// off: one 10-byte frame per 10 ms (80 samples), so a 20 ms RTP packet
// carries 20 bytes. A trailing partial frame is padded with silence. Each
// call starts a fresh encoder.
func EncodeG729(samples []int16) []byte {
	frames := (len(samples) + 79) / 80
	if frames == 0 {
		return nil
	}
	in := make([]int16, frames*80)
	copy(in, samples)
	out := make([]byte, frames*10)
	n := C.g729_encode((*C.int16_t)(unsafe.Pointer(&in[0])), C.int(frames), (*C.uint8_t)(unsafe.Pointer(&out[0])))
	if n < 0 {
		panic("testaudio: bcg729 encoder failed")
	}
	return out[:n]
}

// MallocInUse returns the bytes the C heap (glibc malloc) has handed out and
// not yet freed, to check that cgo code frees what it allocates. The Go heap
// is not included.
func MallocInUse() int {
	return int(C.malloc_in_use())
}
