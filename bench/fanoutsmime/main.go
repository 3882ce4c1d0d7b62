// Command fanoutsmime compares, on one machine and in one run, Cloister's
// outgoing S/MIME path (sign once, encrypt the content once, one
// RecipientInfo per subscriber copy) with one `openssl cms -encrypt` process
// per subscriber. bench/fanout-smime.sh runs it.
package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"cloister/mimecrypt/smime"
)

func main() {
	n := flag.Int("n", 1000, "subscribers")
	size := flag.Int("size", 50<<10, "post size in bytes")
	sample := flag.Int("openssl-sample", 100, "subscribers timed with one openssl process each")
	flag.Parse()
	dir, err := os.MkdirTemp("", "fanoutsmime-")
	check(err)
	defer os.RemoveAll(dir)

	fmt.Printf("S/MIME fan-out of a %d KB post to %d RSA-2048 subscribers, %d CPUs\n", *size>>10, *n, runtime.NumCPU())
	t0 := time.Now()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	check(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bench CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	check(err)
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(i int) (*x509.Certificate, crypto.Signer) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		check(err)
		email := fmt.Sprintf("sub%05d@subs.test", i)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: email}, EmailAddresses: []string{email},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		check(err)
		c, _ := x509.ParseCertificate(der)
		return c, k
	}
	listCert, listKey := leaf(-1 + 100000)
	subs := make([]*x509.Certificate, *n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i := range subs {
		wg.Add(1)
		sem <- struct{}{}
		go func() { defer wg.Done(); defer func() { <-sem }(); subs[i], _ = leaf(i) }()
	}
	wg.Wait()
	fmt.Printf("  (certificates made in %.1fs)\n", time.Since(t0).Seconds())

	post := []byte("Content-Type: text/plain; charset=utf-8\n\n")
	for len(post) < *size {
		post = append(post, "a line of the post to be fanned out, fifty bytes..\n"...)
	}
	start := time.Now()
	signed, err := smime.Sign(post, listCert, listKey, nil)
	check(err)
	sealed, err := smime.Seal(signed, smime.SealOptions{})
	check(err)
	for _, c := range subs {
		if _, err := sealed.WriteFor(io.Discard, c); err != nil {
			check(err)
		}
	}
	ours := float64(*n) / time.Since(start).Seconds()
	fmt.Printf("  cloister (sign once, encrypt once, %d copies, one core): %9.0f recipients/s\n", *n, ours)

	signedFile := filepath.Join(dir, "signed.eml")
	check(os.WriteFile(signedFile, signed, 0o600))
	k := min(*sample, *n)
	for i := 0; i < k; i++ {
		check(os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d.pem", i)), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: subs[i].Raw}), 0o600))
	}
	start = time.Now()
	for i := 0; i < k; i++ {
		cmd := exec.Command("openssl", "cms", "-encrypt", "-aes256", "-in", signedFile, filepath.Join(dir, fmt.Sprintf("c%d.pem", i)))
		var errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &errOut
		if err := cmd.Run(); err != nil {
			check(fmt.Errorf("openssl: %v %s", err, errOut.String()))
		}
	}
	theirs := float64(k) / time.Since(start).Seconds()
	fmt.Printf("  openssl cms -encrypt, one process per subscriber (%d timed): %6.0f recipients/s\n", k, theirs)
	fmt.Printf("  ratio: cloister / openssl per subscriber = %.0fx\n", ours/theirs)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
