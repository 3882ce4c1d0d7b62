package distribute

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/cms"
	"cloister/mimecrypt/pgp"
	"cloister/mta"
	"cloister/queue"
)

// smimeKeys is the site's keys of a list with an S/MIME certificate only,
// and subscribers with certificates.
type smimeKeys struct {
	cert  *x509.Certificate
	key   crypto.Signer
	certs map[string]*x509.Certificate
}

func (k smimeKeys) ListPGP(string) (*openpgp.Entity, error) { return nil, site.ErrNoListKey }
func (k smimeKeys) ListSMIME(string) (*x509.Certificate, crypto.Signer, []*x509.Certificate, error) {
	return k.cert, k.key, nil, nil
}
func (k smimeKeys) Senders() pgp.KeySource { return nil }
func (k smimeKeys) SMIMETrust() (*x509.CertPool, []*x509.RevocationList, error) {
	return x509.NewCertPool(), nil, nil
}
func (k smimeKeys) EncryptionPGP(string, time.Time) (*openpgp.Entity, error) {
	return nil, errors.New("no key")
}
func (k smimeKeys) EncryptionCert(addr string, _ time.Time) (*x509.Certificate, error) {
	if c, ok := k.certs[addr]; ok {
		return c, nil
	}
	return nil, errors.New("no certificate")
}
func (k smimeKeys) Capture(string, []byte) error            { return nil }
func (k smimeKeys) SigningCerts(string, time.Time) []string { return nil }
func (k smimeKeys) CertWithdrawn(string) bool               { return false }

// selfCert makes a self-signed P-256 certificate for addr.
func selfCert(t *testing.T, addr string, usage x509.KeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: addr}, EmailAddresses: []string{addr},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: usage,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// TestSMIMECopiesShareTheirBody: an S/MIME copy is made of parts, its own
// being only its head; copies for subscribers whose RecipientInfos are of
// one size share the one part of the encrypted body; each copy, joined,
// decrypts to the post for its subscriber alone (one copy, and a batch).
func TestSMIMECopiesShareTheirBody(t *testing.T) {
	listCert, listKey := selfCert(t, "team@lists.test", x509.KeyUsageDigitalSignature)
	ann, annKey := selfCert(t, "ann@subs.test", x509.KeyUsageKeyAgreement)
	bob, bobKey := selfCert(t, "bob@subs.test", x509.KeyUsageKeyAgreement)
	keys := smimeKeys{cert: listCert, key: listKey, certs: map[string]*x509.Certificate{"ann@subs.test": ann, "bob@subs.test": bob}}
	list := &lists.List{Address: "team@lists.test", Settings: lists.Settings{PGPDistribEncrypt: "no", PGPDistribSign: "no",
		SMIMEDistribEncrypt: "yes", SMIMEDistribSign: "yes"}}
	const marker = "SMIME-PARTS-MARKER-2c7"
	post := append([]byte("From: bob@subs.test\nTo: team@lists.test\nSubject: Minutes\n\n"+marker+"\n"),
		bytes.Repeat([]byte("a line of the minutes, thirty-two\n"), 3000)...)
	d, err := New(&site.Site{Keys: keys}, list, &queue.Meta{Kind: "post", List: list.Address}, post, nil, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if d.CopySize() > 64<<10 {
		t.Errorf("CopySize %d: an S/MIME copy is counted whole", d.CopySize())
	}
	opens := func(t *testing.T, parts []*mta.Part, cert *x509.Certificate, key crypto.Signer) {
		t.Helper()
		joined := mta.Join(parts)
		if bytes.Contains(joined, []byte(marker)) {
			t.Fatal("the copy holds the post in clear")
		}
		e, err := rawmime.Parse(joined)
		if err != nil {
			t.Fatal(err)
		}
		der, err := e.DecodedBody(0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cms.Decrypt(der, cert, key)
		if err != nil || !bytes.Contains(got.Content, []byte(marker)) {
			t.Fatalf("the copy does not decrypt to the post: %v", err)
		}
	}
	var copies []*Copy
	for _, r := range []string{"ann@subs.test", "bob@subs.test"} {
		u := &Copy{Rcpts: []string{r}}
		d.Fill(u)
		if u.Err != nil || len(u.Parts) != 3 || u.Data != nil {
			t.Fatalf("copy for %s: %d parts, %d bytes of data, %v", r, len(u.Parts), len(u.Data), u.Err)
		}
		copies = append(copies, u)
	}
	if copies[0].Parts[2] != copies[1].Parts[2] {
		t.Error("the two copies do not share the part of the encrypted body")
	}
	if copies[0].Parts[1].Len() > 2048 {
		t.Errorf("a copy's own part is %d bytes", copies[0].Parts[1].Len())
	}
	opens(t, copies[0].Parts, ann, annKey)
	opens(t, copies[1].Parts, bob, bobKey)
	if _, err := cms.Decrypt(mustDER(t, copies[0].Parts), bob, bobKey); err == nil {
		t.Error("bob opens ann's copy")
	}
	batch := d.Batch([]string{"ann@subs.test", "bob@subs.test"})
	if len(batch) != 1 || batch[0].Err != nil || len(batch[0].Rcpts) != 2 {
		t.Fatalf("batch %+v", batch)
	}
	opens(t, batch[0].Parts, ann, annKey)
	opens(t, batch[0].Parts, bob, bobKey)
}

func mustDER(t *testing.T, parts []*mta.Part) []byte {
	t.Helper()
	e, err := rawmime.Parse(mta.Join(parts))
	if err != nil {
		t.Fatal(err)
	}
	der, err := e.DecodedBody(0)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
