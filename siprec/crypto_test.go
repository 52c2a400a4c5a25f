package siprec

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Test keys: base64 of master key and salt of the sizes of their suites.
var (
	key30 = bytes.Repeat([]byte{0x5A}, 30) // AES_CM_128_*
	key46 = bytes.Repeat([]byte{0xA5}, 46) // AES_256_CM_*
	key28 = bytes.Repeat([]byte{0x3C}, 28) // AEAD_AES_128_GCM
	b30   = base64.StdEncoding.EncodeToString(key30)
	b46   = base64.StdEncoding.EncodeToString(key46)
	b28   = base64.StdEncoding.EncodeToString(key28)
)

func TestParseCrypto(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Crypto
	}{
		{"CUBE", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30,
			Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30}},
		{"CUBE second line, lifetime", "2 AES_CM_128_HMAC_SHA1_32 inline:" + b30 + "|2^31",
			Crypto{Tag: 2, Suite: "AES_CM_128_HMAC_SHA1_32", Key: key30, Lifetime: 1 << 31}},
		{"RFC 4568 example: lifetime and MKI", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|1:4",
			Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, Lifetime: 1 << 20, MKI: []byte{0, 0, 0, 1}}},
		{"MKI without lifetime", "3 AES_CM_128_HMAC_SHA1_32 inline:" + b30 + "|258:2",
			Crypto{Tag: 3, Suite: "AES_CM_128_HMAC_SHA1_32", Key: key30, MKI: []byte{1, 2}}},
		{"decimal lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|1048576",
			Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, Lifetime: 1 << 20}},
		{"several keys: the first kept", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|1:4;inline:" + b46 + "|2^20|2:4",
			Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, Lifetime: 1 << 20, MKI: []byte{0, 0, 0, 1}}},
		{"AES-256, padded base64", "4 AES_256_CM_HMAC_SHA1_80 inline:" + b46,
			Crypto{Tag: 4, Suite: "AES_256_CM_HMAC_SHA1_80", Key: key46}},
		{"AES-256, unpadded base64", "4 AES_256_CM_HMAC_SHA1_80 inline:" + strings.TrimRight(b46, "="),
			Crypto{Tag: 4, Suite: "AES_256_CM_HMAC_SHA1_80", Key: key46}},
		{"GCM", "5 AEAD_AES_128_GCM inline:" + b28,
			Crypto{Tag: 5, Suite: "AEAD_AES_128_GCM", Key: key28}},
		{"unknown suite kept, any length", "7 FUTURE_CIPHER_9 inline:" + b28,
			Crypto{Tag: 7, Suite: "FUTURE_CIPHER_9", Key: key28}},
		{"lower-case method, window size hint, extra blanks", "9  AES_CM_128_HMAC_SHA1_80\tINLINE:" + b30 + " WSH=128 KDR=0",
			Crypto{Tag: 9, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30}},
		{"largest MKI", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|255:128",
			Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, MKI: append(make([]byte, 127), 255)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCrypto(tt.line)
			if err != nil {
				t.Fatalf("parseCrypto: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseCrypto =\n%s %x\nwant\n%s %x", got, got.Key, tt.want, tt.want.Key)
			}
		})
	}
}

func TestParseCryptoErrors(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"no key", "1 AES_CM_128_HMAC_SHA1_80", "want a tag, a suite and key parameters"},
		{"tag not a number", "x AES_CM_128_HMAC_SHA1_80 inline:" + b30, `tag "x"`},
		{"tag too long", "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + b30, "1 to 9 digits"},
		{"negative tag", "-1 AES_CM_128_HMAC_SHA1_80 inline:" + b30, "1 to 9 digits"},
		{"bad base64", "1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64!!", "not base64"},
		{"empty key", "1 AES_CM_128_HMAC_SHA1_80 inline:", "not base64"},
		{"short key", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b28, "inline key of 28 bytes, the suite's is 30"},
		{"AES-192 key too short", "1 AES_192_CM_HMAC_SHA1_80 inline:" + b30, "the suite's is 38"},
		{"other key method", "1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", "key method is not inline"},
		{"unencrypted SRTP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + " UNENCRYPTED_SRTP", `session parameter "UNENCRYPTED_SRTP" not supported`},
		{"unencrypted SRTCP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + " UNENCRYPTED_SRTCP", "not supported"},
		{"unauthenticated", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + " UNAUTHENTICATED_SRTP", "not supported"},
		{"key derivation rate", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + " KDR=1", `"KDR=1" not supported`},
		{"FEC order", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + " FEC_ORDER=FEC_SRTP", "not supported"},
		{"lifetime zero", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|0", "not a positive number"},
		{"lifetime 2^64", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^64", "not 2^0 to 2^63"},
		{"lifetime after MKI", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|1:4|2^20", "lifetime after the MKI"},
		{"two lifetimes", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|2^20", "lifetime after the MKI"},
		{"too many fields", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|2^20|1:4|x", "more than a key"},
		{"MKI length 0", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|1:0", "MKI length"},
		{"MKI length 129", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|1:129", "MKI length"},
		{"MKI value too big", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|256:1", "does not fit in 1 bytes"},
		{"MKI value negative", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|-1:1", "not a decimal number"},
		{"MKI value hex", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "|0x1:1", "not a decimal number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseCrypto(tt.line)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseCrypto(%q) = %v, %v; want an error with %q", tt.line, c, err, tt.want)
			}
			if strings.Contains(err.Error(), b30) || strings.Contains(err.Error(), b28) {
				t.Errorf("error holds the key: %v", err)
			}
		})
	}
}

// TestCryptoLineRoundTrip writes crypto lines and reads them back.
func TestCryptoLineRoundTrip(t *testing.T) {
	for _, c := range []Crypto{
		{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30},
		{Tag: 999999999, Suite: "AES_256_CM_HMAC_SHA1_32", Key: key46, Lifetime: 1 << 31},
		{Tag: 0, Suite: "AEAD_AES_128_GCM", Key: key28, Lifetime: 1000, MKI: []byte{0, 0, 1, 0}},
		{Tag: 2, Suite: "AES_CM_128_HMAC_SHA1_32", Key: key30, MKI: bytes.Repeat([]byte{0xFF}, 128)},
	} {
		line := c.line()
		got, err := parseCrypto(line)
		if err != nil {
			t.Errorf("parseCrypto(%q): %v", line, err)
			continue
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%q read back as %s, want %s", line, got, c)
		}
	}
	if got := (Crypto{Tag: 3, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, Lifetime: 1 << 20, MKI: []byte{0, 7}}).line(); got != "3 AES_CM_128_HMAC_SHA1_80 inline:"+b30+"|2^20|7:2" {
		t.Errorf("line() = %q", got)
	}
}

// TestCryptoRedacted: no fmt verb, no slog handler and no JSON encoding of
// a Crypto, alone or in a Session, shows the key.
func TestCryptoRedacted(t *testing.T) {
	c := Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, MKI: []byte{1}}
	sess := Session{CallID: "x", Media: []MediaStream{{Kind: "audio", Proto: "RTP/SAVP", Crypto: []Crypto{c}}}}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, sess))
	}
	js, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "crypto", c, "session", sess)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "crypto", c, "session", sess)
	outs = append(outs, buf.String())
	for _, out := range outs {
		assertNoKey(t, out, key30)
	}
	if !strings.Contains(buf.String(), "AES_CM_128_HMAC_SHA1_80") {
		t.Errorf("the suite is not logged: %s", buf.String())
	}
}

// assertNoKey fails if out shows key in base64, hex or as decimal bytes.
func assertNoKey(t *testing.T, out string, key []byte) {
	t.Helper()
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(key)[:16], hex.EncodeToString(key)[:16],
		strings.ToUpper(hex.EncodeToString(key)[:16]), fmt.Sprint(key)[:16],
	} {
		if strings.Contains(out, s) {
			t.Fatalf("key shown (%q) in:\n%s", s, out)
		}
	}
}

func TestRedactKeys(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v=0\r\nm=audio 1 RTP/AVP 0\r\n", "v=0\r\nm=audio 1 RTP/AVP 0\r\n"},
		{"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "\r\n",
			"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<redacted>\r\n"},
		{"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + b30 + "|2^31|1:4 WSH=64\n",
			"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:<redacted>|2^31|1:4 WSH=64\n"},
		{"a=crypto:1 X inline:" + b30 + ";INLINE:" + b46 + "|2:4",
			"a=crypto:1 X inline:<redacted>;INLINE:<redacted>|2:4"},
		{"inline:", "inline:"},
		{"inline:" + b28, "inline:<redacted>"},
		{"Inline:x inline", "Inline:<redacted> inline"},
	}
	for _, tt := range tests {
		if got := redactKeys([]byte(tt.in)); got != tt.want {
			t.Errorf("redactKeys(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
		}
		if got := bodyValue(tt.in).LogValue().String(); got != tt.want {
			t.Errorf("bodyValue(%q) logs %q", tt.in, got)
		}
	}
}

// srtpInvite is the CUBE INVITE of the samples as a secure trunk sends it:
// RTP/SAVP m-lines, each with the crypto lines given after its a=ptime.
func srtpInvite(t *testing.T, c *sipClient, callID string, crypto ...string) []byte {
	t.Helper()
	msg := c.fixAddrs(loadSample(t, "cisco/cube-invite.sip", c.vars(callID, "")))
	head, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	body = bytes.ReplaceAll(body, []byte("RTP/AVP"), []byte("RTP/SAVP"))
	var lines strings.Builder
	for _, l := range crypto {
		lines.WriteString("\r\na=crypto:" + l)
	}
	body = bytes.ReplaceAll(body, []byte("a=ptime:20"), []byte("a=ptime:20"+lines.String()))
	head = regexp.MustCompile(`Content-Length: \d+`).ReplaceAll(head, []byte("Content-Length: "+strconv.Itoa(len(body))))
	return append(append(head, "\r\n\r\n"...), body...)
}

// TestSRTPOfferOverTheWire: an SRTP INVITE from a CUBE reaches the
// recorder with its keys; a recorder that gives no key of its own gets its
// streams rejected (never a plaintext answer); and no key reaches the log,
// debug records included.
func TestSRTPOfferOverTheWire(t *testing.T) {
	logs := &logRecords{}
	ts := startServerLog(t, slog.New(logs))
	c := dialClient(t, "UDP", ts.udpAddr)
	callID := "srtp@10.10.1.20"
	c.send(srtpInvite(t, c, callID,
		"1 AES_CM_128_HMAC_SHA1_80 inline:"+b30,
		"2 AES_CM_128_HMAC_SHA1_32 inline:"+b30+"|2^31",
		"3 AES_CM_128_HMAC_SHA1_80 inline:"+b30+" UNENCRYPTED_SRTP"))
	res := c.expect(200, "SRTP INVITE")
	tag := toTag(t, res)
	c.ack(callID, tag, 101)
	s := recv(t, ts.rec.admits, "Admit")
	want := []Crypto{
		{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30},
		{Tag: 2, Suite: "AES_CM_128_HMAC_SHA1_32", Key: key30, Lifetime: 1 << 31},
	}
	for _, m := range s.Media {
		if !m.Secure() || !reflect.DeepEqual(m.Crypto, want) {
			t.Errorf("m-line %d: secure %v, crypto %v; want %v", m.Index, m.Secure(), m.Crypto, want)
		}
	}
	answer := string(res.Body())
	for _, l := range []string{"m=audio 0 RTP/SAVP 0 101 19\r\na=label:1\r\n", "m=audio 0 RTP/SAVP 0 101 19\r\na=label:2\r\n"} {
		if !strings.Contains(answer, l) {
			t.Errorf("answer without %q:\n%s", l, answer)
		}
	}
	if strings.Contains(answer, "a=crypto") {
		t.Errorf("rejected lines carry crypto:\n%s", answer)
	}
	hangUp(t, ts, c, callID, tag)

	var all bytes.Buffer
	h := slog.NewTextHandler(&all, &slog.HandlerOptions{Level: slog.LevelDebug})
	for _, r := range logs.all() {
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(all.String(), "inline:<redacted>|2^31") {
		t.Errorf("the offer was not logged at debug level with its keys redacted:\n%s", all.String())
	}
	if !strings.Contains(all.String(), "a=crypto line left out") || !strings.Contains(all.String(), "UNENCRYPTED_SRTP") {
		t.Errorf("the crypto line left out was not logged:\n%s", all.String())
	}
	assertNoKey(t, all.String(), key30)
}
