package smime

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"cloister/mimecrypt/cms"
)

// benchSubscribers returns n RSA-2048 subscriber certificates. Key generation
// dominates setup, so a few keys are shared among distinct certificates; the
// encryption cost per subscriber does not depend on that.
func benchSubscribers(b *testing.B, n int) []*x509.Certificate {
	b.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	var keys []*rsa.PrivateKey
	for range 3 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, k)
	}
	certs := make([]*x509.Certificate, n)
	for i := range certs {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 10)), Subject: pkix.Name{CommonName: "sub"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &keys[i%len(keys)].PublicKey, caKey)
		if err != nil {
			b.Fatal(err)
		}
		certs[i], _ = x509.ParseCertificate(der)
	}
	return certs
}

func benchPost() []byte {
	line := "A fifty kilobyte post to the list, quoted-printable safe text.\r\n"
	return []byte("Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat(line, 50*1024/len(line)))
}

// BenchmarkFanoutRSA2048 signs a 50 KB post as the list, encrypts it once and
// makes one application/pkcs7-mime entity per subscriber, each with only its
// own RecipientInfo: the outgoing S/MIME path. One op is one post to 1,000
// subscribers.
func BenchmarkFanoutRSA2048(b *testing.B) {
	benchFanout(b, func(sealed *Sealed, c *x509.Certificate) error {
		_, err := sealed.For(c)
		return err
	})
}

// benchFanout signs and seals a 50 KB post as the list, then makes each of
// 1,000 subscribers' copies with copy.
func benchFanout(b *testing.B, copy func(*Sealed, *x509.Certificate) error) {
	const n = 1000
	certs := benchSubscribers(b, n)
	p := thePKI(b)
	list := p.m["list"]
	post := benchPost()
	b.SetBytes(int64(len(post)) * n)
	b.ResetTimer()
	for range b.N {
		signed, err := Sign(post, list.cert, list.key, nil)
		if err != nil {
			b.Fatal(err)
		}
		sealed, err := Seal(signed, SealOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range certs {
			if err := copy(sealed, c); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "subscribers/s")
}

// BenchmarkForRSA2048 measures one subscriber's copy of an already sealed
// 50 KB post: one RSA-2048 key transport plus encoding.
func BenchmarkForRSA2048(b *testing.B) {
	certs := benchSubscribers(b, 64)
	sealed, err := Seal(benchPost(), SealOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := sealed.For(certs[i%len(certs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "subscribers/s")
}

// BenchmarkFanoutRSA2048Stream is BenchmarkFanoutRSA2048 with each copy
// written to a stream (as to an SMTP DATA writer) by WriteFor instead of
// built in memory by For.
func BenchmarkFanoutRSA2048Stream(b *testing.B) {
	benchFanout(b, func(sealed *Sealed, c *x509.Certificate) error {
		_, err := sealed.WriteFor(io.Discard, c)
		return err
	})
}

// BenchmarkForRSA2048FromScratch is the naive path for comparison: every
// subscriber's copy encrypted and encoded from scratch.
func BenchmarkForRSA2048FromScratch(b *testing.B) {
	certs := benchSubscribers(b, 64)
	post := benchPost()
	b.ResetTimer()
	for i := range b.N {
		env, err := cms.Encrypt(post, cms.EncryptOptions{Cipher: cms.AES256CBC})
		if err != nil {
			b.Fatal(err)
		}
		der, err := env.For(certs[i%len(certs)])
		if err != nil {
			b.Fatal(err)
		}
		_ = base64Lines(der)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "subscribers/s")
}
