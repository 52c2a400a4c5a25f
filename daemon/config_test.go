package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c, err := loadConfig("", os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.validate()
	if err != nil {
		t.Fatalf("built-in config: %v", err)
	}
	if c.SIP.Listen != "0.0.0.0:5060" || p.rtpLo != 16384 || p.rtpHi != 32767 || !c.RecordUnknown || c.Stereo {
		t.Fatalf("defaults = %+v, want the contract's", c)
	}
	if c.DataDir != "/var/lib/callvault" || c.ControlSocket != "/run/callvault/control.sock" {
		t.Fatalf("paths = %q %q, want the contract's", c.DataDir, c.ControlSocket)
	}
}

func TestConfigFileOverridesOnlyItsKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte("stereo = true\n[rtp]\nports = \"20000-20099\"\n"), 0o644)
	c, err := loadConfig(path, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Stereo || c.RTP.Ports != "20000-20099" || c.SIP.Listen != "0.0.0.0:5060" || c.RTP.ReorderMS != 200 {
		t.Fatalf("config = %+v: want stereo and ports from the file, the rest default", c)
	}
}

func TestConfigRejectsUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte("sterio = true\n[sip]\nlisten = \"0.0.0.0:5060\"\nlissen = \"x\"\n"), 0o644)
	_, err := loadConfig(path, os.ReadFile)
	if err == nil || !strings.Contains(err.Error(), `"sterio"`) || !strings.Contains(err.Error(), `"sip.lissen"`) {
		t.Fatalf("err = %v, want both unknown keys named", err)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	c, _ := loadConfig("", os.ReadFile)
	c.Version = 2
	c.SIP.Listen = "nowhere"
	c.RTP.Ports = "30000-20000"
	c.RTP.Bind = "not-an-ip"
	c.TimeZone = "Mars/Olympus"
	_, err := c.validate()
	for _, want := range []string{"version", "sip.listen", "rtp.ports", "rtp.bind", "time_zone"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}

func TestConfigMissingFile(t *testing.T) {
	_, err := loadConfig(filepath.Join(t.TempDir(), "none.toml"), os.ReadFile)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}

func TestParsePortRange(t *testing.T) {
	for _, c := range []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"16384-32767", 16384, 32767, true},
		{" 20000 - 20001 ", 20000, 20001, true},
		{"20000", 0, 0, false},
		{"80-90", 0, 0, false},
		{"20000-20000", 0, 0, false},
		{"a-b", 0, 0, false},
		{"60000-70000", 0, 0, false},
	} {
		lo, hi, err := parsePortRange(c.in)
		if (err == nil) != c.ok || lo != c.lo || hi != c.hi {
			t.Errorf("parsePortRange(%q) = %d, %d, %v", c.in, lo, hi, err)
		}
	}
}

func TestConfigSIPEdge(t *testing.T) {
	c, _ := loadConfig("", os.ReadFile)
	p, err := c.validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.allow) != 0 || p.sourcePorts != 4096 || p.idleTimeout != 10*time.Minute || c.SIP.MaxSessions != 2000 || c.SIP.MaxCPS != 0 {
		t.Errorf("defaults: allow %v, source ports %d, idle %v, max sessions %d, max cps %g", p.allow, p.sourcePorts, p.idleTimeout, c.SIP.MaxSessions, c.SIP.MaxCPS)
	}
	c.SIP.MaxCPS = 2.5
	if got := sipConfig(c, p, nil).Admission.MaxCPS; got != 2.5 {
		t.Errorf("sip.max_cps 2.5 reaches the SIP server as %g", got)
	}
	c.SIP.Allow = []string{"192.0.2.0/24", "198.51.100.7", "2001:db8::/32"}
	c.SIP.IdleTimeout = "0"
	if p, err = c.validate(); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.allow); got != "[192.0.2.0/24 198.51.100.7/32 2001:db8::/32]" || p.idleTimeout != 0 {
		t.Errorf("allow = %s, idle %v", got, p.idleTimeout)
	}

	bad, _ := loadConfig("", os.ReadFile)
	bad.SIP.Allow = []string{"192.0.2.0/33", "gateway.example.com"}
	bad.SIP.TLSCert = "/etc/callvault/sip.pem"
	bad.SIP.SourceRate = 5
	bad.SIP.SourceBurst = 0
	bad.SIP.MaxSessions = -1
	bad.SIP.IdleTimeout = "soon"
	bad.SIP.MaxCPS = -1
	_, err = bad.validate()
	for _, want := range []string{`"192.0.2.0/33"`, `"gateway.example.com"`, "sip.tls_listen: empty", "sip.source_burst", "sip.max_sessions", "sip.idle_timeout", "sip.max_cps"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
	noCert, _ := loadConfig("", os.ReadFile)
	noCert.SIP.TLSListen = "0.0.0.0:5061"
	if _, err := noCert.validate(); err == nil || !strings.Contains(err.Error(), "sip.tls_cert: empty") {
		t.Errorf("tls_listen without a certificate: %v", err)
	}
	if _, err := sipTLS(Config{SIP: SIPConfig{TLSListen: ":5061", TLSCert: "/nonexistent.pem"}}, ""); err == nil || !strings.Contains(err.Error(), "sip.tls_cert /nonexistent.pem") {
		t.Errorf("missing certificate file: %v", err)
	}
}

func TestConfigPolicy(t *testing.T) {
	c, _ := loadConfig("", os.ReadFile)
	p, err := c.validate()
	if err != nil || p.keepGrace != 10*time.Second || p.filters.Direction != "both" || p.filters.External != "any" || p.filters.MinDigits != 6 {
		t.Fatalf("default policy: %+v %v, %v", p.filters, p.keepGrace, err)
	}
	file := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(file, []byte("version = 1\n[policy]\ndirection = \"out\"\nexternal = \"only\"\nexternal_prefixes = [\"9\", \"+\"]\nkeep_grace = \"30s\"\n"), 0o600)
	c, err = loadConfig(file, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = c.validate(); err != nil || p.filters.Direction != "out" || p.filters.External != "only" || len(p.filters.Prefixes) != 2 || p.keepGrace != 30*time.Second {
		t.Fatalf("policy from a file: %+v %v, %v", p.filters, p.keepGrace, err)
	}
	c.Policy.Direction, c.Policy.External, c.Policy.KeepGrace, c.Policy.ExternalMinDigits = "sideways", "some", "2d", -1
	_, err = c.validate()
	for _, want := range []string{"direction \"sideways\"", "policy.keep_grace", "policy.external_min_digits"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}

func TestConfigPhoneAndLicense(t *testing.T) {
	c, _ := loadConfig("", os.ReadFile)
	c.Phone.Listen = "0.0.0.0:8080"
	c.License.PublicKeys = []string{"ed25519:nope"}
	c.Metrics.Listen = "nowhere"
	_, err := c.validate()
	c.Metrics.Listen = ""
	for _, want := range []string{"phone.allow: empty", "license.public_keys", "metrics.listen"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
	c.Phone.Allow, c.Phone.BaseURL, c.License.PublicKeys = []string{"10.20.0.0/16"}, "ftp://x", nil
	if _, err := c.validate(); err == nil || !strings.Contains(err.Error(), "phone.base_url") {
		t.Errorf("err = %v, want phone.base_url named", err)
	}
	c.Phone.BaseURL = "http://recorder.example:8080"
	if p, err := c.validate(); err != nil || len(p.phoneAllow) != 1 {
		t.Errorf("a good [phone]: %v, %v", p.phoneAllow, err)
	}
}
