package smime

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"cloister/mimecrypt"
)

// certtoolSign has GnuTLS certtool sign postEntity as the member and returns
// the DER SignedData: detached, or with the content inside (opaque).
// certtool is the peer for Ed25519: OpenSSL 3.0's CMS cannot sign or verify
// with Ed25519 ("eddsa_digest_signverify_init: invalid digest").
func certtoolSign(t *testing.T, m *member, detached bool) []byte {
	t.Helper()
	bin, err := exec.LookPath("certtool")
	if err != nil {
		t.Fatalf("certtool is needed for these tests (apt-get install -y gnutls-bin): %v", err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "post"), filepath.Join(dir, "sig.der")
	if err := os.WriteFile(in, []byte(postEntity), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--p7-sign", "--p7-time", "--outder", "--load-privkey", m.keyFile, "--load-certificate", m.certFile,
		"--infile", in, "--outfile", out}
	if detached {
		args = append(args, "--p7-detached-sign")
	}
	if msg, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("certtool %v: %v: %s", args, err, msg)
	}
	der, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// detachedEntity wraps a post and its detached DER signature in
// multipart/signed, as a mail client does.
func detachedEntity(content string, sig []byte) []byte {
	return []byte("MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-512; boundary=b1\r\n\r\n" +
		"--b1\r\n" + content + "\r\n--b1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		string(base64Lines(sig)) + "--b1--\r\n")
}

// opaqueEntity wraps a DER SignedData as application/pkcs7-mime.
func opaqueEntity(der []byte) []byte {
	return []byte("MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + string(base64Lines(der)))
}

// TestOpenEd25519 has GnuTLS sign posts with an Ed25519 certificate
// (RFC 8419), detached and opaque: the list finds them good, and bad once
// the content is changed.
func TestOpenEd25519(t *testing.T) {
	p := thePKI(t)
	edna := p.m["edna"]
	altered := bytes.Replace([]byte(postEntity), []byte("Second line."), []byte("Second line!"), 1)
	for _, tc := range []struct {
		name    string
		msg     func() []byte
		verdict mimecrypt.Verdict
	}{
		{"detached", func() []byte { return detachedEntity(postEntity, certtoolSign(t, edna, true)) }, mimecrypt.VerdictGood},
		{"opaque", func() []byte { return opaqueEntity(certtoolSign(t, edna, false)) }, mimecrypt.VerdictGood},
		{"detached altered", func() []byte { return detachedEntity(string(altered), certtoolSign(t, edna, true)) }, mimecrypt.VerdictBad},
		{"opaque altered", func() []byte {
			der := certtoolSign(t, edna, false)
			return opaqueEntity(bytes.Replace(der, []byte("Second line."), []byte("Second line!"), 1))
		}, mimecrypt.VerdictBad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Open(withHeader("edna@example.test", tc.msg()), listOptions(p))
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Fatalf("verdict %s (%q), want %s", res.Verdict, res.Reason, tc.verdict)
			}
			if tc.verdict == mimecrypt.VerdictGood && (res.SignatureID == "" || !bytes.Contains(shown(res.Message), []byte("Hello list"))) {
				t.Fatalf("no signature identity or content: %+v", res)
			}
		})
	}
}

// shown returns what a reader of an opened message sees: the content of a
// kept opaque signature, or the message itself.
func shown(msg []byte) []byte {
	if c, ok := OpaqueContent(msg); ok {
		return c
	}
	return msg
}
