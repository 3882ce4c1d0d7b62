package commands

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/site"
	"cloister/mimecrypt/cms"
	"cloister/mimecrypt/pgp"
	"cloister/mimecrypt/smime"
)

// listKeys are the list's own keys, when it has them.
type listKeys struct {
	pgp       *openpgp.Entity
	cert      *x509.Certificate
	certKey   crypto.Signer
	certChain []*x509.Certificate
}

func loadListKeys(s *site.Site, list string) (listKeys, error) {
	var k listKeys
	if s.Keys == nil {
		return k, nil
	}
	e, err := s.Keys.ListPGP(list)
	switch {
	case err == nil:
		k.pgp = e
	case !errors.Is(err, site.ErrNoListKey):
		return k, fmt.Errorf("list key of %s: %w", list, err)
	}
	c, key, chain, err := s.Keys.ListSMIME(list)
	switch {
	case err == nil:
		k.cert, k.certKey, k.certChain = c, key, chain
	case !errors.Is(err, site.ErrNoListKey):
		return k, fmt.Errorf("list certificate of %s: %w", list, err)
	}
	return k, nil
}

// protect renders a message signed with the list's key (OpenPGP first, else
// S/MIME) and encrypted to the recipient's key or certificate when one is
// on file; preferSMIME picks S/MIME first (the command mail used it). It
// reports whether the result is encrypted.
func protect(s *site.Site, k listKeys, m *message, now time.Time, preferSMIME bool) ([]byte, bool, error) {
	outer := append(m.outer(now), "MIME-Version: 1.0\n"...)
	inner := m.inner()
	// The list's key signs at pgp.KeyTime: a key made after now (rotated
	// while the command waited) is not refused as not valid yet.
	at := pgp.KeyTime(k.pgp, now)
	cfg := &packet.Config{Time: func() time.Time { return at }}
	if m.encryptTo != nil {
		ent, err := challenge(k, m.encryptTo, inner, cfg)
		if err != nil {
			return nil, false, fmt.Errorf("challenge to %s: %w", m.To, err)
		}
		return append(outer, ent...), true, nil
	}
	tryPGP := func() ([]byte, bool, error) {
		if k.pgp == nil || s.Keys == nil {
			return nil, false, nil
		}
		key, err := s.Keys.EncryptionPGP(m.To, now)
		if err != nil {
			return nil, false, nil
		}
		sealed, err := pgp.Seal(inner, k.pgp, cfg)
		if err != nil {
			return nil, false, fmt.Errorf("seal reply: %w", err)
		}
		ent, err := sealed.For(key)
		if err != nil {
			return nil, false, fmt.Errorf("encrypt reply to %s: %w", m.To, err)
		}
		return append(outer, ent...), true, nil
	}
	trySMIME := func() ([]byte, bool, error) {
		if k.cert == nil || s.Keys == nil {
			return nil, false, nil
		}
		cert, err := s.Keys.EncryptionCert(m.To, now)
		if err != nil {
			return nil, false, nil
		}
		signed, err := smime.Sign(inner, k.cert, k.certKey, k.certChain)
		if err != nil {
			return nil, false, fmt.Errorf("sign reply (S/MIME): %w", err)
		}
		sealed, err := smime.Seal(signed, smime.SealOptions{Cipher: cms.AES256CBC})
		if err != nil {
			return nil, false, fmt.Errorf("seal reply (S/MIME): %w", err)
		}
		ent, err := sealed.For(cert)
		if err != nil {
			return nil, false, fmt.Errorf("encrypt reply to %s: %w", m.To, err)
		}
		return append(outer, ent...), true, nil
	}
	order := []func() ([]byte, bool, error){tryPGP, trySMIME}
	if preferSMIME {
		order = []func() ([]byte, bool, error){trySMIME, tryPGP}
	}
	if m.clear {
		order = nil
	}
	for _, f := range order {
		b, ok, err := f()
		if err != nil || ok {
			return b, ok, err
		}
	}
	switch {
	case k.pgp != nil:
		ent, err := pgp.SignMIME(inner, k.pgp, cfg)
		if err != nil {
			return nil, false, fmt.Errorf("sign reply: %w", err)
		}
		return append(outer, ent...), false, nil
	case k.cert != nil:
		ent, err := smime.Sign(inner, k.cert, k.certKey, k.certChain)
		if err != nil {
			return nil, false, fmt.Errorf("sign reply (S/MIME): %w", err)
		}
		return append(outer, ent...), false, nil
	}
	return append(outer, inner...), false, nil
}

// armoredPublic returns the list's OpenPGP public key, armored.
func armoredPublic(e *openpgp.Entity) ([]byte, error) {
	var b bytes.Buffer
	// With the CRC-24 line: GnuPG 2.2 needs it to find the end of the
	// base64 when the data needs no padding.
	w, err := armor.EncodeWithChecksumOption(&b, "PGP PUBLIC KEY BLOCK", nil, true)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("serialize list key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// challenge signs inner with the list's key of the offered key's kind and
// encrypts it to the offered key alone.
func challenge(k listKeys, to *offeredKey, inner []byte, cfg *packet.Config) ([]byte, error) {
	if to.pgp != nil {
		if k.pgp == nil {
			return nil, errors.New("the list has no OpenPGP key")
		}
		sealed, err := pgp.Seal(inner, k.pgp, cfg)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		return sealed.For(to.pgp)
	}
	if k.cert == nil {
		return nil, errors.New("the list has no S/MIME certificate")
	}
	signed, err := smime.Sign(inner, k.cert, k.certKey, k.certChain)
	if err != nil {
		return nil, fmt.Errorf("sign (S/MIME): %w", err)
	}
	sealed, err := smime.Seal(signed, smime.SealOptions{Cipher: cms.AES256CBC})
	if err != nil {
		return nil, fmt.Errorf("seal (S/MIME): %w", err)
	}
	return sealed.For(to.cert)
}
