package pgp

import (
	"os"
	"path/filepath"
	"testing"

	"cloister/mimecrypt"
)

// rfc9580 reads a sample from testdata/rfc9580 (see SOURCES.md there).
func rfc9580(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rfc9580", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC9580Samples: RFC 9580's sample v6 certificate, which has no user
// ID, bound to an address by the keyring (an owner's --bind), gives the
// cleartext-signed (A.6) and inline-signed (A.7) sample messages a good
// verdict from that address, and signer-mismatch from any other.
func TestRFC9580Samples(t *testing.T) {
	cert := readKey(t, rfc9580(t, "a3-v6-certificate.asc"))
	if len(cert.Identities) != 0 || cert.PrimaryKey.Version != 6 {
		t.Fatalf("sample certificate: version %d, %d user IDs", cert.PrimaryKey.Version, len(cert.Identities))
	}
	senders := bound(cert, "grocer@subs.test")
	for _, name := range []string{"a6-cleartext-signed.asc", "a7-inline-signed.asc"} {
		for _, tt := range []struct {
			from    string
			verdict mimecrypt.Verdict
		}{{"grocer@subs.test", mimecrypt.VerdictGood}, {"other@subs.test", mimecrypt.VerdictSignerMismatch}} {
			msg := []byte(postHeader(tt.from) + "Content-Type: text/plain\r\n\r\n" + string(rfc9580(t, name)))
			res, err := Open(msg, OpenOptions{Senders: senders})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res.Verdict != tt.verdict || res.Encryption != mimecrypt.EncNone {
				t.Errorf("%s from %s: %s/%s (%s), want none/%s", name, tt.from, res.Encryption, res.Verdict, res.Reason, tt.verdict)
			}
			if tt.verdict == mimecrypt.VerdictGood && res.SignerFingerprint != "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9" {
				t.Errorf("%s: signer %s", name, res.SignerFingerprint)
			}
		}
	}
}
