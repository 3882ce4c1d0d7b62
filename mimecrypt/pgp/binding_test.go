package pgp

import (
	"slices"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/testdirs"
	"cloister/mimecrypt"
)

// TestBindingNotUserIDs: a good signature authenticates only an address
// that the key source bound the key to. Eve's gpg key carries self-signed
// user IDs naming Ann and Bob; bound to eve@evil.test alone, her signature
// under From: ann (or bob) is signer-mismatch in every format, and under
// From: eve it is good with SignerAddresses [eve]. A key bound to nothing
// authenticates no one; an owner's binding to an address no user ID names
// does; a list key (ListKeys) that signs authenticates no one.
func TestBindingNotUserIDs(t *testing.T) {
	testdirs.Slow(t, "runs gpg to make and bind keys")
	list := newKey(t, listAddr, "curve25519", false)
	g := newGnuPG(t)
	fpr := g.genKey("Eve <eve@evil.test>", "cv25519", "0")
	g.run(nil, "--quick-add-uid", fpr, "Ann <ann@subs.test>")
	g.run(nil, "--quick-add-uid", fpr, "bob@subs.test")
	g.importKey(list)
	eve := g.export("eve@evil.test")
	if len(eve.Identities) != 3 {
		t.Fatalf("eve's key has %d user IDs, want 3", len(eve.Identities))
	}

	formats := map[string]func(from string) string{
		"PGP/MIME signed": func(from string) string { return postHeader(from) + signedMIME(g, "eve@evil.test", clientEntity) },
		"PGP/MIME combined sign+encrypt": func(from string) string {
			return postHeader(from) + encryptedMIME(g, "eve@evil.test", clientEntity)
		},
		"PGP/MIME signed then encrypted": func(from string) string {
			return postHeader(from) + encryptedMIME(g, "", signedMIME(g, "eve@evil.test", clientEntity))
		},
		"inline clear-signed": func(from string) string {
			return postHeader(from) + "Content-Type: text/plain\r\n\r\n" +
				string(g.run([]byte("Hello list, clear-signed.\r\n"), "--clearsign", "-u", "eve@evil.test"))
		},
		"inline signed+encrypted": func(from string) string {
			return postHeader(from) + "Content-Type: text/plain\r\n\r\n" +
				string(g.run([]byte("Hello list.\r\n"), "--armor", "--encrypt", "--sign", "-u", "eve@evil.test", "-r", listAddr))
		},
	}
	tests := []struct {
		name    string
		senders KeySource
		from    string
		want    mimecrypt.Verdict
		addrs   []string
	}{
		{"bound address", bound(eve, "eve@evil.test"), "Eve <eve@evil.test>", mimecrypt.VerdictGood, []string{"eve@evil.test"}},
		{"bound address, other case", bound(eve, "Eve@Evil.Test"), "EVE@evil.test", mimecrypt.VerdictGood, []string{"eve@evil.test"}},
		{"user ID of the owner, not bound", bound(eve, "eve@evil.test"), "Ann <ann@subs.test>", mimecrypt.VerdictSignerMismatch, []string{"eve@evil.test"}},
		{"user ID of a member, not bound", bound(eve, "eve@evil.test"), "bob@subs.test", mimecrypt.VerdictSignerMismatch, []string{"eve@evil.test"}},
		{"bound to nothing", bound(eve), "eve@evil.test", mimecrypt.VerdictSignerMismatch, nil},
		{"owner-bound address no user ID names", bound(eve, "cat@subs.test"), "cat@subs.test", mimecrypt.VerdictGood, []string{"cat@subs.test"}},
		{"another key bound to From", Bound{{Entity: eve, Addresses: []string{"eve@evil.test"}}, {Entity: newKey(t, "ann@subs.test", "curve25519", false), Addresses: []string{"ann@subs.test"}}},
			"ann@subs.test", mimecrypt.VerdictSignerMismatch, []string{"eve@evil.test"}},
		{"not in the key source", bound(newKey(t, "ann@subs.test", "curve25519", false), "ann@subs.test"), "ann@subs.test", mimecrypt.VerdictUnknownKey, nil},
	}
	for format, make := range formats {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				res, err := Open([]byte(make(tt.from)), OpenOptions{ListKeys: openpgp.EntityList{list}, Senders: tt.senders})
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if res.Verdict != tt.want {
					t.Fatalf("verdict %s (%s), want %s", res.Verdict, res.Reason, tt.want)
				}
				if tt.want == mimecrypt.VerdictSignerMismatch && !strings.Contains(res.Reason, "not bound") {
					t.Errorf("reason %q does not say the key is not bound", res.Reason)
				}
				if tt.want != mimecrypt.VerdictUnknownKey && !slices.Equal(res.SignerAddresses, tt.addrs) {
					t.Errorf("SignerAddresses %v, want %v (bound addresses only)", res.SignerAddresses, tt.addrs)
				}
			})
		}
	}

	// The list's own key signs: it is a list key, bound to no sender.
	signed, err := SignMIME([]byte(testPost), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Open(listMessage(signed), OpenOptions{ListKeys: openpgp.EntityList{list}})
	if err != nil || res.Verdict != mimecrypt.VerdictSignerMismatch {
		t.Fatalf("signed by a list key: %v %s (%s), want signer-mismatch", err, res.Verdict, res.Reason)
	}
}

// TestBoundSenderKeys: Bound finds a key by its primary key ID and by a
// subkey ID, and nothing for other IDs.
func TestBoundSenderKeys(t *testing.T) {
	testdirs.Slow(t, "runs gpg to make and bind keys")
	a := newKey(t, "a@subs.test", "curve25519", false)
	b := newKey(t, "b@subs.test", "rsa3072", false)
	src := Bound{{Entity: a, Addresses: []string{"a@subs.test"}}, {Entity: b, Addresses: []string{"b@subs.test"}}}
	for _, tt := range []struct {
		id   uint64
		want string
	}{
		{a.PrimaryKey.KeyId, "a@subs.test"},
		{a.Subkeys[0].PublicKey.KeyId, "a@subs.test"},
		{b.PrimaryKey.KeyId, "b@subs.test"},
		{0x1234, ""},
	} {
		got := src.SenderKeys(tt.id)
		var addrs []string
		for _, k := range got {
			addrs = append(addrs, k.Addresses...)
		}
		if strings.Join(addrs, ",") != tt.want {
			t.Errorf("SenderKeys(%016X) = %v, want %q", tt.id, addrs, tt.want)
		}
	}
}
