package pgp

import (
	"errors"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt"
)

// FuzzOpen feeds arbitrary messages to Open: it must never panic or hang,
// and every error must be one of the shared kinds.
func FuzzOpen(f *testing.F) {
	list := newKey(f, listAddr, "curve25519", false)
	sealed, err := Seal([]byte(testPost), list, nil)
	if err != nil {
		f.Fatal(err)
	}
	enc, _ := sealed.For(list)
	signed, _ := SignMIME([]byte(testPost), list, nil)
	f.Add(listMessage(enc))
	f.Add(listMessage(signed))
	f.Add([]byte("From: a@b\r\nContent-Type: text/plain\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nwV4D\r\n-----END PGP MESSAGE-----\r\n"))
	f.Add([]byte("From: a@b\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=x\n\n--x\n\nhi\n--x\nContent-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\n\niQ\n-----END PGP SIGNATURE-----\n--x--\n"))
	f.Add(deepMessage(3))
	opts := OpenOptions{ListKeys: openpgp.EntityList{list}, Senders: bound(list, listAddr, "a@b"), MaxDecompressed: 1 << 20}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, err := Open(raw, opts)
		if res == nil {
			t.Fatalf("nil result (err %v)", err)
		}
		if err != nil && !errors.Is(err, mimecrypt.ErrMalformed) && !errors.Is(err, mimecrypt.ErrNoKey) &&
			!errors.Is(err, mimecrypt.ErrNoIntegrity) && !errors.Is(err, mimecrypt.ErrTooLarge) {
			t.Fatalf("error of no shared kind: %v", err)
		}
	})
}
