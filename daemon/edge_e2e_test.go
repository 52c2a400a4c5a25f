package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// testPKI is a CA and certificates made with openssl, as an admin would.
type testPKI struct {
	dir string
	ca  *x509.CertPool
}

// newPKI makes a CA named name in a temp dir.
func newPKI(t *testing.T, name string) *testPKI {
	t.Helper()
	testaudio.Require(t, "openssl")
	p := &testPKI{dir: t.TempDir()}
	p.openssl(t, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", p.path("ca.key"), "-out", p.path("ca.pem"), "-days", "2", "-subj", "/CN="+name)
	pem, err := os.ReadFile(p.path("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p.ca = x509.NewCertPool()
	p.ca.AppendCertsFromPEM(pem)
	return p
}

func (p *testPKI) path(name string) string { return filepath.Join(p.dir, name) }

func (p *testPKI) openssl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// issue makes name.pem and name.key signed by the CA, valid for 127.0.0.1.
func (p *testPKI) issue(t *testing.T, name string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = p.path(name+".pem"), p.path(name+".key")
	p.openssl(t, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", keyFile, "-out", p.path(name+".csr"), "-subj", "/CN="+name, "-addext", "subjectAltName=IP:127.0.0.1")
	p.openssl(t, "x509", "-req", "-in", p.path(name+".csr"), "-CA", p.path("ca.pem"), "-CAkey", p.path("ca.key"),
		"-CAcreateserial", "-out", certFile, "-days", "2", "-copy_extensions", "copy")
	return certFile, keyFile
}

// clientConf is a gateway's TLS configuration: trusts the CA, presents
// cert if any.
func (p *testPKI) clientConf(t *testing.T, cert *tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: p.ca, MinVersion: tls.VersionTLS12}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// loadPair returns a loader of a certificate and its key.
func loadPair(t *testing.T) func(certFile, keyFile string) *tls.Certificate {
	return func(certFile, keyFile string) *tls.Certificate {
		t.Helper()
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
}

// dialTLS connects a gateway over TLS.
func dialTLS(t *testing.T, port int, conf *tls.Config) *sipConn {
	t.Helper()
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &sipConn{t: t, conn: c, transport: "TLS"}
}

// dialFrom connects a gateway over TCP from a local address of its own
// (127.0.0.2: another host as far as the daemon can tell).
func dialFrom(t *testing.T, local string, port int) *sipConn {
	t.Helper()
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := dl.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &sipConn{t: t, conn: c}
}

// gatewayCall records a call over gw's connection: INVITE, ACK, the two
// tones for seconds, BYE; it returns the sealed recording.
func gatewayCall(t *testing.T, d *daemonProc, gw *sipConn, name string, seconds float64) control.Recording {
	t.Helper()
	callID := fmt.Sprintf("%s-%d@gw.example.com", name, time.Now().UnixNano())
	keys := map[string]string{"call_id": callID, "fromtag": name, "caller": "5551000", "callee": "5552000",
		"codecpt": "0", "codecname": "PCMU", "branch": "z9hG4bK-" + name + "-1"}
	res := gw.request(sippMessage(t, "cube-invite.xml", 0, gw.vars(keys)))
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("%s: INVITE answered %s", name, tail(res, 400))
	}
	keys["totag"] = toTagOf(t, res)
	keys["branch"] = "z9hG4bK-" + name + "-2"
	gw.send(sippMessage(t, "cube-invite.xml", 1, gw.vars(keys)))
	s := d.newSession("t1", map[string]string{"callid": callID})
	s.checkLegs("PCMU")
	s.send("PCMU", seconds)
	keys["branch"] = "z9hG4bK-" + name + "-3"
	if res := gw.request(sippMessage(t, "bye.xml", 0, gw.vars(keys))); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("%s: BYE answered %s", name, tail(res, 300))
	}
	return d.sealed(callID)
}

func toTagOf(t *testing.T, res string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^To:.*;tag=([^;\r\n]+)`).FindStringSubmatch(res)
	if m == nil {
		t.Fatalf("response without a To tag: %s", tail(res, 300))
	}
	return m[1]
}

func checkComplete(t *testing.T, what string, rec control.Recording, seconds float64) {
	t.Helper()
	if rec.Status != control.RecordingComplete || math.Abs(float64(rec.DurationMS)-seconds*1000) > 250 {
		t.Errorf("%s: recording status %s, %d ms; want complete, %.0f ms", what, rec.Status, rec.DurationMS, seconds*1000)
	}
}

// TestCallsOverTLS: a call over TLS is recorded; with mutual TLS a
// gateway with a certificate from the client CA is recorded, and one
// without a certificate or with one from another CA is refused at the
// handshake. The server key comes from $CREDENTIALS_DIRECTORY, as systemd's
// LoadCredential= passes it.
func TestCallsOverTLS(t *testing.T) {
	testaudio.Require(t, "ffprobe", "ffmpeg")
	t.Parallel()
	pki := newPKI(t, "callvault-test-ca")
	srvCert, srvKey := pki.issue(t, "callvault")

	t.Run("TLS", func(t *testing.T) {
		d := startDaemon(t, daemonOptions{recordUnknown: true, sip: fmt.Sprintf(
			"tls_listen = \"127.0.0.1:0\"\ntls_cert = %q\ntls_key = %q\n", srvCert, srvKey)})
		rec := gatewayCall(t, d, dialTLS(t, d.tlsPort, pki.clientConf(t, nil)), "tls", 2)
		checkComplete(t, "call over TLS", rec, 2)
		exportAndDecode(t, d, rec)
	})

	t.Run("mutual", func(t *testing.T) {
		cube := loadPair(t)(pki.issue(t, "cube1"))
		other := newPKI(t, "someone-else")
		stranger := loadPair(t)(other.issue(t, "stranger"))
		creds := t.TempDir()
		key, err := os.ReadFile(srvKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(creds, "sip-tls.key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
		d := startDaemon(t, daemonOptions{recordUnknown: true, env: []string{"CREDENTIALS_DIRECTORY=" + creds}, sip: fmt.Sprintf(
			"tls_listen = \"127.0.0.1:0\"\ntls_cert = %q\ntls_key = \"sip-tls.key\"\ntls_client_ca = %q\n", srvCert, pki.path("ca.pem"))})
		port := d.tlsPort
		rec := gatewayCall(t, d, dialTLS(t, port, pki.clientConf(t, cube)), "mtls", 2)
		checkComplete(t, "call over mutual TLS", rec, 2)

		for name, cert := range map[string]*tls.Certificate{"no certificate": nil, "another CA's certificate": stranger} {
			c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), pki.clientConf(t, cert))
			if err != nil {
				continue // refused during the handshake (TLS 1.2)
			}
			// TLS 1.3: the server checks the client's certificate after the
			// client's handshake is done; the first read fails.
			gw := &sipConn{t: t, conn: c, transport: "TLS"}
			keys := map[string]string{"call_id": "refused@gw", "fromtag": "x", "caller": "1", "callee": "2",
				"codecpt": "0", "codecname": "PCMU", "branch": "z9hG4bK-refused"}
			c.Write([]byte(sippMessage(t, "cube-invite.xml", 0, gw.vars(keys))))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := c.Read(make([]byte, 4096)); err == nil {
				t.Errorf("client with %s: read %d bytes, want the connection refused", name, n)
			}
			c.Close()
		}
		var st control.Status
		d.until(20*time.Second, "status counting the 2 refused clients' handshakes", func() bool {
			d.cliJSON(&st, "status")
			return st.Process.TLSHandshakesFailed == 2
		})
		if calls := d.liveCalls(); len(calls) != 0 {
			t.Errorf("%d live calls after refused clients", len(calls))
		}
	})
}

// TestAllowList: a source outside [sip] allow gets 403 over UDP and TCP
// and no RTP port; a listed one records.
func TestAllowList(t *testing.T) {
	testaudio.Require(t, "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true, sip: `allow = ["127.0.0.2"]`})
	keys := map[string]string{"call_id": "denied@gw", "fromtag": "deny", "caller": "5551000", "callee": "5552000",
		"codecpt": "0", "codecname": "PCMU", "branch": "z9hG4bK-deny-1"}
	gw := dialSIP(t, d.sipPort)
	if res := gw.request(sippMessage(t, "cube-invite.xml", 0, gw.vars(keys))); !strings.HasPrefix(res, "SIP/2.0 403 Forbidden") ||
		!strings.Contains(res, "source not allowed") || strings.Contains(res, "m=audio") {
		t.Errorf("TCP INVITE from outside the allow-list: %s", tail(res, 400))
	}
	udp, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", d.sipPort))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	uv := gw.vars(keys)
	uv["transport"], uv["local_port"], uv["branch"] = "UDP", strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port), "z9hG4bK-deny-2"
	udp.Write([]byte(sippMessage(t, "cube-invite.xml", 0, uv)))
	udp.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 8192)
	n, err := udp.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 403 Forbidden") {
		t.Errorf("UDP INVITE from outside the allow-list: %v %q", err, buf[:n])
	}
	if calls := d.liveCalls(); len(calls) != 0 {
		t.Errorf("live calls after refused INVITEs: %+v", calls)
	}
	rec := gatewayCall(t, d, dialFrom(t, "127.0.0.2", d.sipPort), "allowed", 2)
	checkComplete(t, "call from the listed source", rec, 2)
}

// TestPortBudgetPerSource: a source that offers 50 streams in each of ten
// INVITEs over TCP, and never ACKs, gets at most 4 streams a session and
// no more ports than its budget; another gateway's call is recorded.
func TestPortBudgetPerSource(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true, sip: "source_ports = 16"})
	abuser := dialFrom(t, "127.0.0.2", d.sipPort)
	var admitted, refused, ports int
	for i := range 10 {
		keys := map[string]string{"call_id": fmt.Sprintf("abuse-%d@x", i), "fromtag": "abuse", "caller": "5551000",
			"callee": "5552000", "codecpt": "0", "codecname": "PCMU", "branch": fmt.Sprintf("z9hG4bK-abuse-%d", i)}
		res := abuser.request(manyStreams(sippMessage(t, "cube-invite.xml", 0, abuser.vars(keys)), 50))
		switch {
		case strings.HasPrefix(res, "SIP/2.0 200"):
			admitted++
			open := len(regexp.MustCompile(`(?m)^m=audio [1-9]`).FindAllString(res, -1))
			if open > 4 {
				t.Errorf("INVITE %d: %d streams answered with a port, want at most 4", i, open)
			}
			ports += open
		case strings.HasPrefix(res, "SIP/2.0 503") && strings.Contains(res, "holds its 16 RTP ports"):
			refused++
		default:
			t.Errorf("INVITE %d: %s", i, tail(res, 300))
		}
	}
	if ports > 16 || admitted != 4 || refused != 6 {
		t.Errorf("abuser: %d sessions admitted holding %d ports, %d refused; want 4 holding 16, 6 refused", admitted, ports, refused)
	}
	abuser.conn.Close()
	rec := d.record(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	checkComplete(t, "the other gateway's call", rec, sentSeconds)
}

// manyStreams adds audio streams to an INVITE's SDP until it has n, and
// fixes its Content-Length.
func manyStreams(msg string, n int) string {
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	mark := "a=label:2\r\n"
	var extra strings.Builder
	for i := 3; i <= n; i++ {
		fmt.Fprintf(&extra, "m=audio %d RTP/AVP 0\r\nc=IN IP4 127.0.0.2\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\na=label:%d\r\n", 17000+2*i, i)
	}
	body = strings.Replace(body, mark, mark+extra.String(), 1)
	head = regexp.MustCompile(`(?m)^Content-Length: \d+`).ReplaceAllString(head, "Content-Length: "+strconv.Itoa(len(body)))
	return head + "\r\n\r\n" + body
}

// liveCalls lists the live calls.
func (d *daemonProc) liveCalls() []control.Call {
	d.t.Helper()
	var calls []control.Call
	d.cliJSON(&calls, "calls")
	return calls
}

// TestReloadAllowList: SIGHUP (systemctl reload) applies a changed
// allow-list without a restart; a broken file changes nothing.
func TestReloadAllowList(t *testing.T) {
	testaudio.Require(t, "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true, sip: `allow = ["127.0.0.2"]`})
	invite := func(name string) string {
		gw := dialSIP(t, d.sipPort)
		keys := map[string]string{"call_id": name + "@gw", "fromtag": name, "caller": "5551000", "callee": "5552000",
			"codecpt": "0", "codecname": "PCMU", "branch": "z9hG4bK-" + name}
		return gw.request(sippMessage(t, "cube-invite.xml", 0, gw.vars(keys)))
	}
	if res := invite("before"); !strings.HasPrefix(res, "SIP/2.0 403") {
		t.Fatalf("before the reload: %s", tail(res, 200))
	}
	conf := filepath.Join(d.dir, "callvaultd.toml")
	rewrite := func(from, to string) {
		b, err := os.ReadFile(conf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(conf, []byte(strings.Replace(string(b), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rewrite(`allow = ["127.0.0.2"]`, `allow = ["127.0.0.3"]`+"\nbogus_key = 1")
	d.cmd.Process.Signal(syscall.SIGHUP)
	if st := d.waitReloads(1); !strings.Contains(st.Error, `unknown key "sip.bogus_key"`) {
		t.Errorf("status after a broken reload: %+v; want the unknown key named", st)
	}
	if res := invite("broken"); !strings.HasPrefix(res, "SIP/2.0 403") {
		t.Fatalf("after a broken reload: %s", tail(res, 200))
	}
	rewrite(`allow = ["127.0.0.3"]`+"\nbogus_key = 1", `allow = ["127.0.0.0/8"]`)
	d.cmd.Process.Signal(syscall.SIGHUP)
	if st := d.waitReloads(2); st.Error != "" {
		t.Fatalf("status after the reload: %+v", st)
	}
	rec := gatewayCall(t, d, dialSIP(t, d.sipPort), "reloaded", 2)
	checkComplete(t, "call after the reload", rec, 2)
}

// waitReloads waits until status counts n configuration reloads and
// returns the reload state.
func (d *daemonProc) waitReloads(n int) control.ConfigState {
	d.t.Helper()
	var st control.Status
	d.until(20*time.Second, fmt.Sprintf("status counting %d reloads", n), func() bool {
		d.cliJSON(&st, "status")
		return st.Config.Reloads >= n
	})
	return st.Config
}
