package keyring

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"cloister/internal/config"
)

// Bounds on trust files.
const (
	maxTrustFile  = 16 << 20
	maxTrustFiles = 10000
)

// trust is the S/MIME trust a keyring judges captured certificates with.
type trust struct {
	mu    sync.RWMutex
	roots *x509.CertPool
	crls  []*x509.RevocationList
}

// SetTrust sets the trust anchors and CRLs that Capture and EncryptionCert
// use (OpenSite sets them from the configuration).
func (k *Keyring) SetTrust(roots *x509.CertPool, crls []*x509.RevocationList) {
	k.trust.mu.Lock()
	k.trust.roots, k.trust.crls = roots, crls
	k.trust.mu.Unlock()
}

// SMIMETrust returns the trust anchors and CRLs set by SetTrust. A keyring
// without them trusts nothing.
func (k *Keyring) SMIMETrust() (*x509.CertPool, []*x509.RevocationList, error) {
	k.trust.mu.RLock()
	defer k.trust.mu.RUnlock()
	if k.trust.roots == nil {
		return x509.NewCertPool(), k.trust.crls, nil
	}
	return k.trust.roots, k.trust.crls, nil
}

// Roots builds the pool of S/MIME trust anchors from smime_cafile (a PEM
// file of certificates) and smime_capath (a directory of PEM or DER
// certificate files; other files are skipped). With neither configured the
// pool is empty: no signer chains to it.
func Roots(cfg *config.Config) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if cfg.SMIMECAFile != "" {
		b, err := readBounded(cfg.SMIMECAFile)
		if err != nil {
			return nil, fmt.Errorf("smime_cafile: %w", err)
		}
		certs, err := parseCerts(b)
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("smime_cafile %s: no certificate (%v)", cfg.SMIMECAFile, err)
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	if cfg.SMIMECAPath != "" {
		err := eachFile(cfg.SMIMECAPath, func(path string, b []byte) error {
			certs, err := parseCerts(b)
			if err == nil {
				for _, c := range certs {
					pool.AddCert(c)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("smime_capath: %w", err)
		}
	}
	return pool, nil
}

// CRLs reads every CRL (PEM "X509 CRL" blocks or DER) in smime_crl_dir.
// A file that is not a CRL is an error, so that a damaged CRL is noticed
// rather than silently ignored.
func CRLs(cfg *config.Config) ([]*x509.RevocationList, error) {
	if cfg.SMIMECRLDir == "" {
		return nil, nil
	}
	var out []*x509.RevocationList
	err := eachFile(cfg.SMIMECRLDir, func(path string, b []byte) error {
		var ders [][]byte
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type == "X509 CRL" {
				ders = append(ders, blk.Bytes)
			}
		}
		if len(ders) == 0 {
			ders = [][]byte{b}
		}
		for _, der := range ders {
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			out = append(out, crl)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("smime_crl_dir: %w", err)
	}
	return out, nil
}

// eachFile calls fn with the contents of every regular file in dir, in
// name order, skipping hidden files.
func eachFile(dir string, fn func(path string, b []byte) error) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) > maxTrustFiles {
		return fmt.Errorf("%s: more than %d files", dir, maxTrustFiles)
	}
	for _, de := range ents {
		if de.Name()[0] == '.' || !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		b, err := readBounded(p)
		if err != nil {
			return err
		}
		if err := fn(p, b); err != nil {
			return err
		}
	}
	return nil
}

// readBounded reads a file of at most maxTrustFile bytes.
func readBounded(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxTrustFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxTrustFile)
	}
	return os.ReadFile(path)
}

// parseCerts parses PEM CERTIFICATE blocks, or one DER certificate.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	sawPEM := false
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		sawPEM = true
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if sawPEM {
		return certs, nil
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{c}, nil
}

// revokedBy reports whether a CRL from cert's issuer lists cert's serial.
// When issuer is known the CRL's signature must verify with it; otherwise
// the CRL is matched by issuer name (the CRL directory is the operator's).
func revokedBy(cert, issuer *x509.Certificate, crls []*x509.RevocationList) bool {
	for _, crl := range crls {
		if !slices.Equal(crl.RawIssuer, cert.RawIssuer) {
			continue
		}
		if issuer != nil && crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return true
			}
		}
	}
	return false
}

// OpenSite opens the site's keyring.db with the keyring passphrase and the
// S/MIME trust of cfg. A site with no passphrase configured at all (neither
// keyring_passphrase_file nor a systemd credential) opens without one:
// public keys work, private keys fail with ErrNoPassphrase.
func OpenSite(cfg *config.Config) (*Keyring, error) {
	pass, err := LoadPassphrase(cfg)
	if err != nil && !(errors.Is(err, ErrNoPassphrase) && cfg.KeyringPassphraseFile == "") {
		return nil, err
	}
	roots, err := Roots(cfg)
	if err != nil {
		return nil, err
	}
	crls, err := CRLs(cfg)
	if err != nil {
		return nil, err
	}
	k, err := Open(cfg.KeyringDB(), pass, nil)
	if err != nil {
		return nil, err
	}
	k.SetTrust(roots, crls)
	return k, nil
}
