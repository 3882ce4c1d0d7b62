package pgp

import (
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	gpghome "cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/mimecrypt"
)

// TestSignatureID: the replay identity of a gpg signature stays the same
// when the signature is re-encoded without the key (a subpacket added to the
// unhashed area, the other packet header format), whether the signature
// travels in clear, clear-signed or inside an encryption to the list (RFC
// 3156 6.2); it differs for other content, another signature of the same
// content and another signer.
func TestSignatureID(t *testing.T) {
	testdirs.Slow(t, "runs gpg for every signature")
	ann, bob, list := newGnuPG(t), newGnuPG(t), newGnuPG(t)
	ann.genKey("Ann <ann@subs.test>", "cv25519", "0")
	bob.genKey("Bob <bob@subs.test>", "rsa3072", "0")
	list.genKey("List <team@lists.test>", "cv25519", "0")
	listKey := list.exportSecret("team@lists.test")
	ann.importKey(listKey)
	senders := Bound{{Entity: ann.export("ann@subs.test"), Addresses: []string{"ann@subs.test"}}, {Entity: bob.export("bob@subs.test"), Addresses: []string{"bob@subs.test"}}}
	open := func(t *testing.T, msg string) *mimecrypt.Result {
		t.Helper()
		res, err := Open([]byte(msg), OpenOptions{Senders: senders, ListKeys: openpgp.EntityList{listKey}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != mimecrypt.VerdictGood || !strings.HasPrefix(res.SignatureID, "pgp:") {
			t.Fatalf("verdict %s (%s), identity %q", res.Verdict, res.Reason, res.SignatureID)
		}
		return res
	}
	inner := []byte("Content-Type: text/plain\n\nx-list-name team\nremove cat@subs.test\n")
	hdr := func(from string) string { return "From: " + from + "\nTo: team-request@lists.test\nSubject: x\n" }
	signed := string(ann.PGPMIMESigned(hdr("ann@subs.test"), inner, "ann@subs.test"))
	id := open(t, signed).SignatureID

	same := []struct{ name, msg string }{
		{"re-encoded signature", gpghome.ReencodeSignature(t, signed)},
		{"other outer header", strings.Replace(signed, "Subject: x", "Subject: y", 1)},
		{"re-encoded inside an encryption", string(ann.PGPMIMEEncrypted(hdr("ann@subs.test"),
			[]byte(gpghome.ReencodeSignature(t, signed)[len(hdr("ann@subs.test")):]), false, "ann@subs.test", "team@lists.test"))},
	}
	for _, c := range same {
		t.Run(c.name, func(t *testing.T) {
			if c.msg == signed {
				t.Fatal("the variant is the original")
			}
			if got := open(t, c.msg).SignatureID; got != id {
				t.Fatalf("identity %s, want %s", got, id)
			}
		})
	}

	other := []struct{ name, msg string }{
		{"other content", string(ann.PGPMIMESigned(hdr("ann@subs.test"), []byte("Content-Type: text/plain\n\nx-list-name team\nwho\n"), "ann@subs.test"))},
		// Signed again in the same second, gpg's Ed25519 signature would be
		// the same bytes, and the same identity: another hash makes it new.
		{"signed again with SHA-512", withSignature(signed, ann.Run(canonical(inner), "--armor", "--detach-sign",
			"--digest-algo", "SHA512", "--local-user", "ann@subs.test"))},
		{"other signer", string(bob.PGPMIMESigned(hdr("bob@subs.test"), inner, "bob@subs.test"))},
		{"signed inside the encryption", string(ann.PGPMIMEEncrypted(hdr("ann@subs.test"), inner, true, "ann@subs.test", "team@lists.test"))},
	}
	seen := map[string]string{id: "original"}
	for _, c := range other {
		t.Run(c.name, func(t *testing.T) {
			got := open(t, c.msg).SignatureID
			if prev, ok := seen[got]; ok {
				t.Fatalf("identity %s is the same as for %s", got, prev)
			}
			seen[got] = c.name
		})
	}
}

// canonical is what gpghome.PGPMIMESigned signs: CRLF lines, without the
// line break before the delimiter.
func canonical(inner []byte) []byte {
	c := strings.ReplaceAll(strings.ReplaceAll(string(inner), "\r\n", "\n"), "\n", "\r\n")
	return []byte(strings.TrimRight(c, "\r\n"))
}

// withSignature puts an armored signature in place of msg's.
func withSignature(msg string, sig []byte) string {
	const begin, end = "-----BEGIN PGP SIGNATURE-----", "-----END PGP SIGNATURE-----"
	i, j := strings.Index(msg, begin), strings.Index(msg, end)
	return msg[:i] + strings.TrimSpace(string(sig)) + msg[j+len(end):]
}
