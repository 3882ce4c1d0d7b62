package commands

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/smallstep/pkcs7"

	"cloister/keyring"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/rules"
	"cloister/service"
)

// offeredKey is a key a sender offers with a request (key set, subscribe):
// an OpenPGP public key or an S/MIME certificate. It is bound only once the
// challenge, encrypted to it, comes back signed with it.
type offeredKey struct {
	// Text is how the key travels through a token: the armored OpenPGP key
	// or the PEM certificate.
	Text string
	pgp  *openpgp.Entity
	cert *x509.Certificate
}

// fingerprint is the key's OpenPGP fingerprint or the certificate's SHA-256.
func (k *offeredKey) fingerprint() string {
	if k.pgp != nil {
		return fmt.Sprintf("%X", k.pgp.PrimaryKey.Fingerprint)
	}
	return keyring.CertFingerprint(k.cert)
}

// describe names the key for a request's text.
func (k *offeredKey) describe() string {
	if k.pgp != nil {
		return "the OpenPGP key " + k.fingerprint()
	}
	return "the S/MIME certificate " + k.fingerprint() + " (" + certName(k.cert) + ")"
}

// describeIn is describe in the list's language.
func (k *offeredKey) describeIn(c *Context) string { return c.says(k.reason()) }

// reason is describe as a Reason, for a sentence that names the key.
func (k *offeredKey) reason() rules.Reason {
	if k.pgp != nil {
		return rules.Reasonf("the OpenPGP key %s", k.fingerprint())
	}
	return rules.Reasonf("the S/MIME certificate %s (%s)", k.fingerprint(), certName(k.cert))
}

// certName is a certificate's common name as one line of text: its holder
// (or whoever had the CA issue it) chose it, and it is written into the
// list's signed mail, such as the announcement that a key changed, where a
// line break would let it add lines of its own.
func certName(c *x509.Certificate) string {
	return mailmsg.CleanValue(c.Subject.CommonName)
}

// parseOffered reads a key kept in a token's arguments.
func parseOffered(text string) (*offeredKey, error) {
	if strings.Contains(text, "-----BEGIN CERTIFICATE-----") {
		b, _ := pem.Decode([]byte(text))
		if b == nil {
			return nil, fmt.Errorf("pending certificate: no PEM block")
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pending certificate: %w", err)
		}
		return &offeredKey{Text: text, cert: c}, nil
	}
	el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(text))
	if err != nil || len(el) != 1 {
		return nil, fmt.Errorf("pending key: %v", err)
	}
	return &offeredKey{Text: text, pgp: el[0]}, nil
}

// offered returns the key the command mail offers for the sender: an
// attached OpenPGP key with a user ID of the sender's address, or else an
// attached certificate that the list could take for that address (it
// carries the address, allows encryption and chains to the site's trust
// anchors), or else the key its Autocrypt header offers for the sender. It
// returns nil and no refusal when the mail carries none.
func (c *Context) offered() (*offeredKey, Result) {
	if len(c.Attachments) == 0 && len(c.Certificates) == 0 && c.Autocrypt != nil {
		lc := *c
		lc.Attachments = [][]byte{c.Autocrypt}
		c = &lc
	}
	if len(c.Attachments) > 0 {
		key, ent, res := attachedKey(c)
		if key == nil {
			return nil, res
		}
		if err := pgpEncryptable(ent, c.Now); err != nil {
			return nil, refused("the attached key cannot be encrypted to (expired, revoked, or no encryption subkey)")
		}
		return &offeredKey{Text: string(key), pgp: ent}, Result{}
	}
	if len(c.Certificates) == 0 {
		return nil, Result{}
	}
	der := c.Certificates[0]
	if _, err := c.KeyStore.CheckCert(c.Sender, der); err != nil {
		return nil, refused("the attached certificate cannot be taken for %s: %v", c.Sender, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, refused("the attached certificate cannot be read")
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return &offeredKey{Text: string(p), cert: cert}, Result{}
}

// provenByOffered checks that the command mail (the answer to a challenge)
// is signed by the offered key: for OpenPGP the mail is verified again with
// that key; for S/MIME the incoming runner's verification must name that
// certificate as the signer (it chains to the trust anchors). A
// certificate that cannot sign (an encryption-only one) is proven by a
// good S/MIME signature of its address instead. A token alone never binds
// a key.
func (c *Context) provenByOffered(k *offeredKey) Result {
	if k.pgp != nil {
		return c.provenBy(k.Text)
	}
	fpr := k.fingerprint()
	signs := k.cert.KeyUsage == 0 || k.cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) != 0
	switch {
	case c.MailMethod != rules.MethodSMIME:
		return refused("the answer is not S/MIME-signed with the certificate %s (a token alone does not register a certificate); send the request again", fpr)
	case !sameAddress(c.MailFrom, c.Sender):
		return refused("the answer does not come from %s; send the request again", c.Sender)
	case signs && !strings.EqualFold(c.SignerFpr, fpr):
		return refused("the answer is signed with the certificate %s, not with %s; send the request again", c.SignerFpr, fpr)
	}
	return done("")
}

// bindOffered binds a proven key to address through the service,
// replacing the address's keys of its kind; it returns the fingerprint.
func (c *Context) bindOffered(address string, k *offeredKey, grounds string) (string, error) {
	if k.pgp != nil {
		return c.bindKey(address, []byte(k.Text), nil, false, grounds)
	}
	return c.bindKey(address, nil, k.cert.Raw, true, grounds)
}

// bindKey binds an OpenPGP key or a certificate to address through the
// service on the grounds the command proved.
func (c *Context) bindKey(address string, pgp, cert []byte, trusted bool, grounds string) (string, error) {
	fpr, err := c.service().KeyBind(context.Background(), c.actor(), service.KeyBindRequest{
		List: c.List.Address, Address: address, PGP: pgp, Cert: cert, Trusted: trusted, Grounds: grounds})
	return fpr, keyError(err)
}

// unbindKey unbinds the OpenPGP key of address through the service.
func (c *Context) unbindKey(address, grounds string) error {
	_, err := c.service().KeyUnbind(context.Background(), c.actor(), service.KeyUnbindRequest{
		List: c.List.Address, Address: address, Grounds: grounds})
	return keyError(err)
}

// keyError turns a refusal of the service into an error whose text is
// its message (what the reply shows); other errors are kept.
func keyError(err error) error {
	var e *service.Error
	if errors.As(err, &e) && e.Code != service.CodeUnavailable {
		return errors.New(e.Message)
	}
	return err
}

// Bounds on certificate attachments.
const (
	maxCertAttachments = 4
	maxCertBytes       = 64 << 10
)

// certAttachments returns the DER of the certificates attached to a command
// mail: parts of a certificate type (application/pkix-cert,
// application/x-x509-*-cert, application/x-pem-file), certs-only PKCS #7
// (.p7c, .p7b), and octet-stream or text parts holding a PEM or DER
// certificate. The signature of a signed mail is not an attachment.
func certAttachments(msg []byte) [][]byte {
	ent, err := rawmime.Parse(msg)
	if err != nil {
		return nil
	}
	var out [][]byte
	_ = rawmime.Walk(ent, maxDepth, maxParts, func(_ []int, p *rawmime.Entity) error {
		if len(out) >= maxCertAttachments {
			return nil
		}
		mt, params, _ := p.MediaType()
		switch mt {
		case "application/pkix-cert", "application/x-x509-user-cert", "application/x-x509-ca-cert",
			"application/x-x509-email-cert", "application/x-pem-file", "application/octet-stream", "text/plain",
			"application/x-pkcs7-certificates":
		case "application/pkcs7-mime", "application/x-pkcs7-mime":
			if !strings.EqualFold(params["smime-type"], "certs-only") {
				return nil
			}
		default:
			return nil
		}
		b, err := decode(p)
		if err != nil || len(b) > maxCertBytes {
			return nil
		}
		for _, der := range certsIn(b) {
			if len(out) < maxCertAttachments {
				out = append(out, der)
			}
		}
		return nil
	})
	return out
}

// certsIn returns the certificates in b: PEM blocks, one DER certificate,
// or a certs-only PKCS #7 (DER or PEM).
func certsIn(b []byte) [][]byte {
	var out [][]byte
	if bytes.Contains(b, []byte("-----BEGIN ")) {
		rest := b
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			switch blk.Type {
			case "CERTIFICATE":
				if _, err := x509.ParseCertificate(blk.Bytes); err == nil {
					out = append(out, blk.Bytes)
				}
			case "PKCS7":
				out = append(out, certsOnly(blk.Bytes)...)
			}
		}
		return out
	}
	if c, err := x509.ParseCertificate(b); err == nil {
		return [][]byte{c.Raw}
	}
	return certsOnly(b)
}

// certsOnly returns the certificates of a certs-only PKCS #7 SignedData.
func certsOnly(der []byte) [][]byte {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, c := range p7.Certificates {
		out = append(out, c.Raw)
	}
	return out
}
