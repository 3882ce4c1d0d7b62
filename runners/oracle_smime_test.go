package runners

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// smimeParty is one CA with the list's certificate and ann's and bob's,
// made once and shared by the sites of a test.
type smimeParty struct {
	ca     *testca.CA
	list   *testca.Leaf
	leaves map[string]*testca.Leaf
}

func newSMIMEParty(t *testing.T) *smimeParty {
	ca := testca.New(t)
	return &smimeParty{ca: ca, list: ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment"),
		leaves: map[string]*testca.Leaf{
			"ann@subs.test": ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment"),
			"bob@subs.test": ca.Issue("bob@subs.test", "rsa", "digitalSignature,keyEncipherment"),
		}}
}

// site is a fresh test site holding the party's certificates, with
// settings on top of smime_post_encrypt and smime_distrib_encrypt yes.
func (p *smimeParty) site(t *testing.T, settings map[string]string) *testSite {
	s := newTestSite(t)
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, mustRead(t, p.ca.Cert)))
	keys := &memKeys{cert: parseCert(t, p.list.CertPEM), key: parseKey(t, p.list.KeyPEM), roots: roots, certs: map[string]*x509.Certificate{}}
	for addr, l := range p.leaves {
		keys.certs[addr] = parseCert(t, l.CertPEM)
	}
	s.Keys, s.mem = keys, keys
	all := map[string]string{"smime_post_encrypt": "yes", "smime_distrib_encrypt": "yes", "smime_distrib_sign": "yes"}
	for k, v := range settings {
		all[k] = v
	}
	s.setList(t, all)
	return s
}

// envelope encrypts content to the list's certificate with openssl smime
// (binary, DER: definite lengths, the encrypted content last).
func (p *smimeParty) envelope(t *testing.T, content []byte, cipher string) []byte {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if cipher == "-aes-256-gcm" {
		return p.ca.Run(nil, "cms", "-encrypt", cipher, "-binary", "-outform", "DER", "-in", in, p.list.Cert)
	}
	return p.ca.Run(nil, "smime", "-encrypt", cipher, "-binary", "-outform", "DER", "-in", in, p.list.Cert)
}

// asMail wraps a CMS envelope as an S/MIME client sends it.
func asMail(from string, der []byte) string {
	enc := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n")
	return "From: " + from + "\nTo: team@lists.test\nSubject: Budget\nMessage-ID: <budget@subs.test>\nMIME-Version: 1.0\n" +
		"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\n" +
		"Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"smime.p7m\"\n\n" + b.String()
}

// aes256CBCIV finds the IV of an AES-256-CBC envelope: the OCTET STRING
// parameter after the algorithm's OID.
func aes256CBCIV(t *testing.T, der []byte) int {
	oid := []byte{0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a, 0x04, 0x10}
	i := bytes.Index(der, oid)
	if i < 0 {
		t.Fatal("no AES-256-CBC IV in the envelope")
	}
	return i + len(oid)
}

// cbcVariants are what a padding-oracle attacker sends: the captured
// envelope (of plain, whose bytes the test knows) with bytes changed. In
// CBC the last plaintext block is D(C_n) xor C_n-1, so changing C_n-1 sets
// chosen bytes of the last block and garbles the block before it: flipping
// the low bit of its last byte always makes the PKCS#7 padding invalid;
// setting the last pad+1 bytes to pad+1 makes a valid padding over one
// byte less. Flipping IV bits changes the first block and nothing else.
// The "IV" variants are returned apart.
func cbcVariants(t *testing.T, der, plain []byte) (padding, iv map[string][]byte) {
	pad := 16 - len(plain)%16
	padded := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	lastBlock := padded[len(padded)-16:]
	prev := len(der) - 32 // C_n-1
	change := func(at int, x byte) []byte {
		b := bytes.Clone(der)
		b[at] ^= x
		return b
	}
	validPad := func(k int) []byte {
		b := bytes.Clone(der)
		for i := 16 - k; i < 16; i++ {
			b[prev+i] ^= lastBlock[i] ^ byte(k)
		}
		return b
	}
	at := aes256CBCIV(t, der)
	padding = map[string][]byte{
		"bad padding":           change(prev+15, 0x01),
		"bad padding, high bit": change(prev+15, 0x80),
	}
	if pad < 16 {
		padding["valid padding one byte longer, garbage block"] = validPad(pad + 1)
	}
	if pad == 1 {
		padding["valid padding 0x01, garbage block"] = validPad(2)
	} else {
		padding["valid padding 0x01, garbage block"] = validPad(1)
	}
	iv = map[string][]byte{
		"IV flipped":           change(at, 0x01),
		"IV last byte flipped": change(at+15, 0x20),
	}
	return padding, iv
}

var (
	volatileRE = regexp.MustCompile(`(?m)^(HP-Outer: )?(Date|Message-ID|Message-Id): .*$`)
	boundaryRE = regexp.MustCompile(`=_cloister_[0-9a-f]+|[-=_]*[Bb]oundary[^\s";]*|------------[0-9A-F]{20,}`)
)

// outcome is everything the sender and anyone else can observe of one
// post: the files left in each queue, and each mail handed to the MTA, as
// its recipient reads it (opened with the recipient's key and the CA),
// without the fields that differ in any two mails (date, message id,
// boundaries).
func (p *smimeParty) outcome(t *testing.T, s *testSite) string {
	var b strings.Builder
	qs, _ := os.ReadDir(filepath.Join(s.Config.StateDir, "queue"))
	for _, q := range qs {
		ents, _ := os.ReadDir(filepath.Join(s.Config.StateDir, "queue", q.Name()))
		fmt.Fprintf(&b, "queue %s: %d\n", q.Name(), len(ents))
	}
	for _, rcpt := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
		for _, m := range s.mailbox(t, rcpt) {
			text := m
			if l, ok := p.leaves[rcpt]; ok && bytes.Contains(m, []byte("application/pkcs7-mime")) {
				pt, err := testca.Decrypt(m, l)
				if err != nil {
					t.Fatalf("%s cannot open its mail: %v", rcpt, err)
				}
				if c, err := p.ca.Verify(pt); err == nil {
					pt = c
				}
				text = pt
			}
			subject := ""
			if i := bytes.Index(m, []byte("\nSubject: ")); i >= 0 {
				subject = string(m[i+1 : i+bytes.IndexByte(m[i+1:], '\n')+1])
			}
			norm := boundaryRE.ReplaceAllString(volatileRE.ReplaceAllString(strings.ReplaceAll(string(text), "\r\n", "\n"), ""), "B")
			fmt.Fprintf(&b, "mail to %s (%s, %d KiB):\n%s\n", rcpt, subject, len(m)/1024, norm)
		}
	}
	return b.String()
}

// TestSMIMEPaddingOracle: a member's post encrypted by openssl smime
// -encrypt -aes256, and the variants a padding-oracle attacker makes of it
// (bad padding, valid padding over garbage, a flipped IV) get one and the
// same observable outcome (every mail handed to the MTA, the files in every
// queue), with smime_post_sign no and force; the unsigned post as sent gets
// it too (CBC plaintext is acted on only under a good inner signature). A
// post signed inside the encryption is distributed, unless the list sets
// smime_require_aead, which then refuses it with the same outcome and
// distributes an AES-GCM one.
func TestSMIMEPaddingOracle(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	p := newSMIMEParty(t)
	const marker = "PADDING-MARKER-3b7c"
	plain := []byte("Content-Type: text/plain\r\n\r\nThe budget is " + marker + ".\r\n")
	unsigned := p.envelope(t, plain, "-aes256")
	ann := p.leaves["ann@subs.test"]
	signedContent := p.ca.Run(plain, "cms", "-sign", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
	signed := p.envelope(t, signedContent, "-aes256")
	epilogueContent := append(bytes.Clone(signedContent), bytes.Repeat([]byte("\r\n"), 24)...)
	signedEpilogue := p.envelope(t, epilogueContent, "-aes256")

	run := func(t *testing.T, settings map[string]string, der []byte) string {
		s := p.site(t, settings)
		s.deliver(t, queue.SubPost, "ann@subs.test", asMail("ann@subs.test", der))
		s.drain(t)
		if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
			t.Fatalf("plaintext on disk: %v", hits)
		}
		if strings.Contains(s.logs.String(), marker) {
			t.Fatalf("plaintext in the log")
		}
		return p.outcome(t, s)
	}
	for _, sign := range []string{"no", "force"} {
		t.Run("smime_post_sign="+sign, func(t *testing.T) {
			settings := map[string]string{"smime_post_sign": sign}
			want := run(t, settings, unsigned)
			if strings.Contains(want, marker) || !strings.Contains(want, "could not read your message") {
				t.Fatalf("the unsigned CBC post as sent:\n%s", want)
			}
			signedWant := run(t, settings, signed)
			if !strings.Contains(signedWant, "mail to bob@subs.test") || !strings.Contains(signedWant, marker) {
				t.Fatalf("the post signed inside the encryption was not distributed:\n%s", signedWant)
			}
			padding, iv := cbcVariants(t, unsigned, plain)
			for name, v := range iv {
				padding[name] = v
			}
			signedPadding, signedIV := cbcVariants(t, signed, signedContent)
			for name, v := range signedPadding {
				padding["signed, "+name] = v
			}
			// With text after the close delimiter (the epilogue, outside
			// the signature), a garbled block there leaves the signature
			// good: only the check that nothing uncovered is garbage
			// refuses it.
			if got := run(t, settings, signedEpilogue); !strings.Contains(got, "mail to bob@subs.test") || !strings.Contains(got, marker) {
				t.Fatalf("the signed post with an epilogue was not distributed:\n%s", got)
			}
			epiPadding, _ := cbcVariants(t, signedEpilogue, epilogueContent)
			for name, v := range epiPadding {
				padding["signed with an epilogue, "+name] = v
			}
			for name, v := range padding {
				p.checkPadding(t, name, v)
				if got := run(t, settings, v); got != want {
					t.Errorf("%s: the outcome differs from the unsigned post's:\n%s\nwant:\n%s", name, got, want)
				}
			}
			// A flip in the first block (through the IV) of a signed post
			// changes only the header of its signature wrapper, outside
			// the signature: refused all the same.
			for name, v := range signedIV {
				if got := run(t, settings, v); got != want {
					t.Errorf("signed, %s: the outcome differs from the unsigned post's:\n%s\nwant:\n%s", name, got, want)
				}
			}
		})
	}
	t.Run("smime_require_aead=yes", func(t *testing.T) {
		settings := map[string]string{"smime_require_aead": "yes"}
		want := run(t, settings, unsigned)
		if got := run(t, settings, signed); got != want {
			t.Errorf("a signed CBC post: the outcome differs from the unsigned post's:\n%s\nwant:\n%s", got, want)
		}
		gcm := p.envelope(t, signedContent, "-aes-256-gcm")
		if got := run(t, settings, gcm); !strings.Contains(got, "mail to bob@subs.test") || !strings.Contains(got, marker) {
			t.Errorf("the AES-GCM post was not distributed:\n%s", got)
		}
	})
}

// checkPadding proves a variant is what its name says: openssl opens the
// "valid padding" ones (into garbage) and refuses the "bad padding" ones.
func (p *smimeParty) checkPadding(t *testing.T, name string, der []byte) {
	t.Helper()
	_, err := testca.Exec(der, "smime", "-decrypt", "-inform", "DER", "-binary", "-recip", p.list.Cert, "-inkey", p.list.Key)
	switch {
	case strings.Contains(name, "bad padding") && err == nil:
		t.Fatalf("%s: openssl decrypts it", name)
	case strings.Contains(name, "valid padding") && err != nil:
		t.Fatalf("%s: openssl does not decrypt it: %v", name, err)
	}
}
