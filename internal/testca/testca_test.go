package testca

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestShared checks that Shared gives every test the one CA in files of its
// own, with leaves of distinct serials that verify against either view's
// certificate, and that New makes another CA, which refuses them.
func TestShared(t *testing.T) {
	a, b := Shared(t), Shared(t)
	if a.Dir == b.Dir || a.Cert == b.Cert {
		t.Fatalf("two Shared views share a directory: %s, %s", a.Dir, b.Dir)
	}
	ca, _ := os.ReadFile(a.Cert)
	cb, _ := os.ReadFile(b.Cert)
	if len(ca) == 0 || !bytes.Equal(ca, cb) {
		t.Fatal("two Shared views hold different CA certificates")
	}
	la := a.Issue("ann@subs.test", "ec", "digitalSignature")
	lb := b.Issue("bob@subs.test", "ec", "digitalSignature")
	serial := func(l *Leaf) string {
		out, err := Exec(nil, "x509", "-in", l.Cert, "-noout", "-serial")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if sa, sb := serial(la), serial(lb); sa == sb {
		t.Fatalf("leaves of two views share serial %s", sa)
	}
	for _, l := range []*Leaf{la, lb} {
		if _, err := Exec(nil, "verify", "-purpose", "smimesign", "-CAfile", b.Cert, l.Cert); err != nil {
			t.Fatalf("%s does not verify against the shared CA: %v", l.Email, err)
		}
	}
	other := New(t)
	co, _ := os.ReadFile(other.Cert)
	if bytes.Equal(co, ca) {
		t.Fatal("New returned the shared CA")
	}
	if _, err := Exec(nil, "verify", "-CAfile", other.Cert, la.Cert); err == nil {
		t.Fatal("a leaf of the shared CA verifies against another CA")
	}
}

// TestKeyPool checks every committed key is an RSA key of the size its
// name says, and that no two are the same key.
func TestKeyPool(t *testing.T) {
	ents, err := keys.ReadDir("keys")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".pem") {
			continue
		}
		n++
		bits := map[bool]string{true: "3072", false: "2048"}[strings.HasPrefix(name, "ca-")]
		if !strings.HasPrefix(name, "ca-") && !strings.HasPrefix(name, "rsa2048-") {
			t.Errorf("%s: neither ca-NN.pem nor rsa2048-NN.pem", name)
			continue
		}
		pem, _ := keys.ReadFile("keys/" + name)
		out, err := Exec(pem, "pkey", "-noout", "-text")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(string(out), "Private-Key: ("+bits+" bit") {
			t.Errorf("%s: not an RSA-%s key: %.60s", name, bits, out)
		}
		mod, err := Exec(pem, "rsa", "-noout", "-modulus")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if other, dup := seen[string(mod)]; dup {
			t.Errorf("%s and %s are the same key", name, other)
		}
		seen[string(mod)] = name
	}
	if n == 0 {
		t.Fatal("no committed keys")
	}
}
