package smime

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
	"cloister/mimecrypt/cms"
)

// TestSignVerifiedByOpenSSL signs as the list and has openssl cms -verify
// check the signature against the CA, then opens the result ourselves.
func TestSignVerifiedByOpenSSL(t *testing.T) {
	p := thePKI(t)
	dir := t.TempDir()
	for _, name := range []string{"list", "erin"} {
		m := p.m[name]
		entity, err := Sign([]byte(postEntity), m.cert, m.key, nil)
		if err != nil {
			t.Fatal(err)
		}
		msg := append([]byte("From: "+Addresses(m.cert)[0]+"\r\nTo: sub@example.test\r\nSubject: s\r\n"+
			"Date: "+time.Now().UTC().Format(time.RFC1123Z)+"\r\nMIME-Version: 1.0\r\n"), entity...)
		f := filepath.Join(dir, name+".eml")
		os.WriteFile(f, msg, 0o600)
		out := mustOpenSSL(t, nil, "cms", "-verify", "-in", f, "-CAfile", p.ca.certFile, "-purpose", "smimesign")
		if !bytes.Contains(out, []byte("Hello list, this is a signed post.")) {
			t.Fatalf("%s: openssl verified content: %q", name, out)
		}
		if !bytes.Contains(entity, []byte("micalg=sha-256")) {
			t.Fatalf("%s: no micalg=sha-256", name)
		}
		res, err := Open(msg, OpenOptions{Roots: pool(p.ca.cert)})
		if err != nil || res.Verdict != mimecrypt.VerdictGood {
			t.Fatalf("%s: open own signature: %v %s %q", name, err, res.Verdict, res.Reason)
		}
		// Any one-byte change in the signed part is detected.
		altered := bytes.Replace(msg, []byte("signed post"), []byte("signed posT"), 1)
		if res, _ := Open(altered, OpenOptions{Roots: pool(p.ca.cert)}); res.Verdict != mimecrypt.VerdictBad {
			t.Fatalf("%s: altered signature gave %s", name, res.Verdict)
		}
	}
}

// TestSealDecryptedByOpenSSL encrypts once and checks that each recipient's
// copy opens with openssl cms -decrypt and only that recipient's key.
func TestSealDecryptedByOpenSSL(t *testing.T) {
	p := thePKI(t)
	dir := t.TempDir()
	inner, err := Sign([]byte(postEntity), p.m["list"].cert, p.m["list"].key, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []SealOptions{
		{},
		{Cipher: cms.AES256GCM},
		{KeyTransport: cms.RSAOAEP},
		{Cipher: cms.AES128CBC, KeyTransport: cms.RSAOAEP},
	} {
		sealed, err := Seal(inner, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ to, other string }{{"alice", "erin"}, {"erin", "alice"}} {
			entity, err := sealed.For(p.m[tc.to].cert)
			if err != nil {
				t.Fatal(err)
			}
			kind := "smime-type=enveloped-data"
			if opts.Cipher == cms.AES256GCM {
				kind = "smime-type=authEnveloped-data"
			}
			if !bytes.Contains(entity, []byte(kind)) {
				t.Fatalf("%v: entity lacks %s", opts, kind)
			}
			msg := append([]byte("From: team@lists.example.test\r\nTo: "+tc.to+"@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"), entity...)
			f := filepath.Join(dir, "sealed.eml")
			os.WriteFile(f, msg, 0o600)
			out := mustOpenSSL(t, nil, "cms", "-decrypt", "-in", f, "-recip", p.m[tc.to].certFile, "-inkey", p.m[tc.to].keyFile)
			if !bytes.Equal(bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(inner, []byte("\r\n"), []byte("\n"))) {
				t.Fatalf("%v/%s: openssl decrypted something else:\n%s", opts, tc.to, out)
			}
			// The decrypted inner signature verifies with openssl against the CA.
			g := filepath.Join(dir, "inner.eml")
			os.WriteFile(g, out, 0o600)
			mustOpenSSL(t, nil, "cms", "-verify", "-in", g, "-CAfile", p.ca.certFile, "-out", os.DevNull)
			// The other member's key does not open this copy.
			if _, err := runOpenSSL(opensslBin(t), nil, "cms", "-decrypt", "-in", f,
				"-recip", p.m[tc.other].certFile, "-inkey", p.m[tc.other].keyFile); err == nil {
				t.Fatalf("%v: %s's key opened %s's copy", opts, tc.other, tc.to)
			}
			// And Open reads it back: encrypted, list signature good.
			res, err := Open(msg, OpenOptions{Cert: p.m[tc.to].cert, Key: p.m[tc.to].priv, Roots: pool(p.ca.cert)})
			if err != nil || res.Encryption != mimecrypt.EncSMIME || res.Verdict != mimecrypt.VerdictGood {
				t.Fatalf("%v/%s: open: %v %s %s %q", opts, tc.to, err, res.Encryption, res.Verdict, res.Reason)
			}
		}
	}
}

// TestSealX25519 encrypts a list copy to an X25519 certificate (RFC 8410,
// ECDH per RFC 8418). OpenSSL 3.0 and Bouncy Castle 1.72 read no X25519
// envelopes, so the copy is opened by this package's reader, which opens
// the published RFC 9216 envelope for Dana (cms.TestExamplesX25519);
// openssl still parses the structure and finds the X25519 originator key.
func TestSealX25519(t *testing.T) {
	p := thePKI(t)
	inner, err := Sign([]byte(postEntity), p.m["list"].cert, p.m["list"].key, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []SealOptions{{}, {Cipher: cms.AES256GCM}} {
		sealed, err := Seal(inner, opts)
		if err != nil {
			t.Fatal(err)
		}
		entity, err := sealed.For(p.m["xavier"].cert)
		if err != nil {
			t.Fatalf("%v: %v", opts, err)
		}
		msg := append([]byte("From: team@lists.example.test\r\nTo: xavier@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"), entity...)
		res, err := Open(msg, OpenOptions{Cert: p.m["xavier"].cert, Key: p.m["xavier"].priv, Roots: pool(p.ca.cert)})
		if err != nil || res.Encryption != mimecrypt.EncSMIME || res.Verdict != mimecrypt.VerdictGood {
			t.Fatalf("%v: open: %v %s %s %q", opts, err, res.Encryption, res.Verdict, res.Reason)
		}
		if _, err := Open(msg, OpenOptions{Cert: p.m["erin"].cert, Key: p.m["erin"].priv}); !errors.Is(err, mimecrypt.ErrNoKey) {
			t.Fatalf("%v: erin opened xavier's copy: %v", opts, err)
		}
		f := filepath.Join(t.TempDir(), "sealed.eml")
		os.WriteFile(f, msg, 0o600)
		dump := mustOpenSSL(t, nil, "cms", "-cmsout", "-print", "-in", f)
		if !bytes.Contains(dump, []byte("X25519")) || !bytes.Contains(dump, []byte("dhSinglePass-stdDH-sha256kdf-scheme")) {
			t.Fatalf("%v: openssl reads:\n%s", opts, dump)
		}
	}
}

func TestSealRefuses(t *testing.T) {
	p := thePKI(t)
	if _, err := Seal([]byte(postEntity), SealOptions{Cipher: cms.DES3CBC}); err == nil {
		t.Fatal("sealed with 3DES")
	}
	s, err := Seal([]byte(postEntity), SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.For(p.m["signonly"].cert); !errors.Is(err, ErrKeyUsage) {
		t.Fatalf("sealed to a signing-only certificate: %v", err)
	}
	if _, err := s.For(); err == nil {
		t.Fatal("sealed to nobody")
	}
}

func TestCanEncryptTo(t *testing.T) {
	p := thePKI(t)
	now := time.Now()
	for _, tc := range []struct {
		name string
		at   time.Time
		want error
	}{
		{"alice", now, nil},
		{"erin", now, nil},
		{"list", now, nil},
		{"xavier", now, nil},
		{"signonly", now, ErrKeyUsage},
		{"edna", now, ErrKeyType},
		{"server", now, ErrKeyUsage},
		{"alice", now.Add(60 * 24 * time.Hour), ErrCertExpired},
		{"alice", now.Add(-24 * time.Hour), ErrCertExpired},
	} {
		if err := canEncryptAt(p.m[tc.name].cert, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s at %s: got %v, want %v", tc.name, tc.at.Format(time.DateOnly), err, tc.want)
		}
	}
	if err := CanEncryptTo(p.m["alice"].cert); err != nil {
		t.Errorf("CanEncryptTo(alice) = %v", err)
	}
}

func TestAddresses(t *testing.T) {
	p := thePKI(t)
	if got := Addresses(p.m["alice"].cert); len(got) != 1 || got[0] != "alice@example.test" {
		t.Errorf("alice: %v", got)
	}
	if got := Addresses(p.m["noemail"].cert); len(got) != 0 {
		t.Errorf("noemail: %v", got)
	}
	// Subject emailAddress, as older CAs issue, counts too (Alice of the NSS set).
	bob := filepath.Join(t.TempDir(), "e.crt")
	mustOpenSSL(t, nil, "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", bob+".key", "-out", bob, "-days", "1", "-subj", "/CN=Old/emailAddress=Old@Example.test")
	certs, _, err := readPEM(bob)
	if err != nil {
		t.Fatal(err)
	}
	if got := Addresses(certs[0]); len(got) != 1 || got[0] != "old@example.test" {
		t.Errorf("subject emailAddress: %v", got)
	}
}

// TestOpenBadInput feeds broken S/MIME to Open: each gives a clear error or
// a bad verdict, never a panic.
func TestOpenBadInput(t *testing.T) {
	p := thePKI(t)
	opts := listOptions(p)
	hdr := "From: alice@example.test\r\nMIME-Version: 1.0\r\n"
	mime := func(kind, body string) []byte {
		return []byte(hdr + "Content-Type: application/pkcs7-mime; smime-type=" + kind + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body)
	}
	good := mustOpenSSL(t, []byte(postEntity), "cms", "-encrypt", "-aes256", "-outform", "DER", p.m["list"].certFile)
	signed := mustOpenSSL(t, []byte(postEntity), "cms", "-sign", "-nodetach", "-outform", "DER", "-signer", p.m["alice"].certFile, "-inkey", p.m["alice"].keyFile)
	b64 := func(b []byte) string { return string(base64Lines(b)) }
	deep := bytes.Repeat([]byte{0x30, 0x80}, 100)
	for _, tc := range []struct {
		name    string
		msg     []byte
		err     error
		verdict mimecrypt.Verdict
	}{
		{"garbage enveloped DER", mime("enveloped-data", b64([]byte("garbage, not DER at all"))), mimecrypt.ErrMalformed, mimecrypt.VerdictNone},
		{"truncated enveloped", mime("enveloped-data", b64(good[:len(good)-40])), mimecrypt.ErrMalformed, mimecrypt.VerdictNone},
		{"bad base64", mime("enveloped-data", "!!!!"), mimecrypt.ErrMalformed, mimecrypt.VerdictNone},
		{"deep nesting", mime("enveloped-data", b64(deep)), mimecrypt.ErrTooLarge, mimecrypt.VerdictNone},
		{"garbage signed DER", mime("signed-data", b64([]byte("garbage"))), nil, mimecrypt.VerdictBad},
		{"truncated signed", mime("signed-data", b64(signed[:len(signed)/2])), nil, mimecrypt.VerdictBad},
		{"deep signed", mime("signed-data", b64(deep)), nil, mimecrypt.VerdictBad},
		{"signed part missing signature", []byte(hdr + "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n--b\r\n\r\nhi\r\n--b--\r\n"), nil, mimecrypt.VerdictBad},
		{"unterminated multipart/signed", []byte(hdr + "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n--b\r\n\r\nhi\r\n--b\r\n\r\nxx"), nil, mimecrypt.VerdictBad},
		{"oversized", append([]byte(hdr+"\r\n"), make([]byte, MaxMessageSize)...), mimecrypt.ErrTooLarge, mimecrypt.VerdictNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Open(tc.msg, opts)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if res == nil || res.Verdict != tc.verdict {
				t.Fatalf("result %+v, want verdict %s", res, tc.verdict)
			}
			if (err != nil || tc.verdict == mimecrypt.VerdictBad) && res.Reason == "" {
				t.Fatal("no reason for the sender")
			}
		})
	}
}

// TestOpenMessageShape checks the opened message: outer fields kept, the
// envelope's Content-* fields replaced by the decrypted entity's, line endings
// following the outer header.
func TestOpenMessageShape(t *testing.T) {
	p := thePKI(t)
	enc := mustOpenSSL(t, []byte(postEntity), "cms", "-encrypt", "-aes-256-gcm", p.m["list"].certFile)
	msg := strings.ReplaceAll("From: alice@example.test\nSubject: shape\n", "\n", "\n") + strings.ReplaceAll(string(enc), "\r\n", "\n")
	res, err := Open([]byte(msg), listOptions(p))
	if err != nil {
		t.Fatal(err)
	}
	want := "From: alice@example.test\nSubject: shape\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nHello list, this is a signed post.\nSecond line.\n"
	if string(res.Message) != want {
		t.Fatalf("opened message:\n%q\nwant\n%q", res.Message, want)
	}
}

func FuzzOpen(f *testing.F) {
	p := thePKI(f)
	opts := listOptions(p)
	f.Add([]byte("From: a@b\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n"))
	f.Add([]byte("From: a@b\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n--b\r\n\r\nhi\r\n--b\r\nContent-Type: application/pkcs7-signature\r\n\r\nxx\r\n--b--\r\n"))
	signed, _ := Sign([]byte(postEntity), p.m["erin"].cert, p.m["erin"].key, nil)
	f.Add(append([]byte("From: erin@example.test\r\n"), signed...))
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, _ := Open(raw, opts)
		if res == nil {
			t.Fatal("nil result")
		}
	})
}

// TestSealEncoding checks the shared-tail base64 encoding for every head
// alignment: the decoded body is the envelope, and WriteFor writes the same
// shape as For.
func TestSealEncoding(t *testing.T) {
	p := thePKI(t)
	sealed, err := Seal([]byte(postEntity), SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	combos := [][]*member{
		{p.m["alice"]}, {p.m["erin"]}, {p.m["alice"], p.m["erin"]}, {p.m["list"], p.m["alice"]},
		{p.m["list"], p.m["alice"], p.m["erin"]}, {p.m["erin"], p.m["noemail"]}, {p.m["erin"], p.m["noemail"], p.m["alice"]},
	}
	seen := map[int]bool{}
	for i, combo := range combos {
		var certs []*x509.Certificate
		for _, m := range combo {
			certs = append(certs, m.cert)
		}
		var buf bytes.Buffer
		if _, err := sealed.WriteFor(&buf, certs...); err != nil {
			t.Fatal(err)
		}
		entity, err := sealed.For(certs...)
		if err != nil {
			t.Fatal(err)
		}
		for j, out := range [][]byte{entity, buf.Bytes()} {
			e, err := rawmime.Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range bytes.Split(e.Body, []byte("\r\n")) {
				if len(line) > 76 {
					t.Fatalf("combo %d: base64 line of %d characters", i, len(line))
				}
			}
			der, err := decodeBody(e)
			if err != nil {
				t.Fatalf("combo %d/%d: %v", i, j, err)
			}
			for _, m := range combo {
				d, err := cms.Decrypt(der, m.cert, m.key)
				if err != nil || !bytes.Equal(d.Content, []byte(postEntity)) {
					t.Fatalf("combo %d/%d: %s cannot decrypt: %v", i, j, m.cert.Subject, err)
				}
			}
			seen[(len(der)-len(sealed.env.Tail()))%3] = true
		}
	}
	if len(seen) != 3 {
		t.Fatalf("head alignments covered: %v, want all of 0, 1, 2", seen)
	}
}

// TestSealConcurrent makes copies of one Sealed from several goroutines, as
// an outgoing runner with workers does.
func TestSealConcurrent(t *testing.T) {
	p := thePKI(t)
	sealed, err := Seal([]byte(postEntity), SealOptions{Cipher: cms.AES256GCM})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"alice", "erin", "list", "noemail"}
	errs := make(chan error, 4*len(names))
	for i := range 4 * len(names) {
		go func() {
			m := p.m[names[i%len(names)]]
			entity, err := sealed.For(m.cert)
			if err != nil {
				errs <- err
				return
			}
			e, err := rawmime.Parse(entity)
			if err != nil {
				errs <- err
				return
			}
			der, err := decodeBody(e)
			if err != nil {
				errs <- err
				return
			}
			d, err := cms.Decrypt(der, m.cert, m.key)
			if err == nil && !bytes.Equal(d.Content, []byte(postEntity)) {
				err = errors.New("content differs")
			}
			errs <- err
		}()
	}
	for range 4 * len(names) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestCaptureThenEncrypt takes the signer certificate from a verified post
// (as automatic capture does) and encrypts to it; a certificate whose key
// usage forbids encryption is reported as not usable.
func TestCaptureThenEncrypt(t *testing.T) {
	p := thePKI(t)
	dir := t.TempDir()
	sealed, err := Seal([]byte(postEntity), SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from string
		want       error
	}{
		{"alice", "alice@example.test", nil},
		{"erin", "erin@example.test", nil},
		{"signonly", "sig@example.test", ErrKeyUsage},
	} {
		m := p.m[tc.name]
		res, err := Open(withHeader(tc.from, opensslSign(t, m, "cms")), listOptions(p))
		if err != nil || res.Verdict != mimecrypt.VerdictGood {
			t.Fatalf("%s: %v %s %q", tc.name, err, res.Verdict, res.Reason)
		}
		captured, err := x509.ParseCertificate(res.SignerCert)
		if err != nil {
			t.Fatal(err)
		}
		if err := CanEncryptTo(captured); !errors.Is(err, tc.want) {
			t.Fatalf("%s: CanEncryptTo = %v, want %v", tc.name, err, tc.want)
		}
		if tc.want != nil {
			continue
		}
		entity, err := sealed.For(captured)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, tc.name+".eml")
		os.WriteFile(f, append([]byte("To: "+tc.from+"\r\nMIME-Version: 1.0\r\n"), entity...), 0o600)
		out := mustOpenSSL(t, nil, "cms", "-decrypt", "-in", f, "-recip", m.certFile, "-inkey", m.keyFile)
		if !bytes.Contains(out, []byte("Hello list")) {
			t.Fatalf("%s: openssl decrypted %q", tc.name, out)
		}
	}
}

// TestTooManyLayers nests opaque signatures deeper than MaxLayers.
func TestTooManyLayers(t *testing.T) {
	p := thePKI(t)
	m := p.m["erin"]
	entity := []byte(postEntity)
	for range MaxLayers + 1 {
		entity = mustOpenSSL(t, entity, "cms", "-sign", "-nodetach", "-signer", m.certFile, "-inkey", m.keyFile)
	}
	res, err := Open(withHeader("erin@example.test", entity), listOptions(p))
	if !errors.Is(err, mimecrypt.ErrTooLarge) || res.Reason == "" {
		t.Fatalf("got %v (reason %q), want ErrTooLarge", err, res.Reason)
	}
}
