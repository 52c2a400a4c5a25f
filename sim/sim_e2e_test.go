package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/license"
	"github.com/callvault/callvault/internal/testaudio"
)

// TestSimulatorAgainstTheDaemon builds callvaultd, starts it on loopback
// with a channel licence, and runs the simulator against it as a person
// would (the same flags), over UDP, TCP and TLS, with G.711, G.729 and
// SRTP: every call answered, every packet sent, and the sampled
// recordings carry both legs' tones for the call's length.
func TestSimulatorAgainstTheDaemon(t *testing.T) {
	requireTools(t, "go")
	d := startDaemon(t)
	for _, tc := range []struct {
		name  string
		calls int
		args  []string
	}{
		{"udp-pcmu", 20, []string{"-transport", "udp", "-codec", "pcmu"}},
		{"tcp-g729", 20, []string{"-transport", "tcp", "-codec", "g729"}},
		{"tcp-pcma-srtp", 10, []string{"-transport", "tcp", "-codec", "pcma", "-srtp"}},
		{"tls-pcmu", 4, []string{"-transport", "tls", "-ca", d.caFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := d.sip
			if tc.name == "tls-pcmu" {
				target = d.tls
			}
			lo := testaudio.RTPRange(t)
			n := strconv.Itoa(tc.calls)
			args := append([]string{"-target", target, "-calls", n, "-rate", "50", "-duration", "4s",
				"-rtp-ports", fmt.Sprintf("%d-%d", lo, lo+99), "-verify", "3", "-socket", d.socket}, tc.args...)
			cfg, err := parseFlags(args, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			r, err := run(context.Background(), cfg, &log)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, log.String())
			}
			var text bytes.Buffer
			r.WriteText(&text)
			t.Logf("callvault-sim %s\n%s", strings.Join(args, " "), text.String())
			if r.Attempted != tc.calls || r.Answered != tc.calls || r.Failed != 0 || r.ByeFailed != 0 {
				t.Errorf("%d attempted, %d answered, %d failed %v, %d BYEs failed; want all %d through", r.Attempted, r.Answered, r.Failed, r.Failures, r.ByeFailed, tc.calls)
			}
			// 4 s of two legs at 50 packets/s, give or take a packet.
			if want := uint64(tc.calls * 2 * 200); r.Packets.Intended < want || r.Packets.Sent < r.Packets.Intended*99/100 {
				t.Errorf("packets %+v, want about %d all sent", r.Packets, want)
			}
			if len(r.Verify) != 3 || !r.Passed() {
				t.Errorf("verify: %+v", r.Verify)
			}
		})
	}
}

// daemon is the callvaultd a test runs against.
type daemon struct {
	sip, tls string // SIP addresses, UDP+TCP and TLS
	socket   string
	caFile   string // the CA of its TLS certificate
}

// startDaemon builds and starts callvaultd on loopback, licensed for 50
// channels, and stops it (SIGTERM, drained) when the test ends.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "callvaultd")
	build := exec.Command("go", "build", "-o", bin, "../daemon")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build callvaultd: %v\n%s", err, out)
	}
	priv, pub := license.GenerateKey()
	lic, err := license.Issue(license.License{Customer: "callvault-sim tests", Model: license.ModelChannel, Count: 50}, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, ca := testCertificate(t, dir)
	lo := testaudio.RTPRange(t)
	conf := fmt.Sprintf(`version = 1
data_dir = %q
control_socket = %q
[sip]
listen = "127.0.0.1:0"
tls_listen = "127.0.0.1:0"
tls_cert = %q
tls_key = %q
source_ports = 100
[rtp]
bind = "127.0.0.1"
ports = "%d-%d"
[storage]
min_free = "1MiB"
[license]
public_keys = [%q]
`, filepath.Join(dir, "data"), filepath.Join(dir, "ctl.sock"), cert, key, lo, lo+99, license.FormatPublicKey(pub))
	confPath := filepath.Join(dir, "callvaultd.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "notify.sock"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	var stderr syncWriter
	cmd := exec.Command(bin, "-config", confPath)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+filepath.Join(dir, "notify.sock"))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("callvaultd exit: %v", err)
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Error("callvaultd did not stop within 60 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("callvaultd log:\n%s", stderr.String())
		}
	})
	awaitReady(t, notify, exited, &stderr)
	d := &daemon{socket: filepath.Join(dir, "ctl.sock"), caFile: ca}
	client := &control.Client{Socket: d.socket}
	ctx := context.Background()
	if _, err := client.InstallLicense(ctx, lic); err != nil {
		t.Fatalf("install licence: %v", err)
	}
	st, err := client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d.sip, d.tls = st.Listen, st.TLSListen
	return d
}

// awaitReady waits for READY=1 on the notify socket, as systemd does.
func awaitReady(t *testing.T, notify *net.UnixConn, exited <-chan error, log *syncWriter) {
	t.Helper()
	ready := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				return
			}
			if strings.Contains(string(buf[:n]), "READY=1") {
				close(ready)
				return
			}
		}
	}()
	select {
	case <-ready:
	case err := <-exited:
		t.Fatalf("callvaultd exited before READY=1: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("callvaultd sent no READY=1 within 60 s\n%s", log.String())
	}
}

// testCertificate writes a self-signed certificate for 127.0.0.1 (its
// own CA) and its key, and returns their paths and the CA's.
func testCertificate(t *testing.T, dir string) (cert, key, ca string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "callvault-sim test recorder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "sip.pem"), filepath.Join(dir, "sip.key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key, cert
}

// requireTools skips the test, with a message, when a tool is not in
// PATH, and fails it instead under CI=true, where it must run.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found in PATH, and CI=true: the simulator's end-to-end test must run", tool)
			}
			t.Skipf("%s not found in PATH: the simulator's end-to-end test is skipped", tool)
		}
	}
}
