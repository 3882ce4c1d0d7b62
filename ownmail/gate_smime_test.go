package ownmail

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"
	"time"

	"cloister/internal/site"
	"cloister/mimecrypt/smime"
	"cloister/queue"
)

// certKeys is a keyring of subscribers' S/MIME certificates for the gate;
// the other methods of site.Keys are not the gate's and panic if called.
type certKeys struct {
	site.Keys
	certs map[string]*x509.Certificate
}

func (k certKeys) EncryptionCert(addr string, _ time.Time) (*x509.Certificate, error) {
	if c, ok := k.certs[addr]; ok {
		return c, nil
	}
	return nil, errors.New("no certificate")
}

// encryptionCert makes a self-signed P-256 certificate for addr that can
// be encrypted to (key agreement).
func encryptionCert(t testing.TB, addr string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: addr}, EmailAddresses: []string{addr},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageKeyAgreement | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// smimeCopy is a copy of a post of size bytes sealed with S/MIME for certs.
func smimeCopy(t testing.TB, size int, certs ...*x509.Certificate) []byte {
	t.Helper()
	inner := []byte("Content-Type: text/plain\r\n\r\n")
	inner = append(inner, bytes.Repeat([]byte("a line of the post, 32 bytes...\r\n"), size/33+1)...)
	sealed, err := smime.Seal(inner, smime.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ent, err := sealed.For(certs...)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("From: team@lists.test\r\nTo: ann@subs.test\r\nMIME-Version: 1.0\r\n"), ent...)
}

// confidentialMeta is an entry that carries an encrypted post's plaintext.
func confidentialMeta() *queue.Meta {
	return &queue.Meta{ID: "1", List: "team@lists.test", Kind: "post", Encryption: "smime", Carries: queue.CarriesPlaintext,
		Lineage: &queue.Lineage{ID: "1", Encrypted: true}}
}

// BenchmarkGateSMIME25MB: the bytes the gate allocates to check one S/MIME
// copy of a 25 MB post (B/op): the outgoing runner checks every copy of an
// entry that carries an encrypted post, held whole (Check) or, for a large
// copy, read from its parts (CheckStream).
func BenchmarkGateSMIME25MB(b *testing.B) {
	ann := encryptionCert(b, "ann@subs.test")
	data := smimeCopy(b, 25<<20, ann)
	g := &Gate{Keys: certKeys{certs: map[string]*x509.Certificate{"ann@subs.test": ann}}, Now: time.Now()}
	m := confidentialMeta()
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := g.Check(m, data, []string{"ann@subs.test"}, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("streamed", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := g.CheckStream(m, bytes.NewReader(data), []string{"ann@subs.test"}, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// decodeBefore is how the gate decoded an S/MIME body before it read the
// text in place: whitespace dropped into a copy, then DecodeString.
func decodeBefore(text []byte) ([]byte, error) {
	return base64.StdEncoding.DecodeString(string(bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, text)))
}

var base64Cases = []string{
	"", "\r\n", "TWFu", "TWFu\r\nTWE=\r\n", "TWFu\nTWE=\n", "TW Fu\tTWE=", "TWE=\r\nTWFu", "TWE=\r\n\r\n",
	"TWE=\r\n\r\nclear text", "TWF", "TW=u", "TWFu====", "TWFu\x00", "TWFu\xff", "TWFu\u00e9\r\n", "T\rW\nF\r\nu", "TWFuTQ==",
	"TWFuTQ=", "TWFuTQ", "=", "====",
}

// TestDecodeBase64AsBefore: the gate decodes S/MIME text as it did when
// it copied it first, and refuses what it refused: padding before the
// end, text after it, other characters, an incomplete last quantum.
func TestDecodeBase64AsBefore(t *testing.T) {
	for _, text := range base64Cases {
		want, werr := decodeBefore([]byte(text))
		for _, dst := range [][]byte{nil, make([]byte, 0, 1), []byte("stale bytes of an earlier copy")[:0]} {
			got, err := decodeBase64(dst, []byte(text))
			if (err == nil) != (werr == nil) || err == nil && !bytes.Equal(got, want) {
				t.Errorf("%q: got %q, %v; before %q, %v", text, got, err, want, werr)
			}
		}
	}
}

// FuzzDecodeBase64 holds the gate's decoder to the one it replaced.
func FuzzDecodeBase64(f *testing.F) {
	for _, c := range base64Cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		want, werr := decodeBefore(text)
		got, err := decodeBase64(nil, text)
		if (err == nil) != (werr == nil) || err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q, %v; before %q, %v", text, got, err, want, werr)
		}
	})
}

// TestGateSMIME: an S/MIME copy passes only when it is an envelope whose
// RecipientInfos name exactly the recipients' certificates, in base64 and
// nothing else; one Gate checks copies of several sizes in turn, reusing
// its decode buffer, and a short or broken copy after a whole one is still
// refused.
func TestGateSMIME(t *testing.T) {
	ann, bob := encryptionCert(t, "ann@subs.test"), encryptionCert(t, "bob@subs.test")
	g := &Gate{Keys: certKeys{certs: map[string]*x509.Certificate{"ann@subs.test": ann, "bob@subs.test": bob}}, Now: time.Now()}
	m := confidentialMeta()
	const marker = "SMIME-GATE-PLAINTEXT-3f1"
	big, small := smimeCopy(t, 256<<10, ann), smimeCopy(t, 2<<10, ann)
	head, body, _ := bytes.Cut(big, []byte("\r\n\r\n"))
	withBody := func(b []byte) []byte { return append(append(append([]byte{}, head...), "\r\n\r\n"...), b...) }
	lines := bytes.Split(bytes.TrimRight(body, "\r\n"), []byte("\r\n"))
	clearPost := []byte("Content-Type: text/plain\r\n\r\n" + marker + "\r\n")
	tests := []struct {
		name  string
		data  []byte
		rcpts []string
		ok    bool
	}{
		{"to ann", big, []string{"ann@subs.test"}, true},
		{"a smaller copy to ann after a larger", small, []string{"ann@subs.test"}, true},
		{"to ann and bob", smimeCopy(t, 1<<10, ann, bob), []string{"ann@subs.test", "bob@subs.test"}, true},
		{"lines split by LF only", withBody(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))), []string{"ann@subs.test"}, true},
		{"ann's copy for bob", big, []string{"bob@subs.test"}, false},
		{"ann's copy for ann and bob", big, []string{"ann@subs.test", "bob@subs.test"}, false},
		{"for one without a certificate", big, []string{"cat@subs.test"}, false},
		{"truncated after a whole copy", withBody(bytes.Join(lines[:len(lines)/2], []byte("\r\n"))), []string{"ann@subs.test"}, false},
		{"the post in clear after the base64", withBody(append(append([]byte{}, body...), "\r\n"+marker+"\r\n"...)), []string{"ann@subs.test"}, false},
		{"the post in base64 after the envelope", withBody(append(append([]byte{}, body...), base64.StdEncoding.EncodeToString(clearPost)...)),
			[]string{"ann@subs.test"}, false},
		{"the post in base64 instead", withBody([]byte(base64.StdEncoding.EncodeToString(clearPost))), []string{"ann@subs.test"}, false},
		{"padding in the middle", withBody(append([]byte("TWE=\r\n"), body...)), []string{"ann@subs.test"}, false},
		{"signed-data, not an encryption", bytes.Replace(big, []byte("smime-type=enveloped-data"), []byte("smime-type=signed-data"), 1),
			[]string{"ann@subs.test"}, false},
		{"in quoted-printable", bytes.Replace(big, []byte("Content-Transfer-Encoding: base64"), []byte("Content-Transfer-Encoding: quoted-printable"), 1),
			[]string{"ann@subs.test"}, false},
		{"to ann, again", big, []string{"ann@subs.test"}, true},
	}
	for _, tc := range tests {
		err := checkBoth(t, g, m, tc.data, tc.rcpts)
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: passes: %v", tc.name, err)
		}
	}
}
