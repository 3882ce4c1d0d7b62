package smime

import (
	"slices"
	"strings"
	"testing"
	"time"

	"cloister/internal/testdirs"
	"cloister/mimecrypt"
)

// onFileCerts is a CertBindings: address -> fingerprints on file.
type onFileCerts map[string][]string

func (b onFileCerts) SigningCerts(address string, _ time.Time) []string { return b[address] }

// TestBindingOnFile: a trusted certificate naming From authenticates only
// when it is the certificate on file for that address, or when the address
// has none on file (first contact). alice2 is a second certificate from the
// trusted CA naming alice's address: with alice's own certificate on file,
// its signature is a signer mismatch, in every signature form.
func TestBindingOnFile(t *testing.T) {
	testdirs.Slow(t, "runs openssl and node for every certificate")
	p := thePKI(t)
	alice, alice2 := fingerprint(p.m["alice"].cert), fingerprint(p.m["alice2"].cert)
	forms := map[string]func(m *member) []byte{
		"multipart/signed": func(m *member) []byte { return opensslSign(t, m, "cms", "-md", "sha256") },
		"opaque":           func(m *member) []byte { return opensslSign(t, m, "cms", "-md", "sha256", "-nodetach") },
		"signed then encrypted": func(m *member) []byte {
			return mustOpenSSL(t, opensslSign(t, m, "cms", "-md", "sha256"), "cms", "-encrypt", "-aes256", p.m["list"].certFile)
		},
	}
	for _, tc := range []struct {
		name     string
		signer   string
		from     string
		bindings CertBindings
		want     mimecrypt.Verdict
	}{
		{"no bindings: first contact", "alice2", "alice@example.test", nil, mimecrypt.VerdictGood},
		{"none on file for the address", "alice2", "alice@example.test", onFileCerts{"erin@example.test": {"00"}}, mimecrypt.VerdictGood},
		{"the certificate on file", "alice", "Alice <Alice@example.test>", onFileCerts{"alice@example.test": {alice}}, mimecrypt.VerdictGood},
		{"another trusted certificate naming From", "alice2", "alice@example.test", onFileCerts{"alice@example.test": {alice}}, mimecrypt.VerdictSignerMismatch},
		{"on file, lower-case fingerprint", "alice2", "alice@example.test", onFileCerts{"alice@example.test": {alice, strings.ToLower(alice2)}}, mimecrypt.VerdictGood},
		{"on file for another address only", "alice", "alice@example.test", onFileCerts{"alice@example.test": {alice2}, "erin@example.test": {alice}}, mimecrypt.VerdictSignerMismatch},
	} {
		for form, sign := range forms {
			t.Run(tc.name+"/"+form, func(t *testing.T) {
				opts := listOptions(p)
				opts.Bindings = tc.bindings
				res, err := Open(withHeader(tc.from, sign(p.m[tc.signer])), opts)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if res.Verdict != tc.want {
					t.Fatalf("verdict %s (%s), want %s", res.Verdict, res.Reason, tc.want)
				}
				switch tc.want {
				case mimecrypt.VerdictGood:
					if !slices.Equal(res.SignerAddresses, []string{"alice@example.test"}) {
						t.Errorf("SignerAddresses %v, want the From address alone", res.SignerAddresses)
					}
				case mimecrypt.VerdictSignerMismatch:
					if len(res.SignerAddresses) != 0 || !strings.Contains(res.Reason, "not the one on file") {
						t.Errorf("SignerAddresses %v, reason %q", res.SignerAddresses, res.Reason)
					}
				}
			})
		}
	}
}
