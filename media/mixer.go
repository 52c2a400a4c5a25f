package media

// mixChunk is the most samples per channel mixed in one step (144 ms); a
// long gap is emitted as silence in chunks of this size. It bounds what
// each leg's timeline and the mixer's buffer hold beyond the reorder
// window, for every call: 4608 cost about 20 KB more a call, for nothing
// (the batches LAME gets are of their own size, batch.go).
const mixChunk = 1152

// mixer emits the audio of all legs in order: it mixes the timelines'
// buffered samples from position emitted up to a target position and hands
// the PCM (interleaved when stereo) to sink, as far as the mask keeps it
// (the recording's On Demand windows and PCI pauses: see mask). It starts
// at the first audio of the recording, which need not be position 0 (a leg
// is placed by its least delayed packets, which may put its first audio
// before the arrival of the first packet, the origin).
type mixer struct {
	stereo  bool
	reorder int64 // samples held back behind the newest audio for late packets
	started bool
	start   int64 // position of the first sample emitted
	emitted int64 // position of the next sample to emit; noPos before the start

	tracks []*timeline // in leg order
	left   int         // stereo: index of the left track, -1 for none

	mask mask // what of the emitted audio goes to sink

	srcs [][]int16
	pcm  []int16
	sink func(pcm []int16) error
	err  error // first sink error; audio after it is dropped
}

// newMixer returns a mixer that has not started; gated, it drops all audio
// until its mask is opened.
func newMixer(stereo bool, reorder int64, gated bool, sink func([]int16) error) mixer {
	return mixer{stereo: stereo, reorder: reorder, emitted: noPos, left: -1, mask: newMask(gated), sink: sink}
}

// begin starts the mixer at position start.
func (m *mixer) begin(start int64) {
	m.started, m.start, m.emitted = true, start, start
}

// samples returns how many samples per channel have gone to sink (or
// would have, after a sink error): the audio the mask kept or silenced.
func (m *mixer) samples() int64 { return m.mask.file }

// emitTo mixes and emits every sample before target.
func (m *mixer) emitTo(target int64) {
	for m.started && m.emitted < target {
		n := int(min(target-m.emitted, mixChunk))
		m.emit(m.mask.cut(m.emitted, n), n)
		for _, t := range m.tracks {
			t.consume(n)
		}
		m.emitted += int64(n)
	}
}

// emit hands to sink the n samples per channel from the emission position
// as the mask's pieces say: kept pieces as mixed, silenced ones as zeros,
// dropped ones not at all; each run of pieces not dropped in one call.
// Audio that is silenced or dropped whole is not even mixed.
func (m *mixer) emit(pieces []piece, n int) {
	if m.err != nil {
		return
	}
	keep, some := false, false
	for _, p := range pieces {
		keep = keep || p.act == actKeep
		some = some || p.act != actDrop
	}
	if !some {
		return
	}
	ch := 1
	if m.stereo {
		ch = 2
	}
	var pcm []int16
	if keep {
		pcm = m.mix(n)
	} else {
		m.pcm = growLen(m.pcm, ch*n)
		pcm = m.pcm
		clear(pcm)
	}
	from, off := -1, 0 // the run to hand over begins at from; -1 for none
	for _, p := range pieces {
		switch p.act {
		case actDrop:
			if from >= 0 {
				if m.err = m.sink(pcm[from*ch : off*ch]); m.err != nil {
					return
				}
				from = -1
			}
		case actSilence:
			clear(pcm[off*ch : (off+p.n)*ch])
			fallthrough
		default:
			if from < 0 {
				from = off
			}
		}
		off += p.n
	}
	if from >= 0 {
		m.err = m.sink(pcm[from*ch : off*ch])
	}
}

// mix returns n samples per channel of the tracks' pending audio.
func (m *mixer) mix(n int) []int16 {
	m.srcs = m.srcs[:0]
	if !m.stereo {
		for _, t := range m.tracks {
			m.srcs = append(m.srcs, t.pending(n))
		}
		m.pcm = mixMono(growLen(m.pcm, n), m.srcs)
		return m.pcm
	}
	var left []int16
	for i, t := range m.tracks {
		if i == m.left {
			left = t.pending(n)
		} else {
			m.srcs = append(m.srcs, t.pending(n))
		}
	}
	m.pcm = mixStereo(growLen(m.pcm, 2*n), left, m.srcs)
	return m.pcm
}

// mixMono fills dst with the saturating sum of srcs. A source shorter than
// dst is silent for the rest.
func mixMono(dst []int16, srcs [][]int16) []int16 {
	clear(dst)
	for _, s := range srcs {
		s = s[:min(len(s), len(dst))]
		for i, v := range s {
			dst[i] = sat(int32(dst[i]) + int32(v))
		}
	}
	return dst
}

// mixStereo fills dst (interleaved L,R; len(dst)/2 frames) with left on the
// left channel and the saturating sum of others on the right. Sources
// shorter than the frame count are silent for the rest.
func mixStereo(dst []int16, left []int16, others [][]int16) []int16 {
	clear(dst)
	n := len(dst) / 2
	left = left[:min(len(left), n)]
	for i, v := range left {
		dst[2*i] = v
	}
	for _, s := range others {
		s = s[:min(len(s), n)]
		for i, v := range s {
			dst[2*i+1] = sat(int32(dst[2*i+1]) + int32(v))
		}
	}
	return dst
}

// sat clamps v to the int16 range.
func sat(v int32) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}
