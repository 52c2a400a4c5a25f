// Package g711 encodes and decodes ITU-T G.711 µ-law and A-law: the
// simulator's payloads and the tests' signals share it. The encoders work
// on 16-bit samples (µ-law with the usual bias of 0x84 and clipping at
// 32635, A-law on the top 13 bits).
package g711

// EncodeUlaw encodes linear samples to G.711 µ-law (ITU-T G.711, with the
// usual bias of 0x84 and clipping at 32635).
func EncodeUlaw(samples []int16) []byte {
	out := make([]byte, len(samples))
	for i, s := range samples {
		out[i] = ulaw(s)
	}
	return out
}

func ulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	x := int(s)
	sign := 0
	if x < 0 {
		x = -x
		sign = 0x80
	}
	if x > clip {
		x = clip
	}
	x += bias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

// EncodeAlaw encodes linear samples to G.711 A-law.
func EncodeAlaw(samples []int16) []byte {
	out := make([]byte, len(samples))
	for i, s := range samples {
		out[i] = alaw(s)
	}
	return out
}

func alaw(s int16) byte {
	x := int(s) >> 3 // A-law works on 13 bits
	sign := 0x80
	if x < 0 {
		x = -x - 1
		sign = 0
	}
	if x > 0xFFF {
		x = 0xFFF
	}
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
