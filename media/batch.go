package media

// encodeBatch is how much mixed audio (samples per channel) a recording
// hands LAME at once: four MP3 frames (4 × 576 samples, 288 ms at
// 8 kHz). With hundreds of calls, each encoder's state has left the CPU's
// caches by the time its call's next packet comes; fed a packet at a
// time, every frame was encoded from a cold cache, fed four frames at a
// time, three of them reuse what the first warmed (BenchmarkEncodeMany).
// A crash loses at most this much more audio than LAME itself buffers.
const encodeBatch = 4 * 576

// pcmBatch gathers mixed PCM until a batch is full and hands it to
// encode in one call; flush hands over what it holds.
type pcmBatch struct {
	buf    []int16
	size   int // samples (all channels) in a batch
	encode func([]int16) error
}

func newPCMBatch(channels int, encode func([]int16) error) *pcmBatch {
	size := encodeBatch * channels
	return &pcmBatch{buf: make([]int16, 0, size), size: size, encode: encode}
}

// add takes pcm, encoding each batch as it fills; a whole batch or more
// with none pending goes to encode as it is, uncopied.
func (b *pcmBatch) add(pcm []int16) error {
	if len(b.buf) == 0 && len(pcm) >= b.size {
		return b.encode(pcm)
	}
	for len(pcm) > 0 {
		n := min(len(pcm), b.size-len(b.buf))
		b.buf = append(b.buf, pcm[:n]...)
		pcm = pcm[n:]
		if len(b.buf) == b.size {
			if err := b.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush encodes what the batch holds.
func (b *pcmBatch) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	err := b.encode(b.buf)
	b.buf = b.buf[:0]
	return err
}
