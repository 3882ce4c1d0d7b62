package smime

import (
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mimecrypt"
)

// corpusKeys loads the keys and trust anchors the corpus messages need.
type corpusKeys struct {
	bob, fran, franEC, phBob *member
	roots, phRoots           *x509.CertPool
}

func loadCorpusKeys(t *testing.T, corpus string) *corpusKeys {
	t.Helper()
	tb := filepath.Join(corpus, "thunderbird-smime", "keys")
	ph := filepath.Join(corpus, "protected-headers", "keys")
	k := &corpusKeys{}
	load := func(path, pass string) *member {
		c, key, _ := loadP12(t, path, pass)
		return &member{cert: c, key: key}
	}
	k.bob = load(filepath.Join(tb, "Bob.p12"), "nss")
	k.fran = load(filepath.Join(tb, "Fran.p12"), "nss")
	k.franEC = load(filepath.Join(tb, "Fran-ec.p12"), "nss")
	k.phBob = load(filepath.Join(ph, "bob.p12"), "bob")
	ca, _, err := readPEM(filepath.Join(tb, "TestCA.pem"), filepath.Join(tb, "expired-2024__TestCA.pem"))
	if err != nil {
		t.Fatal(err)
	}
	k.roots = pool(ca...)
	sample, _, err := readPEM(filepath.Join(ph, "sample-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	k.phRoots = pool(sample...)
	return k
}

// TestCorpus opens every S/MIME message of the corpus and checks the verdict
// and encryption SOURCES.md gives. Two deliberate differences from a mail
// reader: a signed part inside multipart/mixed (a list footer added) makes no
// verdict for the whole message, and enveloped parts inside
// multipart/alternative or /mixed are not decrypted (decryption oracles).
func TestCorpus(t *testing.T) {
	corpus := testdirs.Corpus(t)
	k := loadCorpusKeys(t, corpus)
	type keyChoice int
	const (
		bob keyChoice = iota
		fran
		franEC
		phBob
	)
	for _, tc := range []struct {
		file    string
		key     keyChoice
		verdict mimecrypt.Verdict
		enc     mimecrypt.Encryption
		err     error
		inText  string // text the opened message must contain
	}{
		{"thunderbird-smime/msgs/alice.dsig.SHA256.multipart.eml", bob, mimecrypt.VerdictGood, mimecrypt.EncNone, nil, "from Alice to Bob"},
		{"thunderbird-smime/msgs/alice.dsig.SHA1.multipart.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/alice.dsig.SHA256.multipart.bad.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/alice.dsig.SHA256.multipart.mismatch-econtent.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/alice.future.dsig.SHA256.multipart.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/alice.sig.SHA256.opaque.eml", bob, mimecrypt.VerdictGood, mimecrypt.EncNone, nil, "from Alice to Bob"},
		{"thunderbird-smime/msgs/alice.env.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, "from Alice to Bob"},
		{"thunderbird-smime/msgs/alice.dsig.SHA256.multipart.env.eml", bob, mimecrypt.VerdictGood, mimecrypt.EncSMIME, nil, "from Alice to Bob"},
		{"thunderbird-smime/msgs/alice.sig.SHA256.opaque.env.eml", bob, mimecrypt.VerdictGood, mimecrypt.EncSMIME, nil, "from Alice to Bob"},
		// A signature around the encryption covers only ciphertext: ignored.
		{"thunderbird-smime/msgs/alice.env.dsig.SHA256.multipart.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, "from Alice to Bob"},
		{"thunderbird-smime/msgs/alice.env.sig.SHA256.opaque.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, "from Alice to Bob"},
		{"thunderbird-smime/msgs/alice.env.sig.SHA256.opaque.dave.sig.SHA256.opaque.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, "from Alice to Bob"},
		{"thunderbird-smime/msgs/alice.plain.dsig.SHA256.multipart.dave.dsig.SHA256.multipart.eml", bob, mimecrypt.VerdictGood, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/expired-2024__alice.dsig.SHA256.multipart.eml", bob, mimecrypt.VerdictExpired, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/expired-2024__alice.sig.SHA256.opaque.eml", bob, mimecrypt.VerdictExpired, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/alice.dsig.SHA256.multipart.in.mixed.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/alice.dsig.SHA256.multipart.in.mixed.with.header.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/multipart-alternative.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/nested-sigs.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/alice.env.mixed.dsig.SHA256.multipart.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/outer-smime-bad-sig-inner-smime-enc.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, ""},
		{"thunderbird-smime/msgs/outer-smime-bad-sig-inner-smime-enc-sig.eml", bob, mimecrypt.VerdictGood, mimecrypt.EncSMIME, nil, ""},
		{"thunderbird-smime/msgs/outer-pgp-sig-inner-smime-enc.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncNone, nil, ""},
		{"thunderbird-smime/msgs/fran-oaep_ossl.env", fran, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, "test message to Fran"},
		{"thunderbird-smime/msgs/fran-ec_ossl-aes256-sha512.env", franEC, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, "test message to Fran"},
		{"thunderbird-smime/msgs/fran-oaep_ossl.env", bob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, mimecrypt.ErrNoKey, ""},
		{"protected-headers/msgs/smime-multipart-signed.eml", phBob, mimecrypt.VerdictGood, mimecrypt.EncNone, nil, ""},
		{"protected-headers/msgs/smime-onepart-signed.eml", phBob, mimecrypt.VerdictGood, mimecrypt.EncNone, nil, ""},
		{"protected-headers/msgs/smime-sign+enc.eml", phBob, mimecrypt.VerdictGood, mimecrypt.EncSMIME, nil, ""},
		{"protected-headers/msgs/smime-sign+enc+legacy-disp.eml", phBob, mimecrypt.VerdictGood, mimecrypt.EncSMIME, nil, ""},
		{"protected-headers/msgs/smime-enc+legacy-disp.eml", phBob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, nil, ""},
		{"protected-headers/msgs/smime-enc+legacy-disp.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncSMIME, mimecrypt.ErrNoKey, ""},
		{"thunderbird-openpgp/msgs/dual-signed-uncommon-content-type.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-openpgp/msgs/outer-smime-bad-sig-inner-pgp-enc.eml", bob, mimecrypt.VerdictBad, mimecrypt.EncNone, nil, ""},
		{"thunderbird-openpgp/msgs/multiple-signatures.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncNone, nil, ""},
		{"thunderbird-openpgp/msgs/inner-smime-sig-in-pgp-encrypted.eml", bob, mimecrypt.VerdictNone, mimecrypt.EncNone, nil, ""},
	} {
		name := tc.file
		if tc.err != nil {
			name += "/wrong-key"
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpus, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var m *member
			var roots *x509.CertPool = k.roots
			switch tc.key {
			case bob:
				m = k.bob
			case fran:
				m = k.fran
			case franEC:
				m = k.franEC
			case phBob:
				m, roots = k.phBob, k.phRoots
			}
			res, err := Open(raw, OpenOptions{Cert: m.cert, Key: crypto.PrivateKey(m.key), Roots: roots})
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error %v, want %v (reason %q)", err, tc.err, res.Reason)
			}
			if res.Verdict != tc.verdict || res.Encryption != tc.enc {
				t.Fatalf("verdict %s, encryption %s (reason %q); want %s, %s", res.Verdict, res.Encryption, res.Reason, tc.verdict, tc.enc)
			}
			if res.Verdict != mimecrypt.VerdictGood && res.Verdict != mimecrypt.VerdictNone && res.Reason == "" {
				t.Fatalf("verdict %s without a reason", res.Verdict)
			}
			if res.Verdict == mimecrypt.VerdictGood && (len(res.SignerCert) == 0 || len(res.SignerAddresses) == 0 || len(res.SignerFingerprint) != 64) {
				t.Fatalf("good verdict without signer details: %+v", res)
			}
			if tc.inText != "" && !strings.Contains(string(shown(res.Message)), tc.inText) {
				t.Fatalf("opened message lacks %q:\n%s", tc.inText, res.Message)
			}
			if strings.Contains(tc.file, "in.mixed") || strings.Contains(tc.file, "multipart-alternative") {
				if !strings.Contains(res.Reason, "only part of the message") {
					t.Fatalf("partly signed or encrypted message without a reason: %q", res.Reason)
				}
			}
			if tc.err == nil && res.Encryption == mimecrypt.EncSMIME && strings.Contains(string(res.Message), "application/pkcs7-mime; smime-type=enveloped") {
				t.Fatalf("opened message still encrypted")
			}
			t.Logf("%s %s %q", res.Verdict, res.Encryption, res.Reason)
		})
	}
}
