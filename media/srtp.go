package media

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/replaydetector"
)

// srtpReplayWindow is how many packets behind the newest an SRTP packet
// may arrive and still be taken (RFC 3711 section 3.3.2 asks for at least
// 64). At 20 ms a packet that far behind is 1.28 s late: long past the
// reorder window.
const srtpReplayWindow = 64

// Errors of srtpIn.decrypt. The caller counts each kind; none carries the
// packet or any key.
var (
	// errSRTPShort: a datagram too short for its RTP header and the
	// suite's MKI and authentication tag, or not RTP version 2.
	errSRTPShort = errors.New("srtp: packet too short or not rtp")
	// errSRTPAuth: the authentication tag does not verify, or the MKI names
	// no key of ours. A forged packet, another stream's, or a wrong key.
	errSRTPAuth = errors.New("srtp: authentication failed")
	// errSRTPReplay: the packet index was already received, or is more
	// than the replay window behind the newest.
	errSRTPReplay = errors.New("srtp: replayed packet")
	// errSRTPUnsupported: a packet the context cannot take (cryptex header
	// encryption, the key's packet limit reached).
	errSRTPUnsupported = errors.New("srtp: packet not supported")
)

// SRTPParams are the SDES keys of one received SRTP stream (RFC 4568).
// Printed or logged, they show the suite and the sizes, never the key.
type SRTPParams struct {
	// Suite is the crypto-suite name: "AES_CM_128_HMAC_SHA1_80",
	// "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80",
	// "AES_256_CM_HMAC_SHA1_32", "AEAD_AES_128_GCM" or "AEAD_AES_256_GCM"
	// (case-insensitive, as in the SDP grammar).
	Suite string
	// Key is the master key followed by the master salt: the decoded
	// inline key of the a=crypto line.
	Key []byte
	// MKI is the master key identifier that every packet carries, as many
	// bytes as the offer's MKI length, big-endian; nil when the offer has
	// none.
	MKI []byte
}

// String describes p without its key.
func (p SRTPParams) String() string {
	return fmt.Sprintf("SRTPParams{Suite: %s, Key: <redacted, %d bytes>, MKI: <%d bytes>}", p.Suite, len(p.Key), len(p.MKI))
}

// GoString is String: %#v does not print the key either.
func (p SRTPParams) GoString() string { return p.String() }

// Format prints p as String does whatever the verb, so that no verb (%x,
// %d, ...) reaches the key bytes.
func (p SRTPParams) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.String())) }

// LogValue logs the suite and the sizes, never the key.
func (p SRTPParams) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("suite", p.Suite),
		slog.String("key", "<redacted>"),
		slog.Int("mki_len", len(p.MKI)),
	)
}

// MarshalJSON writes p as LogValue logs it, without the key.
func (p SRTPParams) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Suite  string `json:"suite"`
		Key    string `json:"key"`
		MKILen int    `json:"mki_len,omitempty"`
	}{p.Suite, "<redacted>", len(p.MKI)})
}

// srtpSuites maps the SDES crypto-suite names we decrypt to their SRTP
// protection profiles (RFC 4568, RFC 6188, RFC 7714).
var srtpSuites = []struct {
	name    string
	profile srtp.ProtectionProfile
}{
	{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80},
	{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32},
	{"AES_256_CM_HMAC_SHA1_80", srtp.ProtectionProfileAes256CmHmacSha1_80},
	{"AES_256_CM_HMAC_SHA1_32", srtp.ProtectionProfileAes256CmHmacSha1_32},
	{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm},
	{"AEAD_AES_256_GCM", srtp.ProtectionProfileAeadAes256Gcm},
}

// srtpProfile returns the protection profile of a suite name.
func srtpProfile(suite string) (srtp.ProtectionProfile, bool) {
	for _, s := range srtpSuites {
		if strings.EqualFold(s.name, suite) {
			return s.profile, true
		}
	}
	return 0, false
}

// SRTPSupported reports whether SRTP streams of the SDES crypto suite
// suite can be decrypted.
func SRTPSupported(suite string) bool {
	_, ok := srtpProfile(suite)
	return ok
}

// srtpKeyLens returns the master key and master salt lengths of a profile.
func srtpKeyLens(p srtp.ProtectionProfile) (key, salt int, err error) {
	if key, err = p.KeyLen(); err != nil {
		return 0, 0, err
	}
	if salt, err = p.SaltLen(); err != nil {
		return 0, 0, err
	}
	return key, salt, nil
}

// NewSRTPKey returns a random master key and master salt, concatenated,
// of the sizes of suite: the key of our side of an SDES exchange (the
// inline key of our answer's a=crypto line).
func NewSRTPKey(suite string) ([]byte, error) {
	p, ok := srtpProfile(suite)
	if !ok {
		return nil, fmt.Errorf("new srtp key: unsupported crypto suite %q", suite)
	}
	k, s, err := srtpKeyLens(p)
	if err != nil {
		return nil, fmt.Errorf("new srtp key for %s: %w", suite, err)
	}
	key := make([]byte, k+s)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("new srtp key for %s: %w", suite, err)
	}
	return key, nil
}

// srtpIn decrypts one received SRTP stream: one leg, one direction, any
// number of SSRCs (each with its own rollover counter and replay window).
// It is not safe for concurrent use; a leg decrypts under its recording's
// lock.
type srtpIn struct {
	ctx *srtp.Context
	hdr rtp.Header // reused by every packet: its CSRC slice is kept
	// trailer is what follows the payload: MKI and authentication tag (for
	// AEAD suites the tag is counted here too).
	trailer int
	// replayed is set by the replay detectors when they refuse a packet,
	// which tells a replay from other failures without the allocation of
	// the library's error.
	replayed bool
}

// newSRTPIn returns the decryption context of a stream keyed by p.
func newSRTPIn(p SRTPParams) (*srtpIn, error) {
	profile, ok := srtpProfile(p.Suite)
	if !ok {
		return nil, fmt.Errorf("srtp: unsupported crypto suite %q", p.Suite)
	}
	k, s, err := srtpKeyLens(profile)
	if err != nil {
		return nil, fmt.Errorf("srtp %s: %w", p.Suite, err)
	}
	if len(p.Key) != k+s {
		return nil, fmt.Errorf("srtp %s: key and salt are %d bytes, want %d", p.Suite, len(p.Key), k+s)
	}
	if len(p.MKI) > 128 {
		// RFC 4568: the MKI length is 1 to 128 bytes.
		return nil, fmt.Errorf("srtp %s: MKI of %d bytes, at most 128", p.Suite, len(p.MKI))
	}
	tag, err := profile.AuthTagRTPLen()
	if err != nil {
		return nil, fmt.Errorf("srtp %s: %w", p.Suite, err)
	}
	aead, err := profile.AEADAuthTagLen()
	if err != nil {
		return nil, fmt.Errorf("srtp %s: %w", p.Suite, err)
	}
	in := &srtpIn{trailer: tag + aead + len(p.MKI)}
	opts := []srtp.ContextOption{
		srtp.SRTPReplayDetectorFactory(func() replaydetector.ReplayDetector {
			return &replayWindow{refused: &in.replayed}
		}),
	}
	if len(p.MKI) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(p.MKI))
	}
	ctx, err := srtp.CreateContext(p.Key[:k], p.Key[k:], profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("srtp %s: %w", p.Suite, err)
	}
	in.ctx = ctx
	return in, nil
}

// decrypt authenticates and decrypts one SRTP packet in place and returns
// the RTP packet (header and payload, padding included) within pkt. The
// rollover counter of each SSRC is tracked (RFC 3711 appendix A), so
// sequence numbers wrap. A packet that fails is reported by an errSRTP*
// error, and its bytes may have been overwritten. The steady-state path
// does not allocate; a packet of an SSRC that has not authenticated yet
// costs the library a few allocations (its SSRC state, kept only once a
// packet authenticates), so foreign sources are best dropped before.
func (s *srtpIn) decrypt(pkt []byte) ([]byte, error) {
	n, ok := rtpHeaderLen(pkt)
	if !ok || len(pkt) < n+s.trailer {
		return nil, errSRTPShort
	}
	s.replayed = false
	out, err := s.ctx.DecryptRTP(pkt, pkt, &s.hdr)
	switch {
	case err == nil:
		return out, nil
	case s.replayed:
		return nil, errSRTPReplay
	case errors.Is(err, srtp.ErrFailedToVerifyAuthTag), errors.Is(err, srtp.ErrMKINotFound):
		return nil, errSRTPAuth
	}
	return nil, errSRTPUnsupported
}

// rtpHeaderLen returns the length of the RTP header at the start of pkt
// (fixed part, CSRCs, extension), and false when pkt is not RTP version 2
// or too short to hold it.
func rtpHeaderLen(pkt []byte) (int, bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return 0, false
	}
	n := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return 0, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	return n, len(pkt) >= n
}

// replayWindow is the replay list of one SSRC (RFC 3711 section 3.3.2):
// the newest authenticated packet index and a bitmap of the 64 before it.
// It records, in *refused, that it refused a packet. It implements the
// library's check-then-accept interface, which the library prefers to Check
// and which does not allocate.
type replayWindow struct {
	latest  uint64
	seen    uint64 // bit i: index latest-i was received
	started bool
	refused *bool
}

// CheckSeq reports whether a packet with this index may be taken: newer
// than any received, or within the window and not yet received.
func (w *replayWindow) CheckSeq(index uint64) replaydetector.Token {
	if !w.started || index > w.latest {
		return replaydetector.Passed(index)
	}
	if d := w.latest - index; d < srtpReplayWindow && w.seen&(1<<d) == 0 {
		return replaydetector.Passed(index)
	}
	*w.refused = true
	return replaydetector.Rejected(index)
}

// Accept records the index of an authenticated packet; true when it is
// the newest.
func (w *replayWindow) Accept(t replaydetector.Token) bool {
	if !t.Passed() {
		return false
	}
	index := t.Seq()
	switch {
	case !w.started:
		w.latest, w.seen, w.started = index, 1, true
	case index > w.latest:
		if d := index - w.latest; d < srtpReplayWindow {
			w.seen = w.seen<<d | 1
		} else {
			w.seen = 1
		}
		w.latest = index
	default:
		if d := w.latest - index; d < srtpReplayWindow {
			w.seen |= 1 << d
		}
		return false
	}
	return true
}

// Check is the library's older interface (CheckSeq then Accept).
func (w *replayWindow) Check(index uint64) (func() bool, bool) {
	t := w.CheckSeq(index)
	return func() bool { return w.Accept(t) }, t.Passed()
}
