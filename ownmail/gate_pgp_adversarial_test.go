package ownmail

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt/pgp"
	"cloister/queue"
)

// TestGatePGPCrafted: PGP/MIME copies crafted around a good one, each
// holding the post's text somewhere outside the encryption, are refused by
// a Gate that has passed the good copy; the good copy with LF line ends
// passes.
func TestGatePGPCrafted(t *testing.T) {
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	newKey := func(addr string) *openpgp.Entity {
		e, err := openpgp.NewEntity("S", "", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	list, ann := newKey("team@lists.test"), newKey("ann@subs.test")
	g := &Gate{Keys: pgpKeys{subs: map[string]*openpgp.Entity{"ann@subs.test": ann}}, Now: time.Now()}
	m := &queue.Meta{ID: "1", List: "team@lists.test", Kind: "post", Encryption: "pgp-mime", Carries: queue.CarriesPlaintext,
		Lineage: &queue.Lineage{ID: "1", Encrypted: true}}
	const marker = "PGP-GATE-CRAFTED-PLAINTEXT"
	sealed, err := pgp.Seal([]byte("Content-Type: text/plain\r\n\r\n"+marker+"\r\n"), list, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := sealed.For(ann)
	if err != nil {
		t.Fatal(err)
	}
	good := append([]byte("From: team@lists.test\r\nTo: ann@subs.test\r\nMIME-Version: 1.0\r\n"), ent...)
	if bytes.Contains(good, []byte(marker)) {
		t.Fatal("the good copy holds the text in the clear")
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("no %q in the copy", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	endArmor := "\r\n-----END PGP MESSAGE-----"
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"as For writes it", good, true},
		{"LF line ends", bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n")), true},
		{"an armor comment", replace("-----BEGIN PGP MESSAGE-----\r\n", "-----BEGIN PGP MESSAGE-----\r\nComment: "+marker+"\r\n"), false},
		{"a text line before the armor's end", replace(endArmor, "\r\n"+marker+endArmor), false},
		{"a base64-like line before the armor's end", replace(endArmor, "\r\nQUJDQUJD"+endArmor), false},
		{"text after the armor's end", replace(endArmor, endArmor+"\r\n"+marker), false},
		{"a second armor block", replace(endArmor, endArmor+"\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n"+marker+endArmor), false},
		{"the armor's end twice", replace(endArmor, endArmor+"\r\n"+marker+endArmor), false},
	}
	for _, tc := range tests {
		err := checkBoth(t, g, m, tc.data, []string{"ann@subs.test"})
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: passes: %v", tc.name, err)
		}
	}
}
