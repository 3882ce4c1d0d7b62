package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt/smime"
	"cloister/notices"
	"cloister/queue"
)

// siteSender is the From and envelope sender of the mail the web sends
// for the site (not for one list): the first listmaster, else postmaster.
func (srv *Server) siteSender() string {
	if ls := srv.site.Config.Listmasters; len(ls) > 0 {
		return ls[0]
	}
	return "postmaster@" + srv.site.Config.Domain
}

// mailLoginToken queues the login mail for addr. When the keyring has a
// usable OpenPGP key or S/MIME certificate for addr, the text is encrypted
// to it here and the entry says so (queue.CarriesSealed), so that the
// egress gate lets it go only as an encryption to addr's key; otherwise it
// goes in clear, as the confirmation mails of the lists do.
func (srv *Server) mailLoginToken(addr, tok, link string) (encrypted bool, err error) {
	now := srv.now()
	linkText := ""
	if link != "" {
		linkText = fmt.Sprintf("or open this link and press \"Log in\":\n\n    %s\n\n", link)
	}
	text := fmt.Sprintf("Someone (hopefully you) asked to log in to the Cloister web interface of %s\n"+
		"as %s.\n\nYour login code is:\n\n    %s\n\n%s"+
		"The code works once, for %d minutes. If you did not ask for it, ignore this mail.\n",
		srv.site.Config.Domain, addr, tok, linkText, int(loginTokenLife/time.Minute))
	inner := notices.Entity(text, nil)
	body, encrypted, err := srv.encryptFor(addr, inner, now)
	if err != nil {
		return false, err
	}
	head, err := notices.Header{From: srv.siteSender(), To: addr, Subject: "Your login code for " + srv.site.Config.Domain,
		Domain: srv.site.Config.Domain, AutoSubmitted: "auto-generated"}.Encode(now)
	if err != nil {
		return false, fmt.Errorf("login mail header: %w", err)
	}
	head = append(head, "MIME-Version: 1.0\n"...)
	msg := append(head, body...)
	m := &queue.Meta{
		Subaddress: queue.SubPost,
		Kind:       "web-login",
		Recipients: []string{addr},
		EnvFrom:    srv.siteSender(),
		Received:   now.UTC(),
		Encryption: "none",
		Carries:    queue.CarriesClear,
	}
	if encrypted {
		// Encrypted by its writer to exactly its recipient: outgoing sends
		// it as it is and the gate checks the encryption.
		m.Carries = queue.CarriesSealed
	}
	if _, err := srv.site.Queue(queue.Out).EnqueueBytes(m, msg); err != nil {
		return false, fmt.Errorf("queue login mail for %s: %w", addr, err)
	}
	return encrypted, nil
}

// encryptFor returns the MIME entity inner encrypted to addr's key (PGP/MIME)
// or certificate (S/MIME) when the keyring has one, else inner itself.
func (srv *Server) encryptFor(addr string, inner []byte, now time.Time) ([]byte, bool, error) {
	if srv.site.Keys == nil {
		return inner, false, nil
	}
	if e, err := srv.site.Keys.EncryptionPGP(addr, now); err == nil && e != nil {
		b, err := pgpMIME(inner, e, now)
		return b, err == nil, err
	}
	if c, err := srv.site.Keys.EncryptionCert(addr, now); err == nil && c != nil {
		s, err := smime.Seal(inner, smime.SealOptions{})
		if err != nil {
			return nil, false, fmt.Errorf("encrypt login mail to %s: %w", addr, err)
		}
		b, err := s.For(c)
		if err != nil {
			return nil, false, fmt.Errorf("encrypt login mail to %s: %w", addr, err)
		}
		return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), true, nil
	}
	return inner, false, nil
}

// pgpMIME encrypts the MIME entity inner to e as a PGP/MIME body (RFC 3156):
// the Content-Type field and the two parts.
func pgpMIME(inner []byte, e *openpgp.Entity, now time.Time) ([]byte, error) {
	var armored bytes.Buffer
	aw, err := armor.EncodeWithChecksumOption(&armored, "PGP MESSAGE", nil, false)
	if err != nil {
		return nil, err
	}
	cfg := &packet.Config{DefaultCipher: packet.CipherAES256, Time: func() time.Time { return now }}
	w, err := openpgp.Encrypt(aw, []*openpgp.Entity{e}, nil, nil, &openpgp.FileHints{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(bytes.ReplaceAll(inner, []byte("\n"), []byte("\r\n"))); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	bd := "cloister-" + randomHex(12)
	var b bytes.Buffer
	fmt.Fprintf(&b, "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\n boundary=\"%s\"\n\n", bd)
	fmt.Fprintf(&b, "--%s\n", bd)
	fmt.Fprintf(&b, "Content-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification\n\nVersion: 1\n\n--%s\n", bd)
	fmt.Fprintf(&b, "Content-Type: application/octet-stream; name=\"encrypted.asc\"\nContent-Disposition: inline; filename=\"encrypted.asc\"\n\n")
	io.Copy(&b, &armored)
	fmt.Fprintf(&b, "\n\n--%s--\n", bd)
	return b.Bytes(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
