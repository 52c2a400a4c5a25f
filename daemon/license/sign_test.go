package license

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var issued = time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)

func acme() License {
	return License{Customer: "ACME", Model: ModelChannel, Count: 8, Expires: "2027-03-31", Issued: issued}
}

// issue signs l with a new key and returns the file and the key.
func issue(t *testing.T, l License) ([]byte, ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	priv, pub := GenerateKey()
	data, err := Issue(l, priv)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return data, priv, pub
}

func TestRoundTrip(t *testing.T) {
	for _, l := range []License{
		acme(),
		{Customer: "Ünïcødé & <Co> \"Ltd\" \\ 東京", Model: ModelUser, Count: 1, Issued: issued},
		{Customer: "x", Model: ModelUser, Count: MaxCount, Expires: "2026-04-01", Issued: issued},
	} {
		data, _, pub := issue(t, l)
		got, err := Verify(data, []ed25519.PublicKey{pub}, issued)
		if err != nil {
			t.Fatalf("Verify(%+v): %v\n%s", l, err, data)
		}
		if got != l {
			t.Errorf("Verify gave %+v, want %+v", got, l)
		}
		if got.IsEvaluation() {
			t.Errorf("%+v is taken for the evaluation licence", got)
		}
	}
}

func TestIssueNormalisesIssueTime(t *testing.T) {
	priv, pub := GenerateKey()
	l := acme()
	l.Issued = time.Date(2026, 4, 1, 11, 30, 0, 999_999_999, time.FixedZone("CEST", 2*3600))
	data, err := Issue(l, priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(data, []ed25519.PublicKey{pub}, issued)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Issued.Equal(issued) || got.Issued.Location() != time.UTC {
		t.Errorf("issued %v, want %v", got.Issued, issued)
	}

	l.Issued = time.Time{}
	before := time.Now().Add(-time.Second)
	data, err = Issue(l, priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err = Verify(data, []ed25519.PublicKey{pub}, issued)
	if err != nil {
		t.Fatal(err)
	}
	if got.Issued.Before(before.Truncate(time.Second)) || got.Issued.Nanosecond() != 0 {
		t.Errorf("a zero issue time became %v, want now in whole seconds", got.Issued)
	}
}

func TestIssueRefusesInvalid(t *testing.T) {
	priv, _ := GenerateKey()
	for name, mod := range map[string]func(*License){
		"no customer":         func(l *License) { l.Customer = "" },
		"padded customer":     func(l *License) { l.Customer = " ACME" },
		"control character":   func(l *License) { l.Customer = "AC\nME" },
		"line separator":      func(l *License) { l.Customer = "AC\u2028ME" },
		"bad UTF-8":           func(l *License) { l.Customer = "AC\xffME" },
		"long customer":       func(l *License) { l.Customer = strings.Repeat("x", MaxCustomerLen+1) },
		"model":               func(l *License) { l.Model = "site" },
		"count 0":             func(l *License) { l.Count = 0 },
		"count -1":            func(l *License) { l.Count = -1 },
		"count too big":       func(l *License) { l.Count = MaxCount + 1 },
		"date form":           func(l *License) { l.Expires = "2027-3-31" },
		"no such day":         func(l *License) { l.Expires = "2027-02-30" },
		"expiry before issue": func(l *License) { l.Expires = "2026-03-31" },
	} {
		l := acme()
		mod(&l)
		if data, err := Issue(l, priv); err == nil {
			t.Errorf("%s: Issue(%+v) succeeded:\n%s", name, l, data)
		}
	}
	if _, err := Issue(acme(), nil); err == nil {
		t.Error("Issue with no key succeeded")
	}
}

// edit decodes a licence file, applies change to its generic form and
// encodes it again.
func edit(t *testing.T, data []byte, change func(f, lic map[string]any)) []byte {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	change(f, f["license"].(map[string]any))
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTamperedFieldsFail(t *testing.T) {
	data, _, pub := issue(t, acme())
	_, otherPub := GenerateKey()
	trusted := []ed25519.PublicKey{pub, otherPub}
	for name, change := range map[string]func(f, lic map[string]any){
		"customer":          func(_, l map[string]any) { l["customer"] = "ACME2" },
		"customer case":     func(_, l map[string]any) { l["customer"] = "acme" },
		"model":             func(_, l map[string]any) { l["model"] = "user" },
		"count":             func(_, l map[string]any) { l["count"] = 80 },
		"expires":           func(_, l map[string]any) { l["expires"] = "2037-03-31" },
		"expires removed":   func(_, l map[string]any) { delete(l, "expires") },
		"issued":            func(_, l map[string]any) { l["issued"] = "2026-04-01T09:30:01Z" },
		"signature":         func(f, _ map[string]any) { f["signature"] = flipLast(f["signature"].(string)) },
		"other trusted key": func(f, _ map[string]any) { f["key"] = FormatPublicKey(otherPub) },
	} {
		_, err := Verify(edit(t, data, change), trusted, issued)
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed: Verify = %v, want ErrBadSignature", name, err)
		}
	}

	// An expiry added to a licence without one.
	l := acme()
	l.Expires = ""
	data, _, pub = issue(t, l)
	_, err := Verify(edit(t, data, func(_, l map[string]any) { l["expires"] = "2030-01-01" }), []ed25519.PublicKey{pub}, issued)
	if !errors.Is(err, ErrBadSignature) {
		t.Errorf("expires added: Verify = %v, want ErrBadSignature", err)
	}
}

// flipLast changes the last byte a base64 string encodes.
func flipLast(s string) string {
	prefix, enc, _ := strings.Cut(s, ":")
	b, _ := b64.DecodeString(enc)
	b[len(b)-1] ^= 1
	return prefix + ":" + b64.EncodeToString(b)
}

func TestReformattedFileVerifies(t *testing.T) {
	l := acme()
	l.Customer = "A&B <Co>"
	data, _, pub := issue(t, l)
	trusted := []ed25519.PublicKey{pub}

	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	var f struct{ Key, Signature string }
	json.Unmarshal(data, &f)
	// Members reordered, spread over lines with tabs and CRLF, strings
	// escaped differently (json.Marshal's \u0026 and \u003c among them).
	reordered := "\r\n{ \"signature\" :\t\"" + f.Signature + "\",\r\n" +
		"\t\"license\": {\"model\":\"\\u0063hannel\" , \"issued\":\"2026-04-01T09:30:00Z\",\n" +
		"\t\t\"expires\": \"2027-03-31\", \"customer\": \"A\\u0026B \\u003cCo>\", \"count\" : 8},\n" +
		"\t\"key\": \"" + f.Key + "\"}\n\n"
	for name, d := range map[string][]byte{
		"compact":    compact.Bytes(),
		"re-encoded": edit(t, data, func(_, _ map[string]any) {}),
		"reordered":  []byte(reordered),
	} {
		got, err := Verify(d, trusted, issued)
		if err != nil {
			t.Errorf("%s: Verify = %v\n%s", name, err, d)
		} else if got != l {
			t.Errorf("%s: Verify gave %+v, want %+v", name, got, l)
		}
	}
}

func TestMalformedFiles(t *testing.T) {
	data, _, pub := issue(t, acme())
	trusted := []ed25519.PublicKey{pub}
	replace := func(old, new string) []byte {
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%q not in the file:\n%s", old, data)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	for name, d := range map[string][]byte{
		"unknown license member": edit(t, data, func(_, l map[string]any) { l["seats"] = 100 }),
		"unknown file member":    edit(t, data, func(f, _ map[string]any) { f["comment"] = "hi" }),
		"duplicate member":       replace(`"count": 8,`, `"count": 8, "count": 800,`),
		"member name case":       replace(`"count"`, `"Count"`),
		"null expires":           replace(`"2027-03-31"`, `null`),
		"count as a string":      replace(`"count": 8`, `"count": "8"`),
		"count as a float":       replace(`"count": 8`, `"count": 8.0`),
		"count in exponent form": replace(`"count": 8`, `"count": 8e0`),
		"issued with an offset":  replace(`09:30:00Z`, `11:30:00+02:00`),
		"issued fractional":      replace(`09:30:00Z`, `09:30:00.0Z`),
		"date form":              replace(`2027-03-31`, `2027-3-31`),
		"no signature":           edit(t, data, func(f, _ map[string]any) { delete(f, "signature") }),
		"no key":                 edit(t, data, func(f, _ map[string]any) { delete(f, "key") }),
		"no customer":            edit(t, data, func(_, l map[string]any) { delete(l, "customer") }),
		"no issued":              edit(t, data, func(_, l map[string]any) { delete(l, "issued") }),
		"short signature":        edit(t, data, func(f, _ map[string]any) { f["signature"] = "ed25519:AAAA" }),
		"signature algorithm":    edit(t, data, func(f, _ map[string]any) { f["signature"] = "rsa:" + f["signature"].(string)[8:] }),
		"key not base64":         edit(t, data, func(f, _ map[string]any) { f["key"] = "ed25519:not base64!" }),
		"license not an object":  edit(t, data, func(f, _ map[string]any) { f["license"] = "ACME, 8 channels" }),
		"trailing data":          append(bytes.Clone(data), "{}"...),
		"truncated":              data[:len(data)/2],
		"array":                  []byte(`[]`),
		"empty":                  nil,
	} {
		_, err := Verify(d, trusted, issued)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify = %v, want ErrMalformed", name, err)
		}
	}
}

func TestUntrustedKey(t *testing.T) {
	data, _, _ := issue(t, acme())
	_, other := GenerateKey()
	for _, trusted := range [][]ed25519.PublicKey{{other}, nil} {
		_, err := Verify(data, trusted, issued)
		if !errors.Is(err, ErrUntrusted) {
			t.Errorf("Verify with %d other keys = %v, want ErrUntrusted", len(trusted), err)
		} else if !strings.Contains(err.Error(), "signed by a key not in [license] public_keys") {
			t.Errorf("error %q does not say the key is not trusted", err)
		}
	}
	// A forged file naming an untrusted key is untrusted, not altered.
	priv, pub := GenerateKey()
	forged, err := Issue(acme(), priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(forged, []ed25519.PublicKey{other}, issued); !errors.Is(err, ErrUntrusted) {
		t.Errorf("forged: Verify = %v, want ErrUntrusted", err)
	}
	if _, err := Verify(forged, []ed25519.PublicKey{other, pub}, issued); err != nil {
		t.Errorf("second of two trusted keys: Verify = %v", err)
	}
}

func TestSignedButInvalid(t *testing.T) {
	// A file signed over values Issue refuses (a newer model, say) is
	// invalid, not malformed or altered.
	priv, pub := GenerateKey()
	l := acme()
	l.Model = "site"
	msg := canonical(l)
	data, _ := json.Marshal(map[string]any{
		"license":   json.RawMessage(msg),
		"key":       FormatPublicKey(pub),
		"signature": "ed25519:" + b64.EncodeToString(ed25519.Sign(priv, msg)),
	})
	_, err := Verify(data, []ed25519.PublicKey{pub}, issued)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"site"`) {
		t.Errorf("Verify = %v, want ErrInvalid naming the model", err)
	}
}

func TestCanonicalForm(t *testing.T) {
	l := License{Customer: `A&B <"Co"> \ é`, Model: ModelUser, Count: 12, Issued: issued}
	want := `{"count":12,"customer":"A&B <\"Co\"> \\ é","issued":"2026-04-01T09:30:00Z","model":"user"}`
	if got := string(canonical(l)); got != want {
		t.Errorf("canonical form\n got %s\nwant %s", got, want)
	}
	l.Expires = "2027-01-01"
	want = `{"count":12,"customer":"A&B <\"Co\"> \\ é","expires":"2027-01-01","issued":"2026-04-01T09:30:00Z","model":"user"}`
	if got := string(canonical(l)); got != want {
		t.Errorf("canonical form\n got %s\nwant %s", got, want)
	}
}

func TestExpiryAtEndOfDayUTC(t *testing.T) {
	l := acme()
	l.Expires = "2026-01-31"
	l.Issued = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	data, _, pub := issue(t, l)
	trusted := []ed25519.PublicKey{pub}
	for _, now := range []time.Time{
		time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 31, 23, 59, 59, 999_999_999, time.UTC),
		// 23:30 UTC on the last day, already the 1st in Paris.
		time.Date(2026, 2, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)),
	} {
		if _, err := Verify(data, trusted, now); err != nil {
			t.Errorf("at %v: Verify = %v, want valid", now, err)
		}
	}
	for _, now := range []time.Time{
		time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		// 00:30 UTC on the 1st, still the 31st in New York.
		time.Date(2026, 1, 31, 19, 30, 0, 0, time.FixedZone("EST", -5*3600)),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		_, err := Verify(data, trusted, now)
		if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "expired on 2026-01-31") {
			t.Errorf("at %v: Verify = %v, want ErrExpired on 2026-01-31", now, err)
		}
	}
}
