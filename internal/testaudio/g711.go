package testaudio

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
