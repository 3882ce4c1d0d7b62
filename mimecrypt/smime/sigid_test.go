package smime

import (
	"bytes"
	"strings"
	"testing"

	"cloister/internal/testca"
	"cloister/mimecrypt"
)

// TestSignatureID: the replay identity of an openssl CMS signature stays the
// same under re-encodings that need no key (an unsigned attribute added,
// another certificate set, BER framing, LF line endings, the signed entity
// encrypted to the list), and differs for other content, another signer and
// a signature without signed attributes (whose identity is the content's).
func TestSignatureID(t *testing.T) {
	p := thePKI(t)
	opts := listOptions(p)
	open := func(t *testing.T, msg []byte) string {
		t.Helper()
		res, err := Open(msg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != mimecrypt.VerdictGood || !strings.HasPrefix(res.SignatureID, "cms:") {
			t.Fatalf("verdict %s (%s), identity %q", res.Verdict, res.Reason, res.SignatureID)
		}
		return res.SignatureID
	}
	signed := withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-md", "sha256"))
	der, b64 := testca.SignaturePart(t, signed)
	noattr := withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-md", "sha256", "-noattr"))
	naDER, naB64 := testca.SignaturePart(t, noattr)
	id, naID := open(t, signed), open(t, noattr)
	encrypted := mustOpenSSL(t, signed[bytes.Index(signed, []byte("MIME-Version")):], "cms", "-encrypt", "-aes256", p.m["list"].certFile)

	for _, c := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"unsigned attribute added", testca.WithSignature(signed, b64, testca.AddUnsignedAttribute(t, der)), id},
		{"certificate set changed", testca.WithSignature(signed, b64, testca.AddCertificate(t, der, p.ca.cert.Raw)), id},
		{"BER framing", testca.WithSignature(signed, b64, testca.ToBER(t, der)), id},
		{"LF line endings", bytes.ReplaceAll(signed, []byte("\r\n"), []byte("\n")), id},
		{"encrypted to the list", withHeader("alice@example.test", encrypted), id},
		{"no signed attributes, unsigned attribute added", testca.WithSignature(noattr, naB64, testca.AddUnsignedAttribute(t, naDER)), naID},
	} {
		t.Run(c.name, func(t *testing.T) {
			if bytes.Equal(c.msg, signed) || bytes.Equal(c.msg, noattr) {
				t.Fatal("the variant is the original")
			}
			if got := open(t, c.msg); got != c.want {
				t.Fatalf("identity %s, want %s", got, c.want)
			}
		})
	}

	seen := map[string]string{id: "original"}
	if naID == id {
		t.Fatal("a signature without signed attributes has the identity of one with them")
	}
	seen[naID] = "no signed attributes"
	otherContent := mustOpenSSL(t, []byte(strings.Replace(postEntity, "Second line.", "Second line!", 1)),
		"cms", "-sign", "-signer", p.m["alice"].certFile, "-inkey", p.m["alice"].keyFile, "-md", "sha256")
	for _, c := range []struct {
		name string
		msg  []byte
	}{
		{"other content", withHeader("alice@example.test", otherContent)},
		{"other signer", withHeader("erin@example.test", opensslSign(t, p.m["erin"], "cms", "-md", "sha256"))},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := open(t, c.msg)
			if prev, ok := seen[got]; ok {
				t.Fatalf("identity %s is the same as for %s", got, prev)
			}
			seen[got] = c.name
		})
	}
}
