// Package license is callvault's signed licences: the licence a site
// runs under (user- or channel-based, a count, an optional expiry), how
// a vendor issues it offline with an Ed25519 key, and how the daemon
// verifies, installs and loads it. It also holds the pure rules the
// daemon applies to a licence in force: usage alarms with hysteresis
// (alarm.go) and the expiry warning.
//
// # Keys
//
// The signing key lives in license.key, written by `callvaultd license
// keygen -out DIR` with mode 0600: a PEM block of type "PRIVATE KEY"
// holding the Ed25519 private key in PKCS#8 (crypto/x509), the format
// `openssl genpkey -algorithm ed25519` writes. A public key is written
// on one line as
//
//	ed25519:<standard base64, with padding, of the 32-byte public key>
//
// which is what [license] public_keys in the daemon's configuration
// lists. A daemon trusts a licence only when it is signed by one of those
// keys; several keys may be listed, so that a key can be replaced
// without invalidating the licences the old one signed.
//
// # Licence file
//
// A licence file is a JSON object with exactly three members:
//
//	{
//	  "license": {
//	    "count": 8,
//	    "customer": "ACME",
//	    "expires": "2027-03-31",
//	    "issued": "2026-04-01T09:30:00Z",
//	    "model": "channel"
//	  },
//	  "key": "ed25519:<public key, as above>",
//	  "signature": "ed25519:<standard base64 of the 64-byte signature>"
//	}
//
// "license" is the signed claim: customer (non-empty UTF-8 of at most
// 200 bytes, no control characters, no U+2028 or U+2029, no surrounding
// spaces), model ("user": at most count named users are recorded;
// "channel": at most count recordings at once), count (1 to 1000000),
// expires (a date YYYY-MM-DD, or the member left out for a licence that
// never expires) and issued (the issue time, RFC 3339 in UTC with whole
// seconds: YYYY-MM-DDTHH:MM:SSZ). "key" names the public key that signed
// it, so that a licence from an unknown key and an altered one are told
// apart; it is a hint only: the signature is checked with the trusted
// key of the same value, never with a key taken from the file.
//
// # Canonical form
//
// The signature is Ed25519 (RFC 8032, pure, no pre-hash) over the
// canonical form of the license object, not over its bytes in the file:
// the JSON object with the members in the byte order of their names
// (count, customer, expires, issued, model), expires left out when there
// is none, no whitespace anywhere, count as decimal digits, and strings
// in UTF-8 with only '"' and '\' escaped (as \" and \\). This is the
// RFC 8785 (JCS) serialisation of the object: the rules above on its
// values leave nothing else to escape. It is what encoding/json writes
// for the struct canonicalForm with HTML escaping off.
//
// Verify decodes the object, re-encodes it canonically and checks the
// signature over that, so re-indenting the file, reordering its members
// or escaping a character differently does not matter, while any change
// of a value does. Decoding is strict: a member not listed above (which
// would be an unsigned claim), a duplicate or differently cased member
// name, a null, a count that is not an integer, a time or date not in
// the exact form above, or anything after the object makes the file
// malformed.
//
// # Validity
//
// A licence expires at the end of its expiry day in UTC: one dated
// 2027-03-31 is valid until 2027-04-01T00:00:00Z and expired from that
// instant. Verify's errors wrap one of ErrMalformed, ErrUntrusted,
// ErrBadSignature, ErrInvalid and ErrExpired, checked in that order.
//
// Without a valid licence the daemon runs under the evaluation licence
// (Evaluation: 8 channels, no expiry). Load never fails to give a licence:
// when license.json in the data dir is missing it gives the evaluation
// one, and when the file fails verification it gives the evaluation one
// together with the reason, for the caller to log and show; the daemon
// never refuses to start over a licence.
package license
