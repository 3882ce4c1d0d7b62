package cms

import (
	"bytes"
	"errors"
	"testing"
)

func TestBadInput(t *testing.T) {
	id := identities(t)["rsa"]
	env, _ := Encrypt([]byte("content"), EncryptOptions{})
	good, _ := env.For(id.cert)
	deep := bytes.Repeat([]byte{0x30, 0x80}, 200)
	deep = append(deep, bytes.Repeat([]byte{0, 0}, 200)...)
	deepDefinite := []byte{0x04, 0x00}
	for i := 0; i < 100; i++ {
		deepDefinite = tlv(0x30, deepDefinite)
	}
	signed := tlv(0x30, mustMarshal(OIDSignedData), tlv(0xa0, tlv(0x30)))
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"garbage", []byte("this is not DER at all, just text"), ErrMalformed},
		{"truncated", good[:len(good)/2], ErrMalformed},
		{"truncated header", good[:3], ErrMalformed},
		{"trailing bytes", append(append([]byte(nil), good...), 0, 0), ErrMalformed},
		{"deep indefinite nesting", deep, ErrTooLarge},
		{"deep definite nesting", deepDefinite, ErrTooLarge},
		{"huge length", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, ErrTooLarge},
		{"oversized", make([]byte, MaxInput+1), ErrTooLarge},
		{"primitive indefinite", []byte{0x04, 0x80, 0, 0}, ErrMalformed},
		{"unterminated indefinite", []byte{0x30, 0x80, 0x04, 0x00}, ErrMalformed},
		{"signed data", signed, ErrUnsupported},
		{"not a content info", tlv(0x30, tlv(0x02, []byte{1})), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decrypt(tc.in, id.cert, id.key)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	id := identities(t)["ec"]
	env, _ := Encrypt([]byte("content"), EncryptOptions{Cipher: AES128GCM})
	good, _ := env.For(id.cert)
	for n := 0; n < len(good); n++ {
		if _, err := Decrypt(good[:n], id.cert, id.key); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
}

func TestNormalizeBER(t *testing.T) {
	// SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { "ab", "c" } }
	ber := []byte{0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 'a', 'b', 0x04, 0x01, 'c', 0, 0, 0, 0}
	got, err := Normalize(ber)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x30, 0x05, 0x04, 0x03, 'a', 'b', 'c'}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func FuzzDecrypt(f *testing.F) {
	id := identities(f)["ec"]
	for _, c := range []Cipher{AES128CBC, AES256GCM} {
		env, _ := Encrypt([]byte("seed"), EncryptOptions{Cipher: c})
		der, _ := env.For(id.cert)
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 'a', 'b', 0, 0, 0, 0})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		Decrypt(in, id.cert, id.key)
		ContentType(in)
	})
}
