package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"time"
)

const (
	sampleRate  = 8000
	frame       = 160 // samples (and µ-law bytes) in 20 ms
	payloadPCMU = 0
)

// leg is one RTP stream: where it goes from and to, its SSRC and its
// µ-law audio.
type leg struct {
	from, to *net.UDPAddr
	ssrc     uint32
	audio    []byte
}

// tone is n samples of a sine at freq Hz, at half of full scale.
func tone(freq float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(16000 * math.Sin(2*math.Pi*freq*float64(i)/sampleRate))
	}
	return out
}

// ulaw encodes linear samples to G.711 µ-law.
func ulaw(samples []int16) []byte {
	const bias, clip = 0x84, 32635
	out := make([]byte, len(samples))
	for i, s := range samples {
		x, sign := int(s), 0
		if x < 0 {
			x, sign = -x, 0x80
		}
		x = min(x, clip) + bias
		exp := 7
		for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
			exp--
		}
		out[i] = ^byte(sign | exp<<4 | (x>>(exp+3))&0x0f)
	}
	return out
}

// sendPaced sends the legs side by side, one 20 ms packet of each per
// tick against an absolute schedule, as a gateway does, and returns how
// many packets each leg sent.
func sendPaced(legs []leg) (int, error) {
	conns := make([]*net.UDPConn, len(legs))
	for i, l := range legs {
		c, err := net.DialUDP("udp", l.from, l.to)
		if err != nil {
			return 0, fmt.Errorf("rtp from %s to %s: %w", l.from, l.to, err)
		}
		defer c.Close()
		conns[i] = c
	}
	packets := len(legs[0].audio) / frame
	start := time.Now()
	for n := range packets {
		for i, l := range legs {
			if _, err := conns[i].Write(packet(l, n)); err != nil {
				return n, fmt.Errorf("rtp to %s: %w", l.to, err)
			}
		}
		time.Sleep(time.Until(start.Add(time.Duration(n+1) * 20 * time.Millisecond)))
	}
	return packets, nil
}

// packet is the leg's n-th RTP packet: a 12-byte header (version 2,
// marker on the first) and 20 ms of audio.
func packet(l leg, n int) []byte {
	p := make([]byte, 12, 12+frame)
	p[0] = 0x80
	p[1] = payloadPCMU
	if n == 0 {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], uint16(1000+n))
	binary.BigEndian.PutUint32(p[4:], uint32(n*frame))
	binary.BigEndian.PutUint32(p[8:], l.ssrc)
	return append(p, l.audio[n*frame:(n+1)*frame]...)
}
