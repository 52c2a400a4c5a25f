package license

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// The kinds of Verify's errors; each is wrapped with the detail.
var (
	ErrMalformed    = errors.New("malformed licence file")
	ErrUntrusted    = errors.New("licence signed by a key not in [license] public_keys")
	ErrBadSignature = errors.New("licence signature does not match: the licence was altered after it was signed")
	ErrInvalid      = errors.New("invalid licence")
	ErrExpired      = errors.New("licence expired")
)

// file is a licence file; License holds the signed object as it came.
type file struct {
	License   json.RawMessage `json:"license"`
	Key       string          `json:"key"`
	Signature string          `json:"signature"`
}

// canonicalForm is the signed object: its JSON encoding, with HTML
// escaping off and the values valid, is the canonical form of the package
// doc (members in the byte order of their names).
type canonicalForm struct {
	Count    int    `json:"count"`
	Customer string `json:"customer"`
	Expires  string `json:"expires,omitempty"`
	Issued   string `json:"issued"`
	Model    string `json:"model"`
}

// canonical is the canonical form of l, the bytes a signature covers.
func canonical(l License) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Strings, an int: encoding cannot fail.
	_ = enc.Encode(canonicalForm{
		Count:    l.Count,
		Customer: l.Customer,
		Expires:  l.Expires,
		Issued:   l.Issued.UTC().Format(issuedLayout),
		Model:    l.Model,
	})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Issue signs l and returns the licence file. A zero l.Issued is set to
// the current time; any is cut to whole seconds in UTC. It refuses a
// licence that Verify would find invalid.
func Issue(l License, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("issue: signing key of %d bytes, want an Ed25519 key", len(priv))
	}
	if l.Issued.IsZero() {
		l.Issued = time.Now()
	}
	l.Issued = l.Issued.UTC().Truncate(time.Second)
	if err := validate(l); err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	msg := canonical(l)
	f := file{
		License:   msg,
		Key:       FormatPublicKey(priv.Public().(ed25519.PublicKey)),
		Signature: keyPrefix + b64.EncodeToString(ed25519.Sign(priv, msg)),
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	return b.Bytes(), nil
}

// Verify checks a licence file: well formed, signed by one of trusted,
// not altered, valid, not expired at now. Its errors wrap ErrMalformed,
// ErrUntrusted, ErrBadSignature, ErrInvalid or ErrExpired.
func Verify(data []byte, trusted []ed25519.PublicKey, now time.Time) (License, error) {
	f, l, err := decode(data)
	if err != nil {
		return License{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	signer, _ := ParsePublicKey(f.Key) // decode checked it
	var key ed25519.PublicKey
	for _, k := range trusted {
		if signer.Equal(k) {
			key = k
			break
		}
	}
	if key == nil {
		if len(trusted) == 0 {
			return License{}, fmt.Errorf("%w (none are configured): it names %s", ErrUntrusted, f.Key)
		}
		return License{}, fmt.Errorf("%w: it names %s", ErrUntrusted, f.Key)
	}
	sig, _ := decodePrefixed(f.Signature, ed25519.SignatureSize) // decode checked it
	if !ed25519.Verify(key, canonical(l), sig) {
		return License{}, ErrBadSignature
	}
	if err := validate(l); err != nil {
		return License{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if Expired(l, now) {
		return License{}, fmt.Errorf("%w on %s", ErrExpired, l.Expires)
	}
	return l, nil
}

// Members of the file and of the license object.
var (
	fileMembers    = []string{"license", "key", "signature"}
	licenseMembers = []string{"count", "customer", "expires", "issued", "model"}
	optional       = map[string]bool{"expires": true}
)

// decode reads a licence file strictly (see the package doc), without
// judging the licence's values beyond their types and forms.
func decode(data []byte) (file, License, error) {
	var f file
	top, err := members(data, fileMembers)
	if err != nil {
		return f, License{}, err
	}
	for _, name := range fileMembers {
		if top[name] == nil {
			return f, License{}, fmt.Errorf("no %q member", name)
		}
	}
	if err := json.Unmarshal(top["key"], &f.Key); err != nil {
		return f, License{}, fmt.Errorf("key: %v", err)
	}
	if _, err := ParsePublicKey(f.Key); err != nil {
		return f, License{}, fmt.Errorf("key: %v", err)
	}
	if err := json.Unmarshal(top["signature"], &f.Signature); err != nil {
		return f, License{}, fmt.Errorf("signature: %v", err)
	}
	if _, err := decodePrefixed(f.Signature, ed25519.SignatureSize); err != nil {
		return f, License{}, fmt.Errorf("signature %q: %v", f.Signature, err)
	}
	f.License = top["license"]

	obj, err := members(f.License, licenseMembers)
	if err != nil {
		return f, License{}, fmt.Errorf("license: %v", err)
	}
	for _, name := range licenseMembers {
		if obj[name] == nil && !optional[name] {
			return f, License{}, fmt.Errorf("license: no %q member", name)
		}
	}
	var l License
	var issued string
	for name, dst := range map[string]any{
		"customer": &l.Customer, "model": &l.Model, "count": &l.Count,
		"expires": &l.Expires, "issued": &issued,
	} {
		if obj[name] == nil {
			continue
		}
		if err := json.Unmarshal(obj[name], dst); err != nil {
			return f, License{}, fmt.Errorf("license: %s: %v", name, err)
		}
	}
	if obj["expires"] != nil {
		if _, err := ParseDate(l.Expires); err != nil {
			return f, License{}, fmt.Errorf("license: %v", err)
		}
	}
	t, err := time.Parse(issuedLayout, issued)
	if err != nil || t.Format(issuedLayout) != issued {
		return f, License{}, fmt.Errorf("license: issued %q: want YYYY-MM-DDTHH:MM:SSZ", issued)
	}
	l.Issued = t
	return f, l, nil
}

// members reads a JSON object whose member names are among allowed, each
// at most once and spelled exactly, none null, with nothing after it.
func members(data []byte, allowed []string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name := tok.(string) // a member name, or Token fails
		if !slices.Contains(allowed, name) {
			return nil, fmt.Errorf("unknown member %q", name)
		}
		if out[name] != nil {
			return nil, fmt.Errorf("member %q twice", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if string(v) == "null" {
			return nil, fmt.Errorf("member %q is null", name)
		}
		out[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the object")
	}
	return out, nil
}
