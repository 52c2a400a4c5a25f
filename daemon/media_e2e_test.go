package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// The end-to-end tests of issue 6, "only the call's own audio": SRTP,
// strangers on the RTP ports, a gateway that goes silent, a long hold,
// comfort noise and DTMF.

// sdesKey returns a random SDES inline key (30 bytes: AES-128 master key
// and salt) as raw bytes and base64.
func sdesKey(t *testing.T) ([]byte, string) {
	t.Helper()
	k := make([]byte, 30)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k, base64.StdEncoding.EncodeToString(k)
}

// TestSRTPCall: a CUBE on a secure trunk offers RTP/SAVP with SDES keys;
// the recorder answers RTP/SAVP with a crypto line of its own, decrypts
// both legs and records the right tones; no key reaches the log.
func TestSRTPCall(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	k1, b1 := sdesKey(t)
	k2, b2 := sdesKey(t)
	keys := map[string]string{
		"callid": fmt.Sprintf("srtp-%d@127.0.0.1", time.Now().UnixNano()), "fromtag": "srtp",
		"caller": "5551000", "callee": "5552000", "codecpt": "0", "codecname": "PCMU",
		"suite": "AES_CM_128_HMAC_SHA1_80", "key1": b1, "key2": b2,
	}
	logs := d.sipp("cube-invite-srtp.xml", "t1", keys)
	if !strings.Contains(logs, "ANSWER m=audio") || !strings.Contains(logs, "RTP/SAVP") || !strings.Contains(logs, "CRYPTO a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Errorf("the answer to an SRTP offer is not RTP/SAVP with a crypto line of the offered suite:\n%s", logs)
	}
	keys["totag"] = toTag(t, logs)
	s := d.newSession("t1", keys)
	s.checkLegs("PCMU")
	n := int(sentSeconds * 8000)
	err := testaudio.SendPaced([]testaudio.Stream{
		{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports["1"]}, PT: 0, SSRC: 0x5001, Payload: testaudio.EncodeUlaw(testaudio.Tone(toneLeg1, 8000, n, 12000)),
			SRTP: &testaudio.SRTP{Suite: "AES_CM_128_HMAC_SHA1_80", Key: k1}},
		{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports["2"]}, PT: 0, SSRC: 0x5002, Payload: testaudio.EncodeUlaw(testaudio.Tone(toneLeg2, 8000, n, 12000)),
			SRTP: &testaudio.SRTP{Suite: "AES_CM_128_HMAC_SHA1_80", Key: k2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := s.hangUp()
	if rec.Status != control.RecordingComplete || math.Abs(float64(rec.DurationMS)-sentSeconds*1000) > 200 {
		t.Errorf("SRTP recording: status %s, %d ms; want complete, %.0f ms", rec.Status, rec.DurationMS, sentSeconds*1000)
	}
	exportAndDecode(t, d, rec)
	var shown control.Recording
	d.cliJSON(&shown, "show", rec.ID)
	for _, l := range shown.Legs {
		if l.AuthFailed != 0 || l.Packets < 240 {
			t.Errorf("leg %s: %d packets, %d failed authentication", l.Label, l.Packets, l.AuthFailed)
		}
	}
	for _, k := range []string{b1, b2} {
		if strings.Contains(d.stderr.String(), k) {
			t.Errorf("an SRTP key reached the daemon's log")
		}
	}
}

// TestSRTPOfferWithUnsupportedSuites: an SRTP offer whose crypto suites the
// recorder cannot do gets 488 with a Warning, never a plaintext answer.
func TestSRTPOfferWithUnsupportedSuites(t *testing.T) {
	testaudio.Require(t, "sipp")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	_, b1 := sdesKey(t)
	logs := d.sipp("cube-invite-srtp-refused.xml", "t1", map[string]string{
		"callid": "srtp-refused@127.0.0.1", "fromtag": "bad", "caller": "5551000", "callee": "5552000",
		"codecpt": "0", "codecname": "PCMU", "suite": "AES_192_CM_HMAC_SHA1_80", "key1": b1, "key2": b1})
	if !strings.Contains(logs, " 399 ") || !strings.Contains(strings.ToLower(logs), "crypto suite") {
		t.Errorf("488 without a Warning naming the crypto suites:\n%s", logs)
	}
	if recs := d.recordings(); len(recs) != 0 {
		t.Errorf("a refused SRTP offer left recordings: %+v", recs)
	}
}

// TestStrangerOnTheRTPPorts: while a call is recorded, a stranger floods
// both legs' ports from another port with a new SSRC on every packet. The
// recording keeps its length (within one 20 ms frame) and only the call's
// own tones; the drops are counted per leg. Once with the default strict
// source (the SDP's port), once with latch on (the first source).
func TestStrangerOnTheRTPPorts(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	const seconds, stranger = 3.0, 2500.0 // Hz of the stranger's tone
	for _, strict := range []bool{true, false} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			d := startDaemon(t, daemonOptions{recordUnknown: true, strictSource: strict})
			s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "5551000", callee: "5552000", codec: "PCMU"})
			n := int(seconds * 8000)
			own := []testaudio.Stream{
				{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports["1"]}, PT: 0, SSRC: 0x6001, Payload: testaudio.EncodeUlaw(testaudio.Tone(toneLeg1, 8000, n, 12000))},
				{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports["2"]}, PT: 0, SSRC: 0x6002, Payload: testaudio.EncodeUlaw(testaudio.Tone(toneLeg2, 8000, n, 12000))},
			}
			if strict { // from the ports the INVITE's SDP announced
				own[0].From, own[1].From = 17000, 17002
			}
			flood := make(chan error, 1)
			go func() {
				time.Sleep(300 * time.Millisecond) // the real source speaks first (latch)
				flood <- floodPorts(s.ports["1"], s.ports["2"], 5000, stranger)
			}()
			if err := testaudio.SendPaced(own); err != nil {
				t.Fatal(err)
			}
			if err := <-flood; err != nil {
				t.Fatal(err)
			}
			rec := s.hangUp()
			if math.Abs(float64(rec.DurationMS)-seconds*1000) > 20 {
				t.Errorf("recording lasts %d ms, want %.0f ± 20 (one frame)", rec.DurationMS, seconds*1000)
			}
			out := filepath.Join(t.TempDir(), rec.ID+".mp3")
			d.cli("export", rec.ID, "-o", out)
			checkSignals(t, out, mono, seconds)
			pcm := decode(t, out)
			if p, own := testaudio.Power(pcm, stranger, 8000), testaudio.Power(pcm, toneLeg1, 8000); p > own/1000 {
				t.Errorf("the stranger's %.0f Hz tone is in the recording: power %.2e (own tone %.2e)", stranger, p, own)
			}
			var shown control.Recording
			d.cliJSON(&shown, "show", rec.ID)
			var dropped uint64
			for _, l := range shown.Legs {
				dropped += l.ForeignSource + l.ForeignSSRC
			}
			if dropped < 5000 {
				t.Errorf("legs %+v: %d foreign packets counted, want the stranger's 5000", shown.Legs, dropped)
			}
		})
	}
}

// floodPorts sends n PCMU packets of a tone, alternating between two
// ports, from one socket of its own, each with a new SSRC, as fast as a
// small flood goes (one every 200 µs).
func floodPorts(port1, port2, n int, freq float64) error {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	payload := testaudio.EncodeUlaw(testaudio.Tone(freq, 8000, 160, 12000))
	buf := make([]byte, 0, 200)
	for i := range n {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: uint32(0x7000_0000 + i)}, Payload: payload}
		b, err := p.MarshalTo(buf[:cap(buf)])
		if err != nil {
			return err
		}
		port := port1
		if i%2 == 1 {
			port = port2
		}
		c.WriteToUDP(buf[:b], &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		time.Sleep(200 * time.Microsecond)
	}
	return nil
}

// TestSilentGatewayIsHungUp: a gateway that stops sending RTP and never
// sends BYE: after [rtp] timeout the call is sealed and the gateway gets a
// BYE with a Reason.
func TestSilentGatewayIsHungUp(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true, rtpTimeout: "3s"})
	s, gateway := d.setupAwaitingBye(callSpec{transport: "u1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	s.send("PCMU", 1)
	rec := d.sealed(s.keys["callid"])
	checkByeReason(t, gateway(), 1, `SIP;cause=408;text="no RTP for 3s"`)
	if rec.Status != control.RecordingComplete || math.Abs(float64(rec.DurationMS)-1000) > 200 {
		t.Errorf("recording of the silent call: status %s, %d ms; want complete, 1000 ms", rec.Status, rec.DurationMS)
	}
	if rec.EndReason != "rtp-timeout" {
		t.Errorf("end_reason %q, want rtp-timeout", rec.EndReason)
	}
}

// TestLongHoldIsKeptAsSilence: a 3-minute hold (a re-INVITE with both
// streams inactive, RTP stops) outlasts [rtp] timeout without ending the
// call; on resume the call goes on, and the hold is silence of its real
// length in the recording.
func TestLongHoldIsKeptAsSilence(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel() // three minutes of wall clock, beside the other tests
	d := startDaemon(t, daemonOptions{recordUnknown: true, rtpTimeout: "10s"})
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	s.send("PCMU", 2)
	paused := time.Now()
	hold := func(dir, cseq string) {
		keys := map[string]string{"direction": dir, "holdseq": cseq}
		for k, v := range s.keys {
			keys[k] = v
		}
		if logs := d.sipp("reinvite-direction.xml", "t1", keys); !strings.Contains(logs, "ANSWER a=") {
			t.Fatalf("re-INVITE %s: %s", dir, logs)
		}
	}
	hold("inactive", "102")
	time.Sleep(3 * time.Minute)
	d.liveCall(s.keys["callid"]) // still recording
	hold("sendonly", "103")
	gap := time.Since(paused)
	s.send("PCMU", 2)
	rec := s.hangUp()
	want := 4000 + gap.Milliseconds()
	if rec.Status != control.RecordingComplete || math.Abs(float64(rec.DurationMS-want)) > 300 {
		t.Errorf("recording with a %v hold: status %s, %d ms; want complete, %d ms", gap.Round(time.Millisecond), rec.Status, rec.DurationMS, want)
	}
	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	pcm := decode(t, out)
	mid := pcm[len(pcm)/2-8000 : len(pcm)/2+8000]
	if p := testaudio.Power(mid, toneLeg1, 8000) + testaudio.Power(mid, toneLeg2, 8000); p > 1e-6 {
		t.Errorf("the middle of the hold is not silence: tone power %.2e", p)
	}
	for name, part := range map[string][]int16{"before": pcm[2000:12000], "after": pcm[len(pcm)-12000 : len(pcm)-2000]} {
		if testaudio.Power(part, toneLeg1, 8000) < 1e-3 {
			t.Errorf("the audio %s the hold is missing", name)
		}
	}
}

// TestComfortNoiseAndDTMF: a leg that sends comfort noise (CN) through a
// pause and DTMF as telephone-event: the pause is silence of its length
// (the file is not shortened), no digit is heard or stored.
func TestComfortNoiseAndDTMF(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "u1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	// Per 20 ms: 2 s of tone, 1 s of CN (PT 19) with a DTMF '5' (PT 101)
	// in it, 2 s of tone, 1 s of CN at the end: 6 s.
	tone := testaudio.EncodeUlaw(testaudio.Tone(toneLeg1, 8000, 4*8000, 12000))
	var pkts []rtpPacket
	for i := range 300 {
		switch {
		case i < 100:
			pkts = append(pkts, rtpPacket{pt: 0, payload: tone[i*160 : (i+1)*160]})
		case i < 150:
			pkts = append(pkts, rtpPacket{pt: 19, payload: []byte{60}})
			if i >= 110 && i < 120 { // telephone-event: digit 5, volume 10, growing duration
				pkts = append(pkts, rtpPacket{pt: 101, payload: []byte{5, 10, 0, byte((i - 109) * 160 >> 8)}, sameTick: true})
			}
		case i < 250:
			pkts = append(pkts, rtpPacket{pt: 0, payload: tone[(i-50)*160 : (i-49)*160]})
		default:
			pkts = append(pkts, rtpPacket{pt: 19, payload: []byte{60}})
		}
	}
	if err := sendPackets(s.ports["1"], 0x8001, pkts); err != nil {
		t.Fatal(err)
	}
	rec := s.hangUp()
	if math.Abs(float64(rec.DurationMS)-6000) > 60 {
		t.Errorf("recording with CN lasts %d ms, want 6000", rec.DurationMS)
	}
	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	pcm := decode(t, out)
	// DTMF '5' is 770 Hz + 1336 Hz: neither may be in the recording.
	for _, f := range []float64{770, 1336} {
		if p := testaudio.Power(pcm, f, 8000); p > 1e-6 {
			t.Errorf("DTMF frequency %.0f Hz in the recording: power %.2e", f, p)
		}
	}
	if cn := pcm[int(2.3*8000):int(2.8*8000)]; testaudio.Power(cn, toneLeg1, 8000) > 1e-6 {
		t.Errorf("the CN pause is not silence")
	}
	if strings.Contains(strings.ToLower(d.stderr.String()), "digit") {
		t.Errorf("a DTMF digit reached the daemon's (debug) log")
	}
}

// rtpPacket is one packet of a hand-made stream: sent on its own 20 ms
// tick, or on the previous packet's tick (sameTick: a telephone-event
// beside the audio).
type rtpPacket struct {
	pt       uint8
	payload  []byte
	sameTick bool
}

// sendPackets sends pkts to port in real time, one 20 ms tick each,
// sequence numbers and timestamps running on (a telephone-event carries
// the timestamp of the event's start, 160 samples per tick otherwise).
func sendPackets(port int, ssrc uint32, pkts []rtpPacket) error {
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	tick, seq := 0, uint16(100)
	buf := make([]byte, 0, 1500)
	for i, p := range pkts {
		if i > 0 && !p.sameTick {
			tick++
			time.Sleep(time.Until(start.Add(time.Duration(tick) * 20 * time.Millisecond)))
		}
		ts := uint32(tick * 160)
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: p.payload}
		seq++
		b, err := pkt.MarshalTo(buf[:cap(buf)])
		if err != nil {
			return err
		}
		if _, err := c.Write(buf[:b]); err != nil {
			return fmt.Errorf("send rtp: %w", err)
		}
	}
	return nil
}

// TestStreamAddedMidCall: a re-INVITE offers a third stream (a party
// joins); it is answered on a port of its own and its audio is recorded.
func TestStreamAddedMidCall(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	const third = 2000.0 // Hz on the new stream
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	s.send("PCMU", 1)
	keys := map[string]string{"direction": "sendonly", "holdseq": "102"}
	for k, v := range s.keys {
		keys[k] = v
	}
	d.sipp("reinvite-third-stream.xml", "t1", keys)
	var port3 int
	for _, l := range d.liveCall(s.keys["callid"]).Legs {
		if l.Label == "3" {
			port3 = l.Port
		}
	}
	if port3 == 0 {
		t.Fatalf("the stream offered in the re-INVITE has no leg: %+v", d.liveCall(s.keys["callid"]).Legs)
	}
	n := 2 * 8000
	err := testaudio.SendPaced([]testaudio.Stream{
		{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.ports["1"]}, Conn: s.conns["1"], PT: 0, SSRC: 0x9001, Payload: testaudio.EncodeUlaw(testaudio.Tone(toneLeg1, 8000, n, 12000))},
		{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port3}, PT: 0, SSRC: 0x9003, Payload: testaudio.EncodeUlaw(testaudio.Tone(third, 8000, n, 12000))},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := s.hangUp()
	out := filepath.Join(t.TempDir(), rec.ID+".mp3")
	d.cli("export", rec.ID, "-o", out)
	pcm := decode(t, out)
	tail := pcm[len(pcm)-12000 : len(pcm)-2000]
	if p, noise := testaudio.Power(tail, third, 8000), testaudio.Power(tail, 700, 8000); p < 1e-3 || p < 100*noise {
		t.Errorf("the third stream's %.0f Hz tone is not in the recording: power %.2e (700 Hz %.2e)", third, p, noise)
	}
	var shown control.Recording
	d.cliJSON(&shown, "show", rec.ID)
	if len(shown.Legs) != 3 {
		t.Errorf("recording legs = %+v, want three", shown.Legs)
	}
}
