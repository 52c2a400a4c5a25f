package siprec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
)

// Crypto is one a=crypto attribute of an m-line (SDP security
// descriptions, RFC 4568): an SDES master key for SRTP. In an offer it is
// a key the recording client sends with; in our answer, the key of ours
// the answer must carry (we only receive, so it protects nothing).
//
// A line may list several inline keys, each with an MKI, for the sender to
// switch keys mid-stream; Crypto keeps the first alone. No SIPREC client we
// know lists more than one, the SRTP stacks gateways are built on
// (libsrtp users such as Asterisk and FreeSWITCH) take the first too, and
// a recorder that decrypted with the first key only loses the packets of a
// later one, which are counted as failing authentication.
//
// Printed with fmt or logged with slog, a Crypto shows its tag, suite and
// parameters, never its key.
type Crypto struct {
	// Tag identifies the line within its m-line (0 to 999999999); the
	// answer's line repeats the tag of the offered line it accepts.
	Tag int
	// Suite is the crypto suite as written, e.g. "AES_CM_128_HMAC_SHA1_80".
	Suite string
	// Key is the decoded inline key: master key followed by master salt.
	Key []byte
	// Lifetime is the master key's lifetime in packets ("|2^31" gives
	// 2147483648); 0 when not given (the suite's default).
	Lifetime uint64
	// MKI is the master key identifier each packet carries after its
	// payload: the MKI value as a big-endian number of the MKI length in
	// bytes ("|1:4" gives 00 00 00 01); nil when not given.
	MKI []byte
}

// maxCryptoTag is the largest tag (1*9DIGIT).
const maxCryptoTag = 999999999

// maxMKILen is the longest MKI in bytes (RFC 4568: 1 to 128).
const maxMKILen = 128

// sdesKeyLens are the inline key lengths (master key and master salt) of
// the SRTP crypto suites the SDES RFCs define: RFC 4568 section 6.2, RFC
// 6188 section 7.1, RFC 7714 section 12. A line of one of these suites
// with a key of another length breaks the grammar. Which suites callvault
// decrypts is media's to say.
var sdesKeyLens = map[string]int{
	"AES_CM_128_HMAC_SHA1_80": 30,
	"AES_CM_128_HMAC_SHA1_32": 30,
	"F8_128_HMAC_SHA1_80":     30,
	"AES_192_CM_HMAC_SHA1_80": 38,
	"AES_192_CM_HMAC_SHA1_32": 38,
	"AES_256_CM_HMAC_SHA1_80": 46,
	"AES_256_CM_HMAC_SHA1_32": 46,
	"AEAD_AES_128_GCM":        28,
	"AEAD_AES_256_GCM":        44,
}

// errCrypto marks an a=crypto line we cannot use. Its messages never
// hold the key.
var errCrypto = errors.New("a=crypto")

// parseCrypto reads the value of an a=crypto attribute (what follows
// "a=crypto:"): "<tag> <suite> inline:<key||salt>[|<lifetime>][|<mki>:<len>]
// [;inline:...] [<session params>]". Suites it does not know are read like
// the others (which it can decrypt is for the caller to say), but the key
// of a suite the RFCs define must have that suite's length. It fails on a
// line that breaks the grammar, on a key method other than inline, and on
// session parameters (KDR other than 0, UNENCRYPTED_SRTP, FEC_ORDER, ...),
// which callvault does not implement; a window size hint (WSH) is
// accepted and ignored. Its errors never hold the key.
func parseCrypto(v string) (Crypto, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("%w: want a tag, a suite and key parameters, got %d fields", errCrypto, len(f))
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > maxCryptoTag || len(f[0]) > 9 {
		return Crypto{}, fmt.Errorf("%w: tag %q is not 1 to 9 digits", errCrypto, quotable(f[0]))
	}
	c := Crypto{Tag: tag, Suite: f[1]}
	first, _, _ := strings.Cut(f[2], ";") // keep the first of several keys
	if err := c.parseKeyParam(first); err != nil {
		return Crypto{}, fmt.Errorf("%w:%d %s: %w", errCrypto, tag, quotable(c.Suite), err)
	}
	for _, p := range f[3:] {
		if err := checkSessionParam(p); err != nil {
			return Crypto{}, fmt.Errorf("%w:%d %s: %w", errCrypto, tag, quotable(c.Suite), err)
		}
	}
	return c, nil
}

// parseKeyParam reads "inline:<key||salt>[|<lifetime>][|<mki>:<len>]".
func (c *Crypto) parseKeyParam(p string) error {
	method, info, ok := strings.Cut(p, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return errors.New("key method is not inline")
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return errors.New("more than a key, a lifetime and an MKI")
	}
	key, err := decodeKey(parts[0])
	if err != nil {
		return err
	}
	if n, ok := sdesKeyLens[strings.ToUpper(c.Suite)]; ok && len(key) != n {
		return fmt.Errorf("inline key of %d bytes, the suite's is %d", len(key), n)
	}
	c.Key = key
	for i, part := range parts[1:] {
		if strings.Contains(part, ":") {
			if c.MKI, err = parseMKI(part); err != nil {
				return err
			}
			continue
		}
		if i > 0 || c.MKI != nil {
			return errors.New("lifetime after the MKI")
		}
		if c.Lifetime, err = parseLifetime(part); err != nil {
			return err
		}
	}
	return nil
}

// decodeKey decodes an inline key: base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	k, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(k) == 0 {
		return nil, errors.New("inline key is not base64")
	}
	return k, nil
}

// parseLifetime reads a key lifetime: a decimal count of packets or
// "2^n".
func parseLifetime(s string) (uint64, error) {
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.ParseUint(exp, 10, 8)
		if err != nil || n > 63 {
			return 0, fmt.Errorf("key lifetime %q is not 2^0 to 2^63", quotable(s))
		}
		return 1 << n, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("key lifetime %q is not a positive number", quotable(s))
	}
	return n, nil
}

// parseMKI reads "<value>:<length>": a decimal value in length bytes.
func parseMKI(s string) ([]byte, error) {
	val, length, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(length)
	if err != nil || n < 1 || n > maxMKILen {
		return nil, fmt.Errorf("MKI length %q is not 1 to %d", quotable(length), maxMKILen)
	}
	v, ok := new(big.Int).SetString(val, 10)
	if !ok || v.Sign() < 0 || strings.HasPrefix(val, "+") {
		return nil, fmt.Errorf("MKI value %q is not a decimal number", quotable(val))
	}
	if v.BitLen() > 8*n {
		return nil, fmt.Errorf("MKI value %s does not fit in %d bytes", val, n)
	}
	return v.FillBytes(make([]byte, n)), nil
}

// checkSessionParam accepts the session parameters that change nothing
// for us: the window size hint and the default key derivation rate.
func checkSessionParam(p string) error {
	name, val, _ := strings.Cut(p, "=")
	switch strings.ToUpper(name) {
	case "WSH":
		// The sender's hint for the replay window; ours is the minimum
		// RFC 3711 asks for, which a late packet rarely outlives anyway.
		return nil
	case "KDR":
		if val == "0" {
			return nil
		}
	}
	return fmt.Errorf("session parameter %q not supported", quotable(p))
}

// line returns the attribute value of c: what follows "a=crypto:".
func (c Crypto) line() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(c.Suite)
	b.WriteString(" inline:")
	b.WriteString(base64.StdEncoding.EncodeToString(c.Key))
	if c.Lifetime > 0 {
		b.WriteByte('|')
		b.WriteString(formatLifetime(c.Lifetime))
	}
	if len(c.MKI) > 0 {
		b.WriteByte('|')
		b.WriteString(new(big.Int).SetBytes(c.MKI).String())
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(len(c.MKI)))
	}
	return b.String()
}

// formatLifetime writes a lifetime as 2^n when it is a power of two.
func formatLifetime(n uint64) string {
	if n&(n-1) == 0 {
		e := 0
		for n > 1 {
			n >>= 1
			e++
		}
		return "2^" + strconv.Itoa(e)
	}
	return strconv.FormatUint(n, 10)
}

// valid reports whether c can be written as an a=crypto line that reads
// back as c.
func (c Crypto) valid() bool {
	if n, ok := sdesKeyLens[strings.ToUpper(c.Suite)]; ok && len(c.Key) != n {
		return false
	}
	return c.Tag >= 0 && c.Tag <= maxCryptoTag && len(c.Key) > 0 && len(c.MKI) <= maxMKILen &&
		c.Suite != "" && !strings.ContainsFunc(c.Suite, func(r rune) bool { return r <= ' ' || r >= 0x7f })
}

// String describes c without its key.
func (c Crypto) String() string {
	return fmt.Sprintf("Crypto{Tag: %d, Suite: %s, Key: <redacted, %d bytes>, Lifetime: %d, MKI: <%d bytes>}",
		c.Tag, c.Suite, len(c.Key), c.Lifetime, len(c.MKI))
}

// GoString is String: %#v does not print the key either.
func (c Crypto) GoString() string { return c.String() }

// Format prints c as String does whatever the verb, so that no verb (%x,
// %d, ...) reaches the key bytes.
func (c Crypto) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue logs c's tag, suite and parameters, never its key.
func (c Crypto) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("tag", c.Tag),
		slog.String("suite", c.Suite),
		slog.String("key", redactedKey),
		slog.Uint64("lifetime", c.Lifetime),
		slog.Int("mki_len", len(c.MKI)),
	)
}

// MarshalJSON writes c as LogValue logs it, without the key: a Session
// encoded as JSON (slog's JSON handler does that) shows no key.
func (c Crypto) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Tag      int    `json:"tag"`
		Suite    string `json:"suite"`
		Key      string `json:"key"`
		Lifetime uint64 `json:"lifetime,omitempty"`
		MKILen   int    `json:"mki_len,omitempty"`
	}{c.Tag, c.Suite, redactedKey, c.Lifetime, len(c.MKI)})
}

// redactedKey replaces keys in what is printed or logged.
const redactedKey = "<redacted>"

// redactKeys returns body as text with the key of every inline key
// parameter (RFC 4568 "inline:<base64>") replaced by "<redacted>";
// lifetimes and MKIs stay. A body without one is returned as is.
func redactKeys(body []byte) string {
	i := indexInline(body)
	if i < 0 {
		return string(body)
	}
	var b strings.Builder
	b.Grow(len(body))
	for i >= 0 {
		i += len(inlineMethod)
		b.Write(body[:i])
		body = body[i:]
		n := 0
		for n < len(body) && isBase64Char(body[n]) {
			n++
		}
		if n > 0 {
			b.WriteString(redactedKey)
		}
		body = body[n:]
		i = indexInline(body)
	}
	b.Write(body)
	return b.String()
}

// inlineMethod is the key method of SDES keys given in the clear.
var inlineMethod = []byte("inline:")

// indexInline returns the index of the first "inline:" in s, in any case,
// or -1.
func indexInline(s []byte) int {
	for i := 0; i+len(inlineMethod) <= len(s); i++ {
		if s[i]|0x20 == 'i' && bytes.EqualFold(s[i:i+len(inlineMethod)], inlineMethod) {
			return i
		}
	}
	return -1
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}
