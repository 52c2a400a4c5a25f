package codec

// The G.711 encoders look up each sample, by its top bits, in a table
// built once from the ITU-T G.711 segment rules: µ-law on 14 bits (bias
// 33, clipped at 8158), A-law on 13 bits.
var (
	ulawTable [1 << 14]byte
	alawTable [1 << 13]byte
)

func init() {
	for i := range ulawTable {
		ulawTable[i] = ulaw14(int(int16(uint16(i) << 2)))
	}
	for i := range alawTable {
		alawTable[i] = alaw13(int(int16(uint16(i) << 3)))
	}
}

// ulaw14 encodes a linear sample (16-bit scale, low two bits ignored).
func ulaw14(s int) byte {
	const bias, clip = 0x84, 32635
	sign := 0
	if s < 0 {
		s = -s
		sign = 0x80
	}
	s = min(s, clip) + bias
	exp := 7
	for mask := 0x4000; s&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (s >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

// alaw13 encodes a linear sample (16-bit scale, low three bits ignored).
func alaw13(s int) byte {
	x := s >> 3
	sign := 0x80
	if x < 0 {
		x = -x - 1
		sign = 0
	}
	x = min(x, 0xFFF)
	var b int
	if x < 32 {
		b = x >> 1
	} else {
		exp := 1
		for v := x >> 5; v > 1; v >>= 1 {
			exp++
		}
		b = exp<<4 | (x>>exp)&0x0F
	}
	return byte(b|sign) ^ 0x55
}

// EncodeUlaw encodes linear samples to G.711 µ-law.
func EncodeUlaw(samples []int16) []byte {
	out := make([]byte, len(samples))
	for i, s := range samples {
		out[i] = ulawTable[uint16(s)>>2]
	}
	return out
}

// EncodeAlaw encodes linear samples to G.711 A-law.
func EncodeAlaw(samples []int16) []byte {
	out := make([]byte, len(samples))
	for i, s := range samples {
		out[i] = alawTable[uint16(s)>>3]
	}
	return out
}

// DecodeUlaw decodes G.711 µ-law to linear samples.
func DecodeUlaw(b []byte) []int16 {
	out := make([]int16, len(b))
	for i, c := range b {
		c = ^c
		mant := int(c & 0x0F)
		exp := int(c>>4) & 7
		v := ((mant << 3) + 0x84) << exp
		v -= 0x84
		if c&0x80 != 0 {
			v = -v
		}
		out[i] = int16(v)
	}
	return out
}

// DecodeAlaw decodes G.711 A-law to linear samples.
func DecodeAlaw(b []byte) []int16 {
	out := make([]int16, len(b))
	for i, c := range b {
		c ^= 0x55
		mant := int(c & 0x0F)
		exp := int(c>>4) & 7
		var v int
		if exp == 0 {
			v = mant<<4 + 8
		} else {
			v = (mant<<4 + 0x108) << (exp - 1)
		}
		if c&0x80 == 0 {
			v = -v
		}
		out[i] = int16(v)
	}
	return out
}
