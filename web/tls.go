package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// TLSFiles name the server's certificate and key (PEM) and, for
// client-certificate login, the CAs whose client certificates are accepted.
type TLSFiles struct {
	Cert, Key string
	ClientCA  string
	// Hosts are the names of a self-signed certificate made when Cert is
	// empty.
	Hosts []string
}

// TLSConfig returns the server's TLS configuration: TLS 1.2 or later, the
// certificate from the files or a self-signed one made now, and, when a
// client CA file is given, client certificates verified against it when
// the browser offers one (never required: the email login needs none),
// asked for with the CA names as hints.
func TLSConfig(f TLSFiles) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.Cert != "" || f.Key != "" {
		c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate %s: %w", f.Cert, err)
		}
		cfg.Certificates = []tls.Certificate{c}
	} else {
		c, err := selfSigned(f.Hosts)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	if f.ClientCA != "" {
		pool, err := ClientCAs(f.ClientCA)
		if err != nil {
			return nil, err
		}
		// The certificate is asked for, not verified by TLS: an S/MIME
		// certificate is for emailProtection, which crypto/tls refuses for
		// clients. The login verifies it against the same pool
		// (ClientCerts.Verify), so a browser without one, or with another,
		// still reaches the email login.
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequestClientCert
	}
	return cfg, nil
}

// selfSigned makes a one-year ECDSA P-256 certificate for hosts (localhost
// when none).
func selfSigned(hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Cloister web (self-signed)"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("make self-signed certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ClientCAs reads the PEM file of the CAs whose client certificates may log
// in.
func ClientCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read client CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("client CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
