package testaudio

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Stream is one RTP leg to send: a payload type, an SSRC and the encoded
// audio, cut into 20 ms packets.
type Stream struct {
	To      *net.UDPAddr
	PT      uint8
	SSRC    uint32
	Payload []byte // G.711 bytes (one per sample) or G.729 frames (EncodeG729)
	// PacketBytes is the payload of one 20 ms packet: 0 means 160 (G.711);
	// G.729 needs 20.
	PacketBytes int
	// From is the local port to send from (the port the gateway's SDP
	// announced, for a recorder that takes RTP only from there); 0 for any.
	From int
	// Conn, when set, is the socket to send from (kept open by the caller
	// for the whole call, so that no other process takes its port between
	// streams); From is then ignored.
	Conn *net.UDPConn
	// SRTP, when set, encrypts the stream's packets with its SDES key.
	SRTP *SRTP
}

// SendPaced sends the streams side by side over fresh UDP sockets, one
// 20 ms packet per stream per tick, paced in real time against an absolute
// schedule, as a gateway would. It returns after the last packet.
func SendPaced(streams []Stream) error {
	const samplesPerPacket = 160 // 20 ms at 8 kHz, the RTP timestamp step
	send := make([]func([]byte) error, len(streams))
	crypt := make([]*srtp.Context, len(streams))
	for i, s := range streams {
		if s.SRTP != nil {
			var err error
			if crypt[i], err = s.SRTP.encrypter(); err != nil {
				return err
			}
		}
		if s.Conn != nil {
			conn, to := s.Conn, s.To
			send[i] = func(p []byte) error { _, err := conn.WriteToUDP(p, to); return err }
			continue
		}
		var from *net.UDPAddr
		if s.From != 0 {
			from = &net.UDPAddr{IP: s.To.IP, Port: s.From}
		}
		c, err := net.DialUDP("udp", from, s.To)
		if err != nil {
			return fmt.Errorf("dial rtp %s: %w", s.To, err)
		}
		defer c.Close()
		send[i] = func(p []byte) error { _, err := c.Write(p); return err }
	}
	start := time.Now()
	buf := make([]byte, 0, 1500)
	for n := 0; ; n++ {
		sent := false
		for i, s := range streams {
			size := s.PacketBytes
			if size <= 0 {
				size = samplesPerPacket
			}
			off := n * size
			if off >= len(s.Payload) {
				continue
			}
			end := min(off+size, len(s.Payload))
			p := rtp.Packet{
				Header: rtp.Header{
					Version:        2,
					Marker:         n == 0,
					PayloadType:    s.PT,
					SequenceNumber: uint16(1000 + n),
					Timestamp:      uint32(50000 + n*samplesPerPacket),
					SSRC:           s.SSRC,
				},
				Payload: s.Payload[off:end],
			}
			b, err := p.Header.MarshalTo(buf[:cap(buf)])
			if err != nil {
				return fmt.Errorf("marshal rtp: %w", err)
			}
			pkt := append(buf[:b], p.Payload...)
			if crypt[i] != nil {
				if pkt, err = crypt[i].EncryptRTP(nil, pkt, nil); err != nil {
					return fmt.Errorf("srtp: %w", err)
				}
			}
			if err := send[i](pkt); err != nil {
				return fmt.Errorf("send rtp to %s: %w", s.To, err)
			}
			sent = true
		}
		if !sent {
			return nil
		}
		time.Sleep(time.Until(start.Add(time.Duration(n+1) * 20 * time.Millisecond)))
	}
}
