package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sipTLS builds the TLS configuration of the SIP listener from [sip]
// tls_cert, tls_key and tls_client_ca; nil when tls_listen is not set.
// A tls_key that names a file without a directory is read from the
// systemd credentials directory credDir when it holds it
// (LoadCredential=), else as a path; an empty tls_key means the key is in
// the tls_cert file. With tls_client_ca, clients must present a
// certificate that chains to it (mutual TLS).
func sipTLS(c Config, credDir string) (*tls.Config, error) {
	s := c.SIP
	if s.TLSListen == "" {
		return nil, nil
	}
	keyFile := s.TLSKey
	if keyFile == "" {
		keyFile = s.TLSCert
	} else if credDir != "" && !strings.Contains(keyFile, "/") {
		if p := filepath.Join(credDir, keyFile); fileExists(p) {
			keyFile = p
		}
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCert, keyFile)
	if err != nil {
		return nil, fmt.Errorf("sip.tls_cert %s with key %s: %w", s.TLSCert, keyFile, err)
	}
	conf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if s.TLSClientCA != "" {
		pem, err := os.ReadFile(s.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("sip.tls_client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sip.tls_client_ca %s: no PEM certificate in it", s.TLSClientCA)
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return conf, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, os.ErrNotExist)
}
