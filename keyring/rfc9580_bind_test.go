package keyring

import (
	"os"
	"path/filepath"
	"testing"

	"cloister/mimecrypt"
	"cloister/mimecrypt/pgp"
)

// TestOwnerBoundV6Sample: RFC 9580's sample v6 certificate (A.3), which has
// no user ID, added by an owner with --bind, authenticates its address:
// the sample inline-signed (A.7) and cleartext-signed (A.6) messages from
// that address get a good verdict through the keyring's key source; from
// another address, signer-mismatch. Without --bind it is not added.
func TestOwnerBoundV6Sample(t *testing.T) {
	dir := filepath.Join("..", "testdata", "rfc9580")
	cert, err := os.ReadFile(filepath.Join(dir, "a3-v6-certificate.asc"))
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyring(t)
	if _, err := k.AddOpenPGP("grocer@subs.test", cert, false); err == nil {
		t.Fatal("a certificate without user ID was bound without --bind")
	}
	if _, err := k.AddOpenPGP("grocer@subs.test", cert, true); err != nil {
		t.Fatalf("owner-bound add of the v6 sample: %v", err)
	}
	for _, name := range []string{"a7-inline-signed.asc", "a6-cleartext-signed.asc"} {
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for from, want := range map[string]mimecrypt.Verdict{"grocer@subs.test": mimecrypt.VerdictGood, "other@subs.test": mimecrypt.VerdictSignerMismatch} {
			msg := []byte("From: " + from + "\r\nTo: team@lists.test\r\nSubject: groceries\r\nContent-Type: text/plain\r\n\r\n" + string(body))
			res, err := pgp.Open(msg, pgp.OpenOptions{Senders: k.Senders()})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res.Verdict != want {
				t.Errorf("%s from %s: %s (%s), want %s", name, from, res.Verdict, res.Reason, want)
			}
		}
	}
}
