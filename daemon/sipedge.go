package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/callvault/callvault/siprec"
)

// sipConfig is the SIP server's configuration from [sip].
func sipConfig(c Config, p parsed, tlsConf *tls.Config) siprec.Config {
	return siprec.Config{
		MediaAddr: p.mediaAddr,
		UserAgent: "callvault/" + version,
		Admission: siprec.Admission{
			Allow:       p.allow,
			MaxSessions: c.SIP.MaxSessions,
			SourceRate:  c.SIP.SourceRate,
			SourceBurst: c.SIP.SourceBurst,
			MaxCPS:      c.SIP.MaxCPS,
		},
		Streams: siprec.StreamLimits{
			MaxConns:    c.SIP.MaxConnections,
			SourceConns: c.SIP.SourceConnections,
			IdleTimeout: p.idleTimeout, // headers: StreamLimits' default, 10 s
		},
		TLS: tlsConf,
	}
}

// sipListeners are the daemon's SIP sockets.
type sipListeners struct{ siprec.Listeners }

// listenSIP opens UDP and TCP on addr and, when tlsAddr is set, TLS's TCP
// listener there. Port 0 in addr picks a port free for both UDP and TCP;
// port 0 in tlsAddr any free port (tests; status says which were taken).
func listenSIP(addr, tlsAddr string) (sipListeners, error) {
	var ls sipListeners
	var err error
	if ls.UDP, ls.TCP, err = listenBoth(addr); err != nil {
		return ls, err
	}
	if tlsAddr != "" {
		if ls.TLS, err = net.Listen("tcp", tlsAddr); err != nil {
			ls.close()
			return ls, fmt.Errorf("listen sip tls: %w", err)
		}
	}
	return ls, nil
}

// listenBoth opens UDP and TCP on the same address and port.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen sip: %w", err)
	}
	for range 50 {
		tcp, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen sip tcp: %w", err)
		}
		at := net.JoinHostPort(host, strconv.Itoa(tcp.Addr().(*net.TCPAddr).Port))
		udp, err := net.ListenPacket("udp", at)
		if err == nil {
			return udp, tcp, nil
		}
		tcp.Close()
		if port != "0" {
			return nil, nil, fmt.Errorf("listen sip udp: %w", err)
		}
	}
	return nil, nil, fmt.Errorf("listen sip %s: no port free for both UDP and TCP", addr)
}

// close closes the sockets opened (before Serve owns them).
func (ls sipListeners) close() error {
	var errs []error
	if ls.UDP != nil {
		errs = append(errs, ls.UDP.Close())
	}
	if ls.TCP != nil {
		errs = append(errs, ls.TCP.Close())
	}
	if ls.TLS != nil {
		errs = append(errs, ls.TLS.Close())
	}
	return errors.Join(errs...)
}

// tlsAddr is the TLS listener's address, "" without one.
func (ls sipListeners) tlsAddr() string {
	if ls.TLS == nil {
		return ""
	}
	return ls.TLS.Addr().String()
}
