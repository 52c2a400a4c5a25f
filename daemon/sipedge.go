package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

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
		},
		Streams: siprec.StreamLimits{
			MaxConns:      c.SIP.MaxConnections,
			SourceConns:   c.SIP.SourceConnections,
			IdleTimeout:   p.idleTimeout,
			HeaderTimeout: 10 * time.Second,
		},
		TLS: tlsConf,
	}
}

// sipListeners are the daemon's SIP sockets.
type sipListeners struct{ siprec.Listeners }

// listenSIP opens UDP and TCP on addr and, when tlsAddr is set, TLS's TCP
// listener there.
func listenSIP(addr, tlsAddr string) (sipListeners, error) {
	var ls sipListeners
	var err error
	if ls.UDP, err = net.ListenPacket("udp", addr); err != nil {
		return ls, fmt.Errorf("listen sip udp: %w", err)
	}
	if ls.TCP, err = net.Listen("tcp", addr); err != nil {
		ls.close()
		return ls, fmt.Errorf("listen sip tcp: %w", err)
	}
	if tlsAddr != "" {
		if ls.TLS, err = net.Listen("tcp", tlsAddr); err != nil {
			ls.close()
			return ls, fmt.Errorf("listen sip tls: %w", err)
		}
	}
	return ls, nil
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
