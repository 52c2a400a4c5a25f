package media

// G.711 (ITU-T G.711, 1988) expands 8-bit µ-law and A-law code words to
// 16-bit linear PCM. The tables are computed once from the expansion formulas
// of the recommendation; a package-level var initialiser keeps them free of
// init() side effects.

var (
	ulawTable = makeTable(ulawExpand)
	alawTable = makeTable(alawExpand)
)

func makeTable(expand func(byte) int16) *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = expand(byte(i))
	}
	return &t
}

// ulawExpand decodes one µ-law code word. The word is stored inverted; after
// inversion bit 7 is the sign, bits 6-4 the segment (exponent) and bits 3-0
// the mantissa. The magnitude is ((mantissa<<3) + 0x84) << exponent, minus
// the bias 0x84.
func ulawExpand(u byte) int16 {
	u = ^u
	exp := (u >> 4) & 0x07
	mant := int32(u & 0x0F)
	mag := ((mant<<3)+0x84)<<exp - 0x84
	if u&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// alawExpand decodes one A-law code word. Even bits are inverted (XOR 0x55);
// then bit 7 set means positive, bits 6-4 are the segment and bits 3-0 the
// mantissa. Segment 0 is linear ((mantissa<<4) + 8); segment s > 0 is
// ((mantissa<<4) + 0x108) << (s-1).
func alawExpand(a byte) int16 {
	a ^= 0x55
	seg := (a >> 4) & 0x07
	mant := int32(a & 0x0F)
	var mag int32
	if seg == 0 {
		mag = mant<<4 + 8
	} else {
		mag = (mant<<4 + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(mag)
	}
	return int16(-mag)
}

// g711Decoder expands G.711 code words through a 256-entry table, one
// sample per byte. It has no state; a lost packet is concealed by silence
// (ITU-T G.711 Appendix I concealment would repeat the last pitch period,
// but silence never adds a wrong sound to a recording).
type g711Decoder struct {
	table *[256]int16
}

// Decode appends the expansion of every byte of payload to dst.
func (d g711Decoder) Decode(dst []int16, payload []byte) []int16 {
	return decodeTable(d.table, dst, payload)
}

// Samples returns len(payload): one sample per byte.
func (g711Decoder) Samples(payload []byte) int { return len(payload) }

// Conceal appends samples zeros.
func (g711Decoder) Conceal(dst []int16, samples int) []int16 {
	return appendSilence(dst, samples)
}

// appendSilence appends n zero samples to dst.
func appendSilence(dst []int16, n int) []int16 {
	k := len(dst)
	dst = growLen(dst, k+max(n, 0))
	clear(dst[k:])
	return dst
}

// decodeTable appends the expansion of every byte of payload to dst.
func decodeTable(t *[256]int16, dst []int16, payload []byte) []int16 {
	n := len(dst)
	dst = growLen(dst, n+len(payload))
	out := dst[n:]
	for i, b := range payload {
		out[i] = t[b]
	}
	return dst
}

// growLen returns s resliced to length n, reallocating only when the
// capacity is too small. Elements beyond the old length are not cleared.
func growLen(s []int16, n int) []int16 {
	if n <= cap(s) {
		return s[:n]
	}
	t := make([]int16, n, n+n/2)
	copy(t, s)
	return t
}
