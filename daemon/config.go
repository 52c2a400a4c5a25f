package main

import (
	"bytes"
	"crypto/ed25519"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/callvault/callvault/daemon/recorder"
	"github.com/callvault/callvault/internal/vocab"
	"github.com/callvault/callvault/vault/target"
)

// defaultConfig is the built-in configuration; a config file overrides it
// key by key, flags override both.
//
//go:embed callvaultd.toml
var defaultConfig []byte

// Config is the daemon's configuration file, version 1.
type Config struct {
	Version       int       `toml:"version"`
	DataDir       string    `toml:"data_dir"`
	ControlSocket string    `toml:"control_socket"`
	RecordUnknown bool      `toml:"record_unknown"`
	Stereo        bool      `toml:"stereo"`
	TimeZone      string    `toml:"time_zone"`
	SIP           SIPConfig `toml:"sip"`
	RTP           struct {
		Bind      string `toml:"bind"`
		Ports     string `toml:"ports"`
		ReorderMS int    `toml:"reorder_ms"`
		// Latch accepts RTP from the first source seen rather than only
		// from the address and port the SDP announced (NAT).
		Latch       bool   `toml:"latch"`
		Timeout     string `toml:"timeout"`
		HoldTimeout string `toml:"hold_timeout"`
	} `toml:"rtp"`
	Storage StorageConfig `toml:"storage"`
	// Retention is how long recordings are kept before the purge
	// removes them ([retention] months; 0: for ever).
	Retention struct {
		Months int `toml:"months"`
	} `toml:"retention"`
	Policy  PolicyConfig  `toml:"policy"`
	License LicenseConfig `toml:"license"`
	Phone   PhoneConfig   `toml:"phone"`
	Metrics MetricsConfig `toml:"metrics"`
}

// SIPConfig is the [sip] table.
type SIPConfig struct {
	Listen       string `toml:"listen"`
	MediaAddress string `toml:"media_address"`
	// TLS: a listener with a certificate; with a client CA, mutual TLS.
	TLSListen   string `toml:"tls_listen"`
	TLSCert     string `toml:"tls_cert"`
	TLSKey      string `toml:"tls_key"`
	TLSClientCA string `toml:"tls_client_ca"`
	// Allow lists the networks that may record; empty: everyone.
	Allow []string `toml:"allow"`
	// Bounds: live sessions in all, new sessions per second and burst
	// per source, new sessions per second in all, RTP ports per source,
	// TCP/TLS connections in all and per source, and the idle time after
	// which a connection closes.
	MaxSessions       int     `toml:"max_sessions"`
	SourceRate        float64 `toml:"source_rate"`
	SourceBurst       int     `toml:"source_burst"`
	MaxCPS            float64 `toml:"max_cps"`
	SourcePorts       int     `toml:"source_ports"`
	MaxConnections    int     `toml:"max_connections"`
	SourceConnections int     `toml:"source_connections"`
	IdleTimeout       string  `toml:"idle_timeout"`
}

// parsed holds the values of Config converted to the types the packages take.
type parsed struct {
	location   *time.Location
	mediaAddr  netip.Addr
	rtpBind    netip.Addr
	rtpLo      int
	rtpHi      int
	reorder    time.Duration
	sipAddress string
	minFree    recorder.Reserve
	allow      []netip.Prefix
	// sourcePorts is the RTP ports one source may hold (0: half the pool).
	sourcePorts int
	idleTimeout time.Duration
	// filters choose the calls recorded; keepGrace is how long an ended
	// Live Keep call waits for keep ([policy]).
	filters     recorder.Filters
	keepGrace   time.Duration
	licenseKeys []ed25519.PublicKey
	phoneAllow  []netip.Prefix
	// targets are the copies' targets; keepLocal how long a copied
	// recording stays on the local disk (-1: for ever); node this
	// recorder's number among those sharing a target ([storage]).
	targets   []target.Config
	keepLocal time.Duration
	node      int
	// rtpTimeout ends a call when no leg has received RTP for that long;
	// holdTimeout is the same for legs the gateway put on hold.
	rtpTimeout, holdTimeout time.Duration
}

// loadConfig reads the built-in defaults, then the file at path (if any) on
// top. Keys the daemon does not know are reported, all at once.
func loadConfig(path string, read func(string) ([]byte, error)) (Config, error) {
	var c Config
	if err := decodeStrict(defaultConfig, &c); err != nil {
		return c, fmt.Errorf("built-in config: %w", err)
	}
	if path == "" {
		return c, nil
	}
	data, err := read(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := decodeStrict(data, &c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func decodeStrict(data []byte, c *Config) error {
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(c)
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, fmt.Errorf("unknown key %q", k.String()))
	}
	return errors.Join(errs...)
}

// validate checks every field and reports every problem at once.
func (c Config) validate() (parsed, error) {
	var p parsed
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Version != 1 {
		bad("version: %d is not supported (want 1)", c.Version)
	}
	if c.DataDir == "" {
		bad("data_dir: empty")
	}
	if c.ControlSocket == "" {
		bad("control_socket: empty")
	}
	p.location = time.Local
	if c.TimeZone != "" {
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			bad("time_zone: %w", err)
		} else {
			p.location = loc
		}
	}
	if _, _, err := net.SplitHostPort(c.SIP.Listen); err != nil {
		bad("sip.listen: %w", err)
	}
	p.sipAddress = c.SIP.Listen
	if c.SIP.MediaAddress != "" {
		a, err := netip.ParseAddr(c.SIP.MediaAddress)
		if err != nil {
			bad("sip.media_address: %w", err)
		}
		p.mediaAddr = a
	}
	c.validateEdge(&p, bad)
	a, err := netip.ParseAddr(c.RTP.Bind)
	if err != nil {
		bad("rtp.bind: %w", err)
	}
	p.rtpBind = a
	lo, hi, err := parsePortRange(c.RTP.Ports)
	if err != nil {
		bad("rtp.ports: %w", err)
	}
	p.rtpLo, p.rtpHi = lo, hi
	if p.sourcePorts == 0 && hi > lo {
		p.sourcePorts = max(2, (hi-lo+1)/4) // half the even (RTP) ports
	}
	if c.RTP.ReorderMS < 20 || c.RTP.ReorderMS > 2000 {
		bad("rtp.reorder_ms: %d is outside 20-2000", c.RTP.ReorderMS)
	}
	p.reorder = time.Duration(c.RTP.ReorderMS) * time.Millisecond
	p.rtpTimeout = parseDuration("rtp.timeout", c.RTP.Timeout, time.Second, 24*time.Hour, bad)
	p.holdTimeout = parseDuration("rtp.hold_timeout", c.RTP.HoldTimeout, time.Second, 7*24*time.Hour, bad)
	if p.holdTimeout != 0 && p.holdTimeout < p.rtpTimeout {
		bad("rtp.hold_timeout: %v is shorter than rtp.timeout (%v)", p.holdTimeout, p.rtpTimeout)
	}
	if p.minFree, err = recorder.ParseReserve(c.Storage.MinFree); err != nil {
		bad("storage.min_free: %w", err)
	}
	c.validatePolicy(&p, bad)
	c.validateLicense(&p, bad)
	c.validatePhone(&p, bad)
	c.validateMetrics(bad)
	c.validateStorage(&p, bad)
	if msg := vocab.CheckRetention(c.Retention.Months); msg != "" {
		bad("retention.months: %s", msg)
	}
	return p, errors.Join(errs...)
}

// validateEdge checks the [sip] keys that bound the SIP edge.
func (c Config) validateEdge(p *parsed, bad func(string, ...any)) {
	s := c.SIP
	if s.TLSListen != "" {
		if _, _, err := net.SplitHostPort(s.TLSListen); err != nil {
			bad("sip.tls_listen: %w", err)
		}
		if s.TLSCert == "" {
			bad("sip.tls_cert: empty, but sip.tls_listen is set")
		}
	} else if s.TLSCert != "" || s.TLSKey != "" || s.TLSClientCA != "" {
		bad("sip.tls_listen: empty, but a TLS certificate, key or client CA is set")
	}
	for _, a := range s.Allow {
		pr, err := parsePrefix(a)
		if err != nil {
			bad("sip.allow: %q: want an address or a network such as \"192.0.2.0/24\"", a)
			continue
		}
		p.allow = append(p.allow, pr)
	}
	nonNegative := func(key string, n int) {
		if n < 0 {
			bad("sip.%s: %d is negative", key, n)
		}
	}
	nonNegative("max_sessions", s.MaxSessions)
	nonNegative("source_burst", s.SourceBurst)
	nonNegative("source_ports", s.SourcePorts)
	nonNegative("max_connections", s.MaxConnections)
	nonNegative("source_connections", s.SourceConnections)
	if s.SourceRate < 0 {
		bad("sip.source_rate: %v is negative", s.SourceRate)
	}
	if s.SourceRate > 0 && s.SourceBurst < 1 {
		bad("sip.source_burst: must be at least 1 when sip.source_rate is set")
	}
	if !(s.MaxCPS >= 0) { // NaN too
		bad("sip.max_cps: %v is not a rate (0 or more calls a second)", s.MaxCPS)
	}
	p.sourcePorts = s.SourcePorts
	if s.IdleTimeout != "0" {
		p.idleTimeout = parseDuration("sip.idle_timeout", s.IdleTimeout, time.Second, 24*time.Hour, bad)
	}
}

// parsePrefix reads a network ("192.0.2.0/24") or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// parsePortRange parses "LO-HI": at least two ports, LO below HI, both in
// 1024-65535.
func parsePortRange(s string) (lo, hi int, err error) {
	l, h, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want LO-HI", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(l))
	hi, err2 := strconv.Atoi(strings.TrimSpace(h))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q: ports must be numbers", s)
	}
	if lo < 1024 || hi > 65535 || hi-lo < 1 {
		return 0, 0, fmt.Errorf("%q: want 1024 <= LO < HI <= 65535", s)
	}
	return lo, hi, nil
}

// parseDuration reads a Go duration ("60s", "2h") between lo and hi,
// reporting a problem through bad.
func parseDuration(key, s string, lo, hi time.Duration, bad func(string, ...any)) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		bad("%s: %q: want a duration such as \"60s\" or \"2h\"", key, s)
		return 0
	}
	if d < lo || d > hi {
		bad("%s: %v is outside %v-%v", key, d, lo, hi)
		return 0
	}
	return d
}
