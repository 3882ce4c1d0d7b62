package pgp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// armorOf returns the armor block of a For message.
func armorOf(t testing.TB, msg []byte) []byte {
	t.Helper()
	i := bytes.Index(msg, []byte("-----BEGIN PGP MESSAGE-----"))
	j := bytes.Index(msg, []byte("-----END PGP MESSAGE-----"))
	if i < 0 || j < i {
		t.Fatalf("no armor in %q", msg)
	}
	return msg[i : j+len("-----END PGP MESSAGE-----")]
}

// sealedArmors seals testPost signed by signer and returns the armor of one
// copy for each recipient set in to.
func sealedArmors(t testing.TB, signer *openpgp.Entity, to ...[]*openpgp.Entity) [][]byte {
	t.Helper()
	sealed, err := Seal([]byte(testPost), signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	var armors [][]byte
	for _, rcpts := range to {
		msg, err := sealed.For(rcpts...)
		if err != nil {
			t.Fatal(err)
		}
		armors = append(armors, armorOf(t, msg))
	}
	return armors
}

// rearmor armors binary packets as a PGP MESSAGE.
func rearmor(t *testing.T, bin []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, "PGP MESSAGE", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bin)
	w.Close()
	return b.Bytes()
}

func dearmorT(t *testing.T, a []byte) []byte {
	t.Helper()
	bin, err := dearmor(a, "PGP MESSAGE")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestKeyPacketIDs: the key IDs of the key packets are read from the armor
// without a key; anything but key packets and one encrypted data packet
// that ends the data is refused, also by a Checker that has seen the same
// encrypted data before.
func TestKeyPacketIDs(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	bob := newKey(t, "bob@subs.test", "rsa3072", false)
	sealed, err := Seal([]byte(testPost), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	forT := func(to ...*openpgp.Entity) []byte {
		msg, err := sealed.For(to...)
		if err != nil {
			t.Fatal(err)
		}
		return armorOf(t, msg)
	}
	annID := func(e *openpgp.Entity) uint64 {
		k, _, err := EncryptionKey(e, sealed.now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k.PublicKey.KeyId
	}
	c := new(Checker)
	for i := 0; i < 2; i++ { // the second time from the Checker's memory
		ids, err := c.KeyPacketIDs(forT(ann))
		if err != nil || len(ids) != 1 || ids[0] != annID(ann) {
			t.Fatalf("ann's copy: %x %v", ids, err)
		}
		ids, err = c.KeyPacketIDs(forT(bob))
		if err != nil || len(ids) != 1 || ids[0] != annID(bob) {
			t.Fatalf("bob's copy: %x %v", ids, err)
		}
		ids, err = c.KeyPacketIDs(forT(ann, bob))
		if err != nil || len(ids) != 2 || ids[0] != 0 || ids[1] != 0 {
			t.Fatalf("batch: %x %v", ids, err)
		}
	}
	good := forT(ann)
	bin := dearmorT(t, good)
	if !bytes.Equal(ours(bin), good) {
		t.Fatal("ours does not armor as For does")
	}
	var literal bytes.Buffer
	lw, err := packet.SerializeLiteral(nopCloser{&literal}, false, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	lw.Write([]byte("CLEAR TEXT"))
	lw.Close()
	var sym bytes.Buffer
	sw, err := openpgp.SymmetricallyEncrypt(&sym, []byte("pw"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sw.Write([]byte("x"))
	sw.Close()
	for name, msg := range map[string][]byte{
		"text before the armor":          append([]byte("CLEAR TEXT\r\n"), good...),
		"text after the armor":           append(append([]byte{}, good...), "\r\nCLEAR TEXT\r\n"...),
		"a literal data packet after":    rearmor(t, append(append([]byte{}, bin...), literal.Bytes()...)),
		"a literal data packet only":     rearmor(t, literal.Bytes()),
		"a password-encrypted message":   rearmor(t, sym.Bytes()),
		"encrypted data cut short":       rearmor(t, bin[:len(bin)-10]),
		"a second armor block":           append(append(append([]byte{}, good...), "\r\n"...), good...),
		"a public key block":             []byte(strings.Replace(string(good), "PGP MESSAGE", "PGP PUBLIC KEY BLOCK", 2)),
		"a broken armor line":            bytes.Replace(good, []byte("\r\n\r\n"), []byte("\r\n\r\n!!!!\r\n"), 1),
		"key packets, no encrypted data": rearmor(t, bin[:keyPacketEnd(t, bin)]),
		// Armored as Seal armors, so that its first lines are those of the
		// good copy the Checker has walked: the rest is walked again.
		"a literal data packet after, same head": ours(append(append([]byte{}, bin...), literal.Bytes()...)),
	} {
		if ids, err := c.KeyPacketIDs(msg); err == nil {
			t.Errorf("%s: accepted, key IDs %x", name, ids)
		}
	}
	if _, err := c.KeyPacketIDs(good); err != nil {
		t.Fatalf("good copy after the bad ones: %v", err)
	}
}

// ours armors binary packets as For does.
func ours(bin []byte) []byte {
	b := append([]byte("-----BEGIN PGP MESSAGE-----\r\n\r\n"), appendArmorLines(nil, bin, "\r\n")...)
	b = append(b, armorChecksumLine(crc24(crc24Init, bin), "\r\n")...)
	return append(b, "-----END PGP MESSAGE-----"...)
}

// keyPacketEnd returns where the first packet of bin ends.
func keyPacketEnd(t *testing.T, bin []byte) int {
	t.Helper()
	_, hdr, n, _, err := packetHeader(bin)
	if err != nil {
		t.Fatal(err)
	}
	return hdr + n
}

// FuzzKeyPacketIDs: whatever the armor holds, KeyPacketIDs returns an
// error or key IDs, never a panic, and a Checker answers a message the same
// way twice.
func FuzzKeyPacketIDs(f *testing.F) {
	list := newKey(f, "team@lists.example.test", "curve25519", false)
	ann := newKey(f, "ann@subs.test", "curve25519", false)
	for _, a := range sealedArmors(f, list, []*openpgp.Entity{ann}, []*openpgp.Entity{ann, list}) {
		f.Add(a)
	}
	f.Add([]byte("-----BEGIN PGP MESSAGE-----\n\nwcBMA/////8=\n-----END PGP MESSAGE-----"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		c := new(Checker)
		ids1, err1 := c.KeyPacketIDs(msg)
		ids2, err2 := c.KeyPacketIDs(msg)
		if (err1 == nil) != (err2 == nil) || len(ids1) != len(ids2) {
			t.Fatalf("first %x %v, then %x %v", ids1, err1, ids2, err2)
		}
	})
}
