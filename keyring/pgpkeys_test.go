package keyring

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/mimecrypt/pgp"
)

// TestSubscriberKeysGnuPG imports keys made by gpg (Curve25519, RSA-3072,
// one whose encryption subkey expires, one revoked) and checks the lookups
// and their typed errors.
func TestSubscriberKeysGnuPG(t *testing.T) {
	testdirs.Slow(t, "runs gpg for every key")
	g := gnupg.New(t)
	ann := g.GenKey("Ann <ann@subs.test>", "cv25519")
	bob := g.GenKey("Bob <bob@subs.test>", "rsa3072")
	g.Run(nil, "--quick-gen-key", "Cat <cat@subs.test>", "ed25519", "sign,cert", "0")
	cat := g.Fingerprint("cat@subs.test")
	g.Run(nil, "--quick-add-key", cat, "cv25519", "encr", "1d")
	dan := g.GenKey("Dan <dan@subs.test>", "cv25519")
	g.Revoke(dan)
	// Ann certifies Bob: a third-party certification to strip.
	g.Run(nil, "--default-key", ann, "--quick-sign-key", bob)

	k := newKeyring(t)
	for _, fpr := range []string{ann, bob, cat, dan} {
		uid := strings.ToLower(string(g.Run(nil, "--with-colons", "--list-keys", fpr)))
		addr := uid[strings.Index(uid, "<")+1 : strings.Index(uid, ">")]
		got, err := k.AddOpenPGP(addr, g.Run(nil, "--export", fpr), false)
		if err != nil {
			t.Fatalf("add %s: %v", addr, err)
		}
		if got != fpr {
			t.Fatalf("fingerprint %s, want %s", got, fpr)
		}
	}
	now := time.Now()
	tests := []struct {
		addr    string
		at      time.Time
		want    string
		wantErr error
	}{
		{"ann@subs.test", now, ann, nil},
		{"ANN@subs.test", now, ann, nil},
		{"bob@subs.test", now, bob, nil},
		{"cat@subs.test", now, cat, nil},
		{"cat@subs.test", now.Add(48 * time.Hour), "", ErrNoEncryptionSubkey},
		{"dan@subs.test", now, "", ErrRevoked},
		{"eve@subs.test", now, "", ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			e, err := k.EncryptionKeyPGP(tt.addr, tt.at)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, pgp.ErrNoEncryptionKey) {
					t.Fatalf("err = %v, want %v and pgp.ErrNoEncryptionKey", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if Fingerprint(e) != tt.want {
				t.Fatalf("key %s, want %s", Fingerprint(e), tt.want)
			}
			if _, _, err := pgp.EncryptionKey(e, tt.at, nil); err != nil {
				t.Fatalf("mimecrypt disagrees: %v", err)
			}
		})
	}
	if _, err := k.EncryptionKeyPGP("cat@subs.test", now.Add(48*time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired subkey error does not say so: %v", err)
	}

	// Third-party certifications are gone; the key ID index finds subkeys.
	e, _ := k.EncryptionKeyPGP("bob@subs.test", now)
	for _, id := range e.Identities {
		if len(id.OtherCertifications) != 0 {
			t.Fatalf("user ID %q kept %d third-party certifications", id.Name, len(id.OtherCertifications))
		}
	}
	sub, _, _ := pgp.EncryptionKey(e, now, nil)
	if got := k.Senders().SenderKeys(sub.PublicKey.KeyId); len(got) != 1 || Fingerprint(got[0].Entity) != bob ||
		strings.Join(got[0].Addresses, ",") != "bob@subs.test" {
		t.Fatalf("SenderKeys(subkey) = %+v", got)
	}
	if got := k.Senders().SenderKeys(e.PrimaryKey.KeyId); len(got) != 1 {
		t.Fatalf("SenderKeys(primary) = %d keys", len(got))
	}
	if got := k.Senders().SenderKeys(0x1234); len(got) != 0 {
		t.Fatalf("SenderKeys(unknown) = %d keys", len(got))
	}

	// Entries say what each key is good for.
	ents, err := k.Entries(now)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]State{}
	for _, en := range ents {
		states[en.Address] = en.State
	}
	want := map[string]State{"ann@subs.test": StateOK, "bob@subs.test": StateOK, "cat@subs.test": StateOK, "dan@subs.test": StateRevoked}
	for a, s := range want {
		if states[a] != s {
			t.Errorf("%s: state %q, want %q", a, states[a], s)
		}
	}
	ents, _ = k.Entries(now.Add(48 * time.Hour))
	for _, en := range ents {
		if en.Address == "cat@subs.test" && (en.State != StateNoEncryption || strings.Join(en.Usable, ",") != "sign") {
			t.Errorf("cat in two days: %+v", en)
		}
	}
}

// TestBinding checks that a key is bound only to an address its user IDs
// carry, unless an owner binds it, and that Remove unbinds.
func TestBinding(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Fay <fay@subs.test>", "cv25519")
	pub := g.Run(nil, "--armor", "--export", fpr)
	k := newKeyring(t)
	if _, err := k.AddOpenPGP("other@subs.test", pub, false); !errors.Is(err, ErrNotBound) {
		t.Fatalf("unbound add: %v", err)
	}
	if _, err := k.AddOpenPGP("other@subs.test", pub, true); err != nil {
		t.Fatalf("owner-bound add: %v", err)
	}
	if _, err := k.AddOpenPGP("fay@subs.test", pub, false); err != nil {
		t.Fatal(err)
	}
	ents, _ := k.Entries(time.Now())
	if len(ents) != 2 || ents[1].Address != "other@subs.test" || ents[1].Note != "owner-bound" || ents[0].Note != "" {
		t.Fatalf("entries %+v", ents)
	}
	if got := boundTo(t, k, fpr); got != "fay@subs.test,other@subs.test" {
		t.Fatalf("bound to %q", got)
	}
	if _, err := k.Remove("other@subs.test", fpr[len(fpr)-16:]); err != nil {
		t.Fatal(err)
	}
	if got := boundTo(t, k, fpr); got != "fay@subs.test" {
		t.Fatalf("after remove, bound to %q", got)
	}
	if _, err := k.EncryptionKeyPGP("other@subs.test", time.Now()); !errors.Is(err, ErrNoKey) {
		t.Fatalf("after remove: %v", err)
	}
	if _, err := k.EncryptionKeyPGP("fay@subs.test", time.Now()); err != nil {
		t.Fatalf("other binding lost: %v", err)
	}
	if _, err := k.Remove("fay@subs.test", fpr); err != nil {
		t.Fatal(err)
	}
	if got := k.Senders().SenderKeys(0); len(got) != 0 {
		t.Fatal("wildcard ID found a key")
	}
	ents, _ = k.Entries(time.Now())
	if len(ents) != 0 {
		t.Fatalf("entries after removing every binding: %+v", ents)
	}
	if _, err := k.Remove("fay@subs.test", fpr); !errors.Is(err, ErrNoKey) {
		t.Fatalf("second remove: %v", err)
	}
}

// TestCorpusKeys imports the corpus's expired (Benny) and revoked (Carol)
// keys, and a secret key as a subscriber key (stored public only).
func TestCorpusKeys(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "thunderbird-openpgp", "keys")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	k := newKeyring(t)
	tests := []struct {
		file, addr string
		bind       bool
		wantErr    error
	}{
		{"benny-hashwell-0xc55ccd9c5ab482b2-pub.asc", "benny@subs.test", true, ErrExpired},
		{"carol@pgp.icu-0xEF2FD01608AFD744-revoked-secret.asc", "carol@pgp.icu", false, ErrRevoked},
		{"alice@openpgp.example-0xf231550c4f47e38e-secret.asc", "alice@openpgp.example", false, nil},
		{"carol@example.com-0x3099ff1238852b9f-pub.asc", "carol@example.com", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if _, err := k.AddOpenPGP(tt.addr, read(tt.file), tt.bind); err != nil {
				t.Fatal(err)
			}
			_, err := k.EncryptionKeyPGP(tt.addr, time.Now())
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("lookup = %v, want %v", err, tt.wantErr)
			}
		})
	}
	raw, _ := os.ReadFile(k.Path())
	if strings.Contains(string(raw), "PRIVATE") {
		t.Fatal("armored private key stored")
	}
	e, _ := k.EncryptionKeyPGP("alice@openpgp.example", time.Now())
	if e.PrivateKey != nil {
		t.Fatal("subscriber key kept its secret part")
	}
}

// TestSnapshotSeesOtherWriters checks that a handle that has read the
// keyring sees a key added through another handle (another process).
func TestSnapshotSeesOtherWriters(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Gil <gil@subs.test>", "cv25519")
	a := newKeyring(t)
	b, err := Open(a.Path(), testPassphrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EncryptionKeyPGP("gil@subs.test", time.Now()); !errors.Is(err, ErrNoKey) {
		t.Fatalf("before: %v", err)
	}
	if _, err := a.AddOpenPGP("gil@subs.test", g.Run(nil, "--export", fpr), false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.EncryptionKeyPGP("gil@subs.test", time.Now()); err != nil {
		t.Fatalf("after another handle added the key: %v", err)
	}
	if _, err := a.Remove("gil@subs.test", fpr); err != nil {
		t.Fatal(err)
	}
	if _, err := b.EncryptionKeyPGP("gil@subs.test", time.Now()); !errors.Is(err, ErrNoKey) {
		t.Fatalf("after removal: %v", err)
	}
}

// TestReimportKeepsRevocation checks that importing an older copy of a
// revoked key does not undo the revocation.
func TestReimportKeepsRevocation(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Hal <hal@subs.test>", "cv25519")
	old := g.Run(nil, "--export", fpr)
	g.Revoke(fpr)
	revoked := g.Run(nil, "--export", fpr)
	k := newKeyring(t)
	for _, b := range [][]byte{revoked, old} {
		if _, err := k.AddOpenPGP("hal@subs.test", b, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.EncryptionKeyPGP("hal@subs.test", time.Now()); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after re-import of the old copy: %v", err)
	}
}

// TestAddOpenPGPBadInput feeds broken keys.
func TestAddOpenPGPBadInput(t *testing.T) {
	k := newKeyring(t)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not a key at all")},
		{"broken armor", []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n")},
		{"truncated packet", []byte{0x99, 0x01, 0x0d, 0x04}},
		{"too large", make([]byte, maxKeyInput+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.AddOpenPGP("x@subs.test", tt.data, true); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := k.AddOpenPGP("not an address", nil, true); err == nil {
		t.Fatal("bad address accepted")
	}
}

// FuzzAddOpenPGP checks that no input makes the import panic.
func FuzzAddOpenPGP(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEAAAAABYJKwYBBAHaRw8BAQdA\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Add([]byte{0x99, 0x01, 0x0d, 0x04})
	f.Add([]byte{0xc6, 0x33, 0x04, 0, 0, 0, 0, 0x16})
	k := newKeyring(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		k.AddOpenPGP("fuzz@subs.test", data, true)
	})
}

// boundTo returns the addresses, sorted and joined by commas, that the
// keyring's sender key source binds to the key with fingerprint fpr.
func boundTo(t *testing.T, k *Keyring, fpr string) string {
	t.Helper()
	var id uint64
	for _, b := range []byte(strings.ToUpper(fpr[len(fpr)-16:])) {
		d := uint64(b - '0')
		if b >= 'A' {
			d = uint64(b-'A') + 10
		}
		id = id<<4 | d
	}
	got := k.Senders().SenderKeys(id)
	if len(got) != 1 {
		t.Fatalf("SenderKeys(%016X) = %d keys", id, len(got))
	}
	a := slices.Clone(got[0].Addresses)
	slices.Sort(a)
	return strings.Join(a, ",")
}

// TestSendersBindOnlyTheImportAddress: a key whose self-signed user IDs name
// the owner and a member, imported for its holder's address (as key set by
// mail or key add does), is bound to that address only; an owner's --bind
// adds exactly the address named.
func TestSendersBindOnlyTheImportAddress(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Eve <eve@evil.test>", "cv25519")
	g.Run(nil, "--quick-add-uid", fpr, "Ann <ann@subs.test>")
	g.Run(nil, "--quick-add-uid", fpr, "bob@subs.test")
	pub := g.Run(nil, "--armor", "--export", fpr)
	k := newKeyring(t)
	if _, err := k.AddOpenPGP("eve@evil.test", pub, false); err != nil {
		t.Fatal(err)
	}
	if got := boundTo(t, k, fpr); got != "eve@evil.test" {
		t.Fatalf("bound to %q, want eve@evil.test only", got)
	}
	if _, err := k.AddOpenPGP("cat@subs.test", pub, true); err != nil {
		t.Fatal(err)
	}
	if got := boundTo(t, k, fpr); got != "cat@subs.test,eve@evil.test" {
		t.Fatalf("after an owner's bind, bound to %q", got)
	}
}

// TestUnboundAddresses: the addresses a key's self-signed user IDs (or a
// certificate) name besides the one it is imported for.
func TestUnboundAddresses(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Eve <eve@evil.test>", "cv25519")
	g.Run(nil, "--quick-add-uid", fpr, "Ann <ANN@subs.test>")
	pub := g.Run(nil, "--armor", "--export", fpr)
	for _, tt := range []struct{ addr, want string }{
		{"eve@evil.test", "ann@subs.test"},
		{"Ann@Subs.Test", "eve@evil.test"},
		{"cat@subs.test", "ann@subs.test,eve@evil.test"},
	} {
		if got := strings.Join(UnboundAddresses(tt.addr, pub), ","); got != tt.want {
			t.Errorf("UnboundAddresses(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	if got := UnboundAddresses("eve@evil.test", []byte("not a key")); len(got) != 0 {
		t.Errorf("unreadable data: %v", got)
	}
}
