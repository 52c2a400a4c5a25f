package media

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/pion/srtp/v3"
)

// srtpSender encrypts test packets as a gateway would, with the library's
// own sending context.
type srtpSender struct {
	t   testing.TB
	ctx *srtp.Context
}

func newSRTPSender(t testing.TB, p SRTPParams) *srtpSender {
	t.Helper()
	profile, ok := srtpProfile(p.Suite)
	if !ok {
		t.Fatalf("suite %s not supported", p.Suite)
	}
	k, _, err := srtpKeyLens(profile)
	if err != nil {
		t.Fatal(err)
	}
	var opts []srtp.ContextOption
	if len(p.MKI) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(p.MKI))
	}
	ctx, err := srtp.CreateContext(p.Key[:k], p.Key[k:], profile, opts...)
	if err != nil {
		t.Fatalf("sender context: %v", err)
	}
	return &srtpSender{t: t, ctx: ctx}
}

// seal returns the SRTP packet of an RTP packet.
func (s *srtpSender) seal(plain []byte) []byte {
	s.t.Helper()
	out, err := s.ctx.EncryptRTP(nil, plain, nil)
	if err != nil {
		s.t.Fatalf("encrypt: %v", err)
	}
	return out
}

func testSRTPParams(t testing.TB, suite string, mki []byte) SRTPParams {
	t.Helper()
	key, err := NewSRTPKey(suite)
	if err != nil {
		t.Fatalf("NewSRTPKey(%s): %v", suite, err)
	}
	return SRTPParams{Suite: suite, Key: key, MKI: mki}
}

func newTestSRTPIn(t testing.TB, p SRTPParams) *srtpIn {
	t.Helper()
	in, err := newSRTPIn(p)
	if err != nil {
		t.Fatalf("newSRTPIn(%v): %v", p, err)
	}
	return in
}

// TestSRTPDecrypt sends a stream through every suite, with and without an
// MKI, across a sequence-number wrap, and checks every packet comes back
// bit for bit, in place.
func TestSRTPDecrypt(t *testing.T) {
	for _, s := range srtpSuites {
		for _, mki := range [][]byte{nil, {0, 0, 0, 7}} {
			t.Run(fmt.Sprintf("%s/mki=%x", s.name, mki), func(t *testing.T) {
				p := testSRTPParams(t, s.name, mki)
				tx, rx := newSRTPSender(t, p), newTestSRTPIn(t, p)
				// From 65500 the sequence number wraps: packets after it are
				// keyed with rollover counter 1 and fail unless it is tracked.
				for i := range 100 {
					seq := uint16(65500 + i)
					plain := rtpPacket(0x1234, seq, uint32(160*i), 0, byte(i), 160)
					pkt := tx.seal(plain)
					got, err := rx.decrypt(pkt)
					if err != nil {
						t.Fatalf("packet %d (seq %d): %v", i, seq, err)
					}
					if !bytes.Equal(got, plain) {
						t.Fatalf("packet %d (seq %d) decrypted to\n%x\nwant\n%x", i, seq, got, plain)
					}
					if &got[0] != &pkt[0] {
						t.Fatalf("packet %d not decrypted in place", i)
					}
				}
			})
		}
	}
}

// TestSRTPRejects: forged, mis-keyed, replayed, short packets are refused
// with the error the caller counts them by, and do not stop the stream.
func TestSRTPRejects(t *testing.T) {
	p := testSRTPParams(t, "AES_CM_128_HMAC_SHA1_80", nil)
	tx := newSRTPSender(t, p)
	other := newSRTPSender(t, testSRTPParams(t, "AES_CM_128_HMAC_SHA1_80", nil))
	rx := newTestSRTPIn(t, p)
	pkt := func(seq uint16) []byte { return tx.seal(rtpPacket(1, seq, uint32(seq)*160, 0, byte(seq), 160)) }

	flipped := pkt(10)
	flipped[20] ^= 1
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"payload bit flipped", flipped, errSRTPAuth},
		{"another key", other.seal(rtpPacket(1, 10, 1600, 0, 10, 160)), errSRTPAuth},
		{"plain RTP", rtpPacket(1, 10, 1600, 0, 10, 160), errSRTPAuth},
		{"header only", pkt(10)[:12], errSRTPShort},
		{"tag cut", pkt(10)[:12+9], errSRTPShort},
		{"not version 2", append([]byte{0x40}, pkt(10)[1:]...), errSRTPShort},
		{"empty", nil, errSRTPShort},
		{"extension past the end", []byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, errSRTPShort},
	}
	for _, tt := range tests {
		if _, err := rx.decrypt(tt.pkt); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	// The forgery of packet 10 did not take its place: the real one is
	// taken, then refused as a replay.
	real := pkt(10)
	again := bytes.Clone(real)
	if _, err := rx.decrypt(real); err != nil {
		t.Fatalf("packet 10 after forgeries: %v", err)
	}
	if _, err := rx.decrypt(again); !errors.Is(err, errSRTPReplay) {
		t.Errorf("packet 10 again: got %v, want %v", err, errSRTPReplay)
	}
}

// TestSRTPReplayWindow: reordered packets within the window are taken
// once; those behind it are refused; a jump ahead moves the window.
func TestSRTPReplayWindow(t *testing.T) {
	p := testSRTPParams(t, "AEAD_AES_128_GCM", []byte{9})
	tx, rx := newSRTPSender(t, p), newTestSRTPIn(t, p)
	sent := map[uint16][]byte{}
	for seq := range uint16(300) {
		sent[seq] = tx.seal(rtpPacket(7, seq, uint32(seq)*160, 0, byte(seq), 160))
	}
	steps := []struct {
		seq  uint16
		want error
	}{
		{100, nil},
		{98, nil},            // reordered, within the window
		{100, errSRTPReplay}, // duplicate of the newest
		{98, errSRTPReplay},  // duplicate of a reordered one
		{37, nil},            // 63 behind: the window's last slot
		{36, errSRTPReplay},  // 64 behind: out of the window
		{200, nil},           // a jump ahead
		{137, nil},           // 63 behind the new newest, never seen
		{136, errSRTPReplay}, // 64 behind
		{199, nil},           // just behind
		{199, errSRTPReplay}, // again
		{201, nil},           // the next
		{137, errSRTPReplay}, // now 64 behind
		{138, nil},           // 63 behind 201, never seen
		{299, nil},           // more than the window ahead: a fresh window
		{236, nil},           // 63 behind 299
		{201, errSRTPReplay}, // far behind
	}
	for i, st := range steps {
		_, err := rx.decrypt(bytes.Clone(sent[st.seq]))
		if !errors.Is(err, st.want) {
			t.Errorf("step %d, seq %d: got %v, want %v", i, st.seq, err, st.want)
		}
	}
}

func TestSRTPWrongMKI(t *testing.T) {
	p := testSRTPParams(t, "AES_CM_128_HMAC_SHA1_32", []byte{0, 1})
	tx := newSRTPSender(t, p)
	q := p
	q.MKI = []byte{0, 2}
	rx := newTestSRTPIn(t, q)
	if _, err := rx.decrypt(tx.seal(rtpPacket(1, 1, 160, 0, 1, 160))); !errors.Is(err, errSRTPAuth) {
		t.Errorf("packet under another MKI: got %v, want %v", err, errSRTPAuth)
	}
}

func TestNewSRTPInErrors(t *testing.T) {
	key30 := make([]byte, 30)
	tests := []struct {
		p    SRTPParams
		want string
	}{
		{SRTPParams{Suite: "AES_192_CM_HMAC_SHA1_80", Key: make([]byte, 38)}, `unsupported crypto suite "AES_192_CM_HMAC_SHA1_80"`},
		{SRTPParams{Suite: "F8_128_HMAC_SHA1_80", Key: key30}, "unsupported crypto suite"},
		{SRTPParams{Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30[:29]}, "key and salt are 29 bytes, want 30"},
		{SRTPParams{Suite: "AEAD_AES_128_GCM", Key: key30}, "key and salt are 30 bytes, want 28"},
		{SRTPParams{Suite: "AES_CM_128_HMAC_SHA1_80", Key: key30, MKI: make([]byte, 129)}, "MKI of 129 bytes"},
	}
	for _, tt := range tests {
		_, err := newSRTPIn(tt.p)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("newSRTPIn(%v): got %v, want an error with %q", tt.p, err, tt.want)
		}
	}
	// The suite name is case-insensitive, as in the SDP grammar.
	if _, err := newSRTPIn(SRTPParams{Suite: "aes_cm_128_hmac_sha1_80", Key: key30}); err != nil {
		t.Errorf("lower-case suite: %v", err)
	}
}

func TestSRTPSupportedAndNewKey(t *testing.T) {
	lens := map[string]int{
		"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
		"AES_256_CM_HMAC_SHA1_80": 46, "AES_256_CM_HMAC_SHA1_32": 46,
		"AEAD_AES_128_GCM": 28, "AEAD_AES_256_GCM": 44,
	}
	for suite, n := range lens {
		if !SRTPSupported(suite) || !SRTPSupported(strings.ToLower(suite)) {
			t.Errorf("SRTPSupported(%s) = false", suite)
		}
		a, err := NewSRTPKey(suite)
		if err != nil || len(a) != n {
			t.Errorf("NewSRTPKey(%s): %d bytes, %v; want %d", suite, len(a), err, n)
			continue
		}
		b, _ := NewSRTPKey(suite)
		if bytes.Equal(a, b) {
			t.Errorf("NewSRTPKey(%s) gave the same key twice", suite)
		}
	}
	for _, suite := range []string{"", "AES_192_CM_HMAC_SHA1_80", "F8_128_HMAC_SHA1_80", "NULL_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_80 "} {
		if SRTPSupported(suite) {
			t.Errorf("SRTPSupported(%q) = true", suite)
		}
		if _, err := NewSRTPKey(suite); err == nil {
			t.Errorf("NewSRTPKey(%q): no error", suite)
		}
	}
}

// TestSRTPParamsRedacted: no verb of fmt and no slog handler prints the
// key, in hex, base64 or as bytes.
func TestSRTPParamsRedacted(t *testing.T) {
	p := SRTPParams{Suite: "AES_CM_128_HMAC_SHA1_80", Key: bytes.Repeat([]byte{0xAB}, 30), MKI: []byte{1}}
	secrets := []string{hex.EncodeToString(p.Key), strings.ToUpper(hex.EncodeToString(p.Key)),
		base64.StdEncoding.EncodeToString(p.Key), "171 171", "0xab", "0xAB"}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		outs = append(outs, fmt.Sprintf(verb, p), fmt.Sprintf(verb, &p), fmt.Sprintf(verb, []SRTPParams{p}))
	}
	js, err := json.Marshal(map[string]any{"p": p, "ps": []SRTPParams{p}})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "srtp", p, "ptr", &p, "in", struct{ P SRTPParams }{p})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "srtp", p, "ptr", &p)
	outs = append(outs, buf.String())
	for _, out := range outs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("key printed: %q contains %q", out, s)
			}
		}
	}
	if !strings.Contains(outs[0], "AES_CM_128_HMAC_SHA1_80") || !strings.Contains(buf.String(), "AES_CM_128_HMAC_SHA1_80") {
		t.Errorf("the suite is not shown: %q, %q", outs[0], buf.String())
	}
}

// TestSRTPDecryptAllocs: the per-packet path does not allocate once a
// stream is known.
func TestSRTPDecryptAllocs(t *testing.T) {
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"} {
		p := testSRTPParams(t, suite, nil)
		tx, rx := newSRTPSender(t, p), newTestSRTPIn(t, p)
		pkts := make([][]byte, 200)
		for i := range pkts {
			pkts[i] = tx.seal(rtpPacket(1, uint16(i), uint32(i*160), 0, byte(i), 160))
		}
		if _, err := rx.decrypt(pkts[0]); err != nil {
			t.Fatal(err)
		}
		i := 1
		allocs := testing.AllocsPerRun(len(pkts)-2, func() {
			if _, err := rx.decrypt(pkts[i]); err != nil {
				t.Fatal(err)
			}
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per packet, want 0", suite, allocs)
		}
	}
}

// BenchmarkSRTPDecrypt measures the decryption of one 20 ms G.711 packet
// (172 bytes of RTP) per op. The packets are sealed beforehand and
// decrypted in place, so each op restores one from a copy first; the copy
// is part of the figure (about 10 ns).
func BenchmarkSRTPDecrypt(b *testing.B) {
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80", "AEAD_AES_128_GCM"} {
		b.Run(suite, func(b *testing.B) {
			p := testSRTPParams(b, suite, nil)
			tx, rx := newSRTPSender(b, p), newTestSRTPIn(b, p)
			const n = 1 << 16
			sealed := make([][]byte, n)
			for i := range sealed {
				sealed[i] = tx.seal(rtpPacket(1, uint16(i), uint32(i*160), 0, byte(i), 160))
			}
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			b.SetBytes(172)
			i := 0
			for b.Loop() {
				if i == n {
					// Past the sealed packets: a new context starts over.
					b.StopTimer()
					rx, i = newTestSRTPIn(b, p), 0
					b.StartTimer()
				}
				buf = append(buf[:0], sealed[i]...)
				if _, err := rx.decrypt(buf); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
