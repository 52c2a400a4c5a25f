package main

import (
	"time"

	"github.com/callvault/callvault/daemon/license"
	"github.com/callvault/callvault/daemon/recorder"
	"github.com/callvault/callvault/internal/vocab"
)

// PolicyConfig is the [policy] table: which calls are recorded, and how
// long a Live Keep call that ended waits for its keep.
type PolicyConfig struct {
	KeepGrace         string   `toml:"keep_grace"`
	Direction         string   `toml:"direction"`
	External          string   `toml:"external"`
	ExternalMinDigits int      `toml:"external_min_digits"`
	ExternalPrefixes  []string `toml:"external_prefixes"`
}

// validatePolicy checks [policy] and fills p's filters and keep grace.
func (c Config) validatePolicy(p *parsed, bad func(string, ...any)) {
	pc := c.Policy
	p.keepGrace = parseDuration("policy.keep_grace", pc.KeepGrace, 0, time.Hour, bad)
	if problem := vocab.CheckFilter(pc.Direction, pc.External); problem != "" {
		bad("policy: %s", problem)
	}
	if pc.ExternalMinDigits < 0 || pc.ExternalMinDigits > 32 {
		bad("policy.external_min_digits: %d is outside 0-32", pc.ExternalMinDigits)
	}
	for _, pre := range pc.ExternalPrefixes {
		if pre == "" || len(pre) > 16 {
			bad("policy.external_prefixes: %q: want 1 to 16 characters", pre)
		}
	}
	p.filters = recorder.Filters{Direction: pc.Direction, External: pc.External,
		MinDigits: pc.ExternalMinDigits, Prefixes: pc.ExternalPrefixes}
}

// LicenseConfig is the [license] table: the public keys a licence file
// must be signed with ("ed25519:<base64>", as `callvaultd license keygen`
// prints them).
type LicenseConfig struct {
	PublicKeys []string `toml:"public_keys"`
}

// validateLicense parses [license] public_keys.
func (c Config) validateLicense(p *parsed, bad func(string, ...any)) {
	p.licenseKeys = nil
	for _, k := range c.License.PublicKeys {
		pub, err := license.ParsePublicKey(k)
		if err != nil {
			bad("license.public_keys: %w", err)
			continue
		}
		p.licenseKeys = append(p.licenseKeys, pub)
	}
}
