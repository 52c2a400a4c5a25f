package siprec

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

var (
	pcmu  = Format{PT: 0, Name: "PCMU", Rate: 8000, Channels: 1}
	pcma  = Format{PT: 8, Name: "PCMA", Rate: 8000, Channels: 1}
	te101 = Format{PT: 101, Name: "telephone-event", Rate: 8000, Channels: 1, Fmtp: "0-16"}
	cn19  = Format{PT: 19, Name: "CN", Rate: 8000, Channels: 1}
	g729  = Format{PT: 18, Name: "G729", Rate: 8000, Channels: 1, Fmtp: "annexb=no"}
	cn13  = Format{PT: 13, Name: "CN", Rate: 8000, Channels: 1}
)

func TestParseSDPSamples(t *testing.T) {
	cube := netip.MustParseAddr("10.10.1.20")
	tests := []struct {
		file string
		want []MediaStream
	}{
		{file: "cisco/cube-invite.sip", want: []MediaStream{
			{Index: 0, Kind: "audio", Label: "1", Addr: cube, Port: 17020, Proto: "RTP/AVP", Direction: "sendonly", Formats: []Format{pcmu, te101, cn19}, Ptime: 20},
			{Index: 1, Kind: "audio", Label: "2", Addr: cube, Port: 17022, Proto: "RTP/AVP", Direction: "sendonly", Formats: []Format{pcmu, te101, cn19}, Ptime: 20},
		}},
		{file: "cisco/cube-video.sip", want: []MediaStream{
			{Index: 0, Kind: "audio", Label: "1", Addr: cube, Port: 17030, Proto: "RTP/AVP", Direction: "sendonly", Formats: []Format{g729, te101, cn13}, Ptime: 20},
			{Index: 1, Kind: "audio", Label: "2", Addr: cube, Port: 17032, Proto: "RTP/AVP", Direction: "sendonly", Formats: []Format{g729, te101, cn13}, Ptime: 20},
			{Index: 2, Kind: "video", Label: "3", Addr: cube, Port: 17034, Proto: "RTP/AVP", Direction: "sendonly",
				Formats: []Format{{PT: 126, Name: "H264", Rate: 90000, Channels: 1, Fmtp: "profile-level-id=42801F;packetization-mode=1"}}},
			{Index: 3, Kind: "video", Label: "4", Addr: cube, Port: 17036, Proto: "RTP/AVP", Direction: "sendonly",
				Formats: []Format{{PT: 126, Name: "H264", Rate: 90000, Channels: 1, Fmtp: "profile-level-id=42801F;packetization-mode=1"}}},
		}},
		{file: "cisco/cube-reinvite-hold.sip", want: []MediaStream{
			{Index: 0, Kind: "audio", Label: "1", Addr: cube, Port: 17020, Proto: "RTP/AVP", Direction: "sendonly", Formats: []Format{pcmu, te101, cn19}, Ptime: 20},
			{Index: 1, Kind: "audio", Label: "2", Addr: cube, Port: 17022, Proto: "RTP/AVP", Direction: "inactive", Formats: []Format{pcmu, te101, cn19}, Ptime: 20},
		}},
		{file: "acme/acme-draft.sip", want: []MediaStream{
			{Index: 0, Kind: "audio", Label: "16777227", Addr: netip.MustParseAddr("192.0.2.10"), Port: 20000, Proto: "RTP/AVP", Direction: "sendonly",
				Formats: []Format{pcma, pcmu, {PT: 101, Name: "telephone-event", Rate: 8000, Channels: 1}}},
			{Index: 1, Kind: "audio", Label: "16777228", Addr: netip.MustParseAddr("192.0.2.10"), Port: 20002, Proto: "RTP/AVP", Direction: "sendonly",
				Formats: []Format{pcma, pcmu, {PT: 101, Name: "telephone-event", Rate: 8000, Channels: 1}}},
		}},
		{file: "broadworks/broadworks.sip", want: []MediaStream{
			{Index: 0, Kind: "audio", Label: "mixed", Addr: netip.MustParseAddr("198.51.100.7"), Port: 40000, Proto: "RTP/AVP", Direction: "sendrecv",
				Formats: []Format{{PT: 9, Name: "G722", Rate: 8000, Channels: 1}, pcmu, {PT: 101, Name: "telephone-event", Rate: 8000, Channels: 1}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ct, raw := sampleBody(t, tt.file)
			b, err := SplitBody(ct, raw)
			if err != nil {
				t.Fatalf("SplitBody: %v", err)
			}
			got, err := ParseSDP(b.SDP)
			if err != nil {
				t.Fatalf("ParseSDP: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseSDP =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseSDPErrors(t *testing.T) {
	tests := []struct {
		name   string
		sdp    string
		status int
	}{
		{name: "video only", sdp: "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5000 RTP/AVP 96\r\n", status: 488},
		{name: "no m-line", sdp: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n", status: 488},
		{name: "garbage", sdp: "\x00\x01hello", status: 488},
		{name: "short m-line", sdp: "v=0\r\nm=audio 5000\r\n", status: 400},
		{name: "bad port", sdp: "v=0\r\nm=audio 99999 RTP/AVP 0\r\n", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSDP([]byte(tt.sdp))
			if code, _ := statusFor(err); err == nil || code != tt.status {
				t.Fatalf("ParseSDP error %v, want status %d", err, tt.status)
			}
		})
	}
}

func TestParseSDPLenient(t *testing.T) {
	// LF line ends, unknown and malformed lines, IPv6, session-level
	// direction, a port with a count, a non-numeric format.
	sdp := "v=0\nx-weird\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\na=inactive\n" +
		"m=audio 7000/2 RTP/SAVP 0 bogus 8\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\na=rtpmap:garbage\na=ptime:x\n" +
		"m=application 9 UDP/BFCP *\n"
	got, err := ParseSDP([]byte(sdp))
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	want := []MediaStream{
		{Index: 0, Kind: "audio", Addr: netip.MustParseAddr("2001:db8::1"), Port: 7000, Proto: "RTP/SAVP", Direction: "inactive", Formats: []Format{pcmu, pcma}},
		{Index: 1, Kind: "application", Addr: netip.MustParseAddr("2001:db8::1"), Port: 9, Proto: "UDP/BFCP", Direction: "inactive"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSDP =\n%+v\nwant\n%+v", got, want)
	}
}

func TestBuildAnswer(t *testing.T) {
	ct, raw := sampleBody(t, "cisco/cube-video.sip")
	b, _ := SplitBody(ct, raw)
	offer, err := ParseSDP(b.SDP)
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	offer[1].Direction = "inactive"
	got := string(BuildAnswer(offer, []MediaAnswer{{Port: 20000, PT: 18}, {Port: 20002, PT: 18}, {Port: 0}}, netip.MustParseAddr("192.0.2.99"), 42, 3))
	want := strings.Join([]string{
		"v=0",
		"o=callvault 42 3 IN IP4 192.0.2.99",
		"s=callvault",
		"c=IN IP4 192.0.2.99",
		"t=0 0",
		"m=audio 20000 RTP/AVP 18 101",
		"a=rtpmap:18 G729/8000",
		"a=fmtp:18 annexb=no",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=ptime:20",
		"a=label:1",
		"a=recvonly",
		"m=audio 20002 RTP/AVP 18 101",
		"a=rtpmap:18 G729/8000",
		"a=fmtp:18 annexb=no",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=ptime:20",
		"a=label:2",
		"a=inactive",
		"m=video 0 RTP/AVP 126",
		"a=label:3",
		"m=video 0 RTP/AVP 126",
		"a=label:4",
		"",
	}, "\r\n")
	if got != want {
		t.Errorf("BuildAnswer =\n%s\nwant\n%s", got, want)
	}

	v6 := string(BuildAnswer([]MediaStream{{Kind: "audio", Proto: "RTP/AVP", Formats: []Format{pcmu}}},
		[]MediaAnswer{{Port: 4000, PT: 0}}, netip.MustParseAddr("2001:db8::5"), 1, 1))
	if !strings.Contains(v6, "c=IN IP6 2001:db8::5\r\n") || !strings.Contains(v6, "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n") {
		t.Errorf("IPv6 answer:\n%s", v6)
	}
}

// TestParseSDPCrypto reads the a=crypto lines of several vendors' SRTP
// offers: every usable line in order, per m-line; the others left out.
func TestParseSDPCrypto(t *testing.T) {
	sdp := strings.Join([]string{
		"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
		// A CUBE on a secure trunk: two suites, the second with a lifetime.
		"m=audio 17000 RTP/SAVP 0 101",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b30,
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + b30 + "|2^31",
		"a=label:1",
		// An SBC with lifetime and MKI, an unknown suite, a bad key, a
		// session parameter we do not do, then AES-256 and GCM.
		"m=audio 17002 RTP/SAVPF 8",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|1:4",
		"a=crypto:2 NEW_SUITE_X inline:" + b28,
		"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:***",
		"a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + " UNENCRYPTED_SRTCP",
		"a=crypto:5 AES_256_CM_HMAC_SHA1_80 inline:" + b46,
		"a=crypto:6 AEAD_AES_128_GCM inline:" + b28 + " WSH=64",
		"a=crypto:bogus",
		"a=label:2",
		// Plain RTP: a crypto line there is still reported.
		"m=audio 17004 RTP/AVP 0",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b30,
		"",
	}, "\r\n")
	got, err := ParseSDP([]byte(sdp))
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	want := [][]Crypto{
		{{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30}, {Tag: 2, Suite: "AES_CM_128_HMAC_SHA1_32", Key: key30, Lifetime: 1 << 31}},
		{{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, Lifetime: 1 << 20, MKI: []byte{0, 0, 0, 1}},
			{Tag: 2, Suite: "NEW_SUITE_X", Key: key28},
			{Tag: 5, Suite: "AES_256_CM_HMAC_SHA1_80", Key: key46},
			{Tag: 6, Suite: "AEAD_AES_128_GCM", Key: key28}},
		{{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d m-lines, want %d", len(got), len(want))
	}
	for i, m := range got {
		if !reflect.DeepEqual(m.Crypto, want[i]) {
			t.Errorf("m-line %d: crypto\n%v\nwant\n%v", i, m.Crypto, want[i])
		}
		if m.Secure() != (i < 2) {
			t.Errorf("m-line %d (%s): Secure() = %v", i, m.Proto, m.Secure())
		}
	}
}

// TestBuildAnswerSRTP: an SRTP line is answered with its proto and our
// a=crypto line, and reads back with our key; without a usable Crypto it
// is rejected; a plain line never carries one.
func TestBuildAnswerSRTP(t *testing.T) {
	offer, err := ParseSDP([]byte("v=0\r\nc=IN IP4 192.0.2.1\r\n" +
		"m=audio 17000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "\r\na=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:" + b46 + "\r\na=label:1\r\na=sendonly\r\n" +
		"m=audio 17002 RTP/SAVPF 0\r\na=crypto:7 AEAD_AES_128_GCM inline:" + b28 + "\r\na=label:2\r\n" +
		"m=audio 17004 RTP/AVP 0\r\na=label:3\r\n"))
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	ours := bytes.Repeat([]byte{0x11}, 46)
	ours28 := bytes.Repeat([]byte{0x22}, 28)
	addr := netip.MustParseAddr("192.0.2.99")
	answer := BuildAnswer(offer, []MediaAnswer{
		{Port: 20000, PT: 0, Crypto: &Crypto{Tag: 2, Suite: "AES_256_CM_HMAC_SHA1_80", Key: ours}},
		{Port: 20002, PT: 0, Crypto: &Crypto{Tag: 7, Suite: "AEAD_AES_128_GCM", Key: ours28}},
		{Port: 20004, PT: 0, Crypto: &Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30}},
	}, addr, 1, 1)
	for _, want := range []string{
		"m=audio 20000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
			"a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(ours) + "\r\na=label:1\r\na=recvonly\r\n",
		"m=audio 20002 RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:7 AEAD_AES_128_GCM inline:" + base64.StdEncoding.EncodeToString(ours28) + "\r\n",
		"m=audio 20004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:3\r\na=recvonly\r\n",
	} {
		if !strings.Contains(string(answer), want) {
			t.Errorf("answer without\n%s\n%s", want, answer)
		}
	}
	back, err := ParseSDP(answer)
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, answer)
	}
	wantBack := [][]Crypto{
		{{Tag: 2, Suite: "AES_256_CM_HMAC_SHA1_80", Key: ours}},
		{{Tag: 7, Suite: "AEAD_AES_128_GCM", Key: ours28}},
		nil,
	}
	for i, m := range back {
		if !reflect.DeepEqual(m.Crypto, wantBack[i]) || m.Proto != offer[i].Proto {
			t.Errorf("answer m-line %d reads back as %s %v, want %s %v", i, m.Proto, m.Crypto, offer[i].Proto, wantBack[i])
		}
	}

	// Every way of answering an SRTP line without a usable key rejects it.
	for name, c := range map[string]*Crypto{
		"no crypto":          nil,
		"tag not offered":    {Tag: 3, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30},
		"suite not of tag":   {Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_32", Key: key30},
		"no key":             {Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80"},
		"key of wrong size":  {Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: ours},
		"tag out of range":   {Tag: -1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30},
		"suite with a blank": {Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80 x", Key: key30},
	} {
		got := string(BuildAnswer(offer[:1], []MediaAnswer{{Port: 20000, PT: 0, Crypto: c}}, addr, 1, 1))
		if !strings.Contains(got, "m=audio 0 RTP/SAVP 0 101\r\na=label:1\r\n") || strings.Contains(got, "a=crypto") {
			t.Errorf("%s: SRTP line not rejected:\n%s", name, got)
		}
	}
	// The suite matches the offer's whatever its case.
	got := string(BuildAnswer(offer[:1], []MediaAnswer{{Port: 20000, PT: 0, Crypto: &Crypto{Tag: 1, Suite: "aes_cm_128_hmac_sha1_80", Key: key30}}}, addr, 1, 1))
	if !strings.Contains(got, "m=audio 20000 RTP/SAVP") {
		t.Errorf("lower-case suite rejected:\n%s", got)
	}
}

func FuzzParseSDP(f *testing.F) {
	for _, name := range sampleFiles(f) {
		ct, raw := sampleBody(f, name)
		if b, err := SplitBody(ct, raw); err == nil && b.SDP != nil {
			f.Add(b.SDP)
		}
	}
	f.Add([]byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 17000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|1:4\r\n" +
		"m=audio 17002 RTP/SAVP 0\r\na=crypto:2 X inline:" + b28 + "\r\n"))
	f.Fuzz(func(t *testing.T, sdp []byte) {
		offer, err := ParseSDP(sdp)
		if err != nil {
			return
		}
		answers := make([]MediaAnswer, len(offer))
		for i, m := range offer {
			if len(m.Formats) > 0 {
				answers[i] = MediaAnswer{Port: 10000 + 2*i, PT: m.Formats[0].PT}
			}
			if len(m.Crypto) > 0 && i%2 == 0 { // odd SRTP lines answered without a key
				c := m.Crypto[0]
				answers[i].Crypto = &c
			}
		}
		ans := BuildAnswer(offer, answers, netip.MustParseAddr("192.0.2.1"), 1, 1)
		back, err := ParseSDP(ans)
		if err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, ans)
		}
		if len(back) != len(offer) {
			t.Fatalf("answer has %d m-lines, offer %d", len(back), len(offer))
		}
		for i, m := range back {
			if m.Port != 0 && offer[i].Secure() && len(m.Crypto) != 1 {
				t.Fatalf("SRTP m-line %d answered with %d crypto lines:\n%s", i, len(m.Crypto), ans)
			}
		}
	})
}
