package main

import (
	"net"
	"time"

	"github.com/callvault/callvault/daemon/license"
	"github.com/callvault/callvault/daemon/phone"
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

// PhoneConfig is the [phone] table: the Cisco IP Phone service's
// listener, the phones' networks, and the URL phones reach it at.
type PhoneConfig struct {
	Listen  string   `toml:"listen"`
	Allow   []string `toml:"allow"`
	BaseURL string   `toml:"base_url"`
}

// validatePhone checks [phone]: with a listener, the phones' networks
// must be listed (the service starts and stops recordings).
func (c Config) validatePhone(p *parsed, bad func(string, ...any)) {
	ph := c.Phone
	p.phoneAllow = nil
	for _, a := range ph.Allow {
		pre, err := parsePrefix(a)
		if err != nil {
			bad("phone.allow: %w", err)
			continue
		}
		p.phoneAllow = append(p.phoneAllow, pre)
	}
	if ph.Listen == "" {
		return
	}
	if _, _, err := net.SplitHostPort(ph.Listen); err != nil {
		bad("phone.listen: %w", err)
	}
	if len(ph.Allow) == 0 {
		bad("phone.allow: empty, but phone.listen is set: list the phones' networks")
	}
	if ph.BaseURL != "" {
		if err := phone.CheckBaseURL(ph.BaseURL); err != nil {
			bad("phone.base_url: %w", err)
		}
	}
}

// MetricsConfig is the [metrics] table: the Prometheus endpoint.
type MetricsConfig struct {
	Listen string `toml:"listen"`
}

// validateMetrics checks [metrics].
func (c Config) validateMetrics(bad func(string, ...any)) {
	if c.Metrics.Listen == "" {
		return
	}
	if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
		bad("metrics.listen: %w", err)
	}
}
