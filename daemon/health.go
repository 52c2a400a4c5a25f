package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/callvault/callvault/vault"
)

// healthTimeout bounds one health check.
const healthTimeout = 2 * time.Second

// healthCheck is what the watchdog is pinged on: the index answers a read
// and the SIP UDP listener answers an OPTIONS from the box itself. A hung
// index or SIP stack stops the pings, and systemd restarts the daemon
// after WatchdogSec.
func healthCheck(store *vault.Store, sipAddr string) func(context.Context) error {
	probe := loopbackOf(sipAddr)
	return func(ctx context.Context) error {
		if err := store.Ping(); err != nil {
			return err
		}
		return sipAnswers(ctx, probe)
	}
}

// loopbackOf is addr with an unspecified host (0.0.0.0, ::) made the
// loopback address, so that the box can reach its own listener.
func loopbackOf(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsUnspecified() {
		return addr
	}
	lo := netip.IPv6Loopback()
	if ap.Addr().Is4() {
		lo = netip.MustParseAddr("127.0.0.1")
	}
	return netip.AddrPortFrom(lo, ap.Port()).String()
}

// sipAnswers sends an OPTIONS over UDP to addr and waits for any SIP
// response.
func sipAnswers(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("sip health probe: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(healthTimeout))
	local := conn.LocalAddr().String()
	branch := "z9hG4bKhealth" + strconv.FormatInt(time.Now().UnixNano(), 36)
	req := fmt.Sprintf("OPTIONS sip:health@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:watchdog@%s>;tag=health\r\nTo: <sip:health@%s>\r\nCall-ID: %s@callvaultd-health\r\nCSeq: 1 OPTIONS\r\n"+
		"Content-Length: 0\r\n\r\n", addr, local, branch, local, addr, branch)
	if _, err := conn.Write([]byte(req)); err != nil {
		return fmt.Errorf("sip health probe: %w", err)
	}
	buf := make([]byte, 2048)
	n, err := conn.Read(buf)
	if err != nil {
		return fmt.Errorf("sip health probe: no answer from %s: %w", addr, err)
	}
	if !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) {
		return errors.New("sip health probe: the answer is not a SIP response")
	}
	return nil
}
