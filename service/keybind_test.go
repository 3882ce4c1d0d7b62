package service

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"cloister/keyring"
	"cloister/rules"
)

// memStore is a KeyStore in memory: one OpenPGP fingerprint per address
// (the key bytes are taken as the fingerprint).
type memStore struct{ pgp map[string]string }

func (m *memStore) SubscriberPGP(address string) (string, error) { return m.pgp[address], nil }
func (m *memStore) SetSubscriberPGP(address string, key []byte, _ time.Time) (string, error) {
	if string(key) == "bad" {
		return "", errors.New("the key does not carry " + address)
	}
	m.pgp[address] = string(key)
	return string(key), nil
}
func (m *memStore) RevokeSubscriberPGP(address string) error                 { delete(m.pgp, address); return nil }
func (m *memStore) CertifyListPGP(string, keyring.ListCert) error            { return nil }
func (m *memStore) ListCertificationsPGP(string) ([]keyring.ListCert, error) { return nil, nil }
func (m *memStore) SubscriberCerts(string) ([]string, error)                 { return nil, nil }
func (m *memStore) CheckCert(string, []byte) (string, error)                 { return "", nil }
func (m *memStore) SetSubscriberCert(string, []byte, bool) (string, error) {
	return "", errors.New("no certificates here")
}
func (m *memStore) WithdrawCert(string, []byte) (string, error) { return "", nil }
func (m *memStore) CertByFingerprint(string) ([]byte, bool)     { return nil, false }

// TestKeyBindAuthorization: the email key commands' changes are decided
// by their grounds: a key holder's own proof only for their own address and
// never from a token, an owner's word as an owner operation, and each
// change is audited with the fingerprint.
func TestKeyBindAuthorization(t *testing.T) {
	ks := &memStore{pgp: map[string]string{}}
	s := newTestService(t, WithKeyStore(ks))
	ctx := context.Background()
	bob := person("bob@subs.test", rules.MethodPGP)
	ann := person("ann@subs.test", rules.MethodPGP)
	for _, tc := range []struct {
		name    string
		a       Actor
		address string
		key     string
		grounds string
		want    string // code
		audit   string // target of the last audit entry
	}{
		{"own key by its holder", bob, "bob@subs.test", "B1", GroundsSelf, "", "bob@subs.test B1 (self)"},
		{"another's key on own grounds", bob, "cat@subs.test", "C1", GroundsSelf, CodeForbidden, "cat@subs.test"},
		{"a token on a holder's grounds", token(t, "list:team@lists.test:owner"), "bob@subs.test", "B2", GroundsSelf, CodeForbidden, "bob@subs.test"},
		{"a web session on a holder's grounds", Actor{Address: "bob@subs.test", Method: rules.MethodMD5, Via: ViaWeb}, "bob@subs.test", "B3", GroundsSelf, CodeForbidden, "bob@subs.test"},
		{"a member on an owner's grounds", bob, "cat@subs.test", "C1", GroundsOwner, CodeForbidden, "cat@subs.test"},
		{"an owner on an owner's grounds", ann, "cat@subs.test", "C1", GroundsOwner, "", "cat@subs.test C1 (owner)"},
		{"unknown grounds", ann, "cat@subs.test", "C2", "because", CodeInvalid, "cat@subs.test"},
		{"a key the store refuses", bob, "bob@subs.test", "bad", GroundsSelf, CodeInvalid, "bob@subs.test"},
		{"the console", Console(), "dan@subs.test", "D1", GroundsOwner, "", "dan@subs.test D1 (owner)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ks.pgp[tc.address]
			fpr, err := s.KeyBind(ctx, tc.a, KeyBindRequest{List: "team", Address: tc.address, PGP: []byte(tc.key), Grounds: tc.grounds})
			if Code(err) != tc.want {
				t.Fatalf("KeyBind: %v, want code %q", err, tc.want)
			}
			if tc.want == "" && (fpr != tc.key || ks.pgp[tc.address] != tc.key) {
				t.Errorf("bound %q (store %q), want %q", fpr, ks.pgp[tc.address], tc.key)
			}
			if tc.want != "" && ks.pgp[tc.address] != before {
				t.Errorf("a refused change was made: %q", ks.pgp[tc.address])
			}
			log := auditLog(t, s)
			if len(log) == 0 {
				t.Fatal("no audit entry")
			}
			last := log[len(log)-1]
			if last.Op != "key.bind" || last.Target != tc.audit {
				t.Errorf("last audit entry %s %q, want key.bind %q", last.Op, last.Target, tc.audit)
			}
		})
	}
	if _, err := s.KeyUnbind(ctx, bob, KeyUnbindRequest{List: "team", Address: "bob@subs.test", Grounds: GroundsSelf}); err != nil || ks.pgp["bob@subs.test"] != "" {
		t.Fatalf("KeyUnbind by the holder: %v; store %q", err, ks.pgp["bob@subs.test"])
	}
	if log := auditLog(t, s); log[len(log)-1].Target != "bob@subs.test B1 (self)" || log[len(log)-1].Op != "key.unbind" {
		t.Errorf("unbind audited as %+v", log[len(log)-1])
	}
	if _, err := New(s.Site()).KeyBind(ctx, Console(), KeyBindRequest{List: "team", Address: "x@subs.test", PGP: []byte("X"), Grounds: GroundsOwner}); Code(err) != CodeUnavailable {
		t.Errorf("KeyBind without a key store: %v, want unavailable", err)
	}
}

// TestListKeyGenerate: list keys are made by the site's admins only, and
// the audit entry names the fingerprint.
func TestListKeyGenerate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.db")
	s := newTestService(t, WithKeyring(func() (*keyring.Keyring, error) { return keyring.Open(path, []byte("pass"), nil) }))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		a    Actor
		req  ListKeyGenerateRequest
		want string
	}{
		{"an owner's token", token(t, "list:team@lists.test:owner"), ListKeyGenerateRequest{List: "team"}, CodeForbidden},
		{"an owner by mail", person("ann@subs.test", rules.MethodPGP), ListKeyGenerateRequest{List: "team"}, CodeForbidden},
		{"an unknown kind", Console(), ListKeyGenerateRequest{List: "team", Kind: "rot13"}, CodeInvalid},
		{"a wrong RSA size", Console(), ListKeyGenerateRequest{List: "team", RSABits: 2048}, CodeInvalid},
		{"the console", Console(), ListKeyGenerateRequest{List: "team"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.ListKeyGenerate(ctx, tc.a, tc.req)
			if Code(err) != tc.want {
				t.Fatalf("ListKeyGenerate: %v, want code %q", err, tc.want)
			}
			k, kerr := keyring.Open(path, []byte("pass"), nil)
			if kerr != nil {
				t.Fatal(kerr)
			}
			_, perr := k.ListPGP("team@lists.test")
			if tc.want != "" {
				if perr == nil {
					t.Fatal("a refused request made a key")
				}
				return
			}
			if perr != nil || len(res.Fingerprint) != 40 {
				t.Fatalf("key made: %+v, %v", res, perr)
			}
			log := auditLog(t, s)
			if last := log[len(log)-1]; last.Op != "listkey.generate" || last.Target != "openpgp "+res.Fingerprint {
				t.Errorf("audit entry %s %q", last.Op, last.Target)
			}
		})
	}
}
