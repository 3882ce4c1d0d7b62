package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	all := identities(t)
	content := []byte(strings.Repeat("Hello, list.\r\n", 300))
	for _, c := range []Cipher{AES128CBC, AES192CBC, AES256CBC, AES128GCM, AES256GCM} {
		for _, kt := range []KeyTransport{RSAPKCS1v15, RSAOAEP} {
			env, err := Encrypt(content, EncryptOptions{Cipher: c, KeyTransport: kt})
			if err != nil {
				t.Fatalf("%v: encrypt: %v", c, err)
			}
			for _, name := range []string{"rsa", "ec"} {
				id := all[name]
				der, err := env.For(id.cert)
				if err != nil {
					t.Fatalf("%v/%s: for: %v", c, name, err)
				}
				got, err := Decrypt(der, id.cert, id.key)
				if err != nil {
					t.Fatalf("%v/%d/%s: decrypt: %v", c, kt, name, err)
				}
				if !bytes.Equal(got.Content, content) || got.Cipher != c || !got.ContentType.Equal(OIDData) {
					t.Fatalf("%v/%s: round trip mismatch (cipher %v)", c, name, got.Cipher)
				}
				// The other identity is not a recipient of this copy.
				if _, err := Decrypt(der, all["other"].cert, all["other"].key); !errors.Is(err, ErrNoRecipient) {
					t.Fatalf("%v/%s: decrypt by a non-recipient: got %v, want ErrNoRecipient", c, name, err)
				}
			}
		}
	}
}

func TestMultipleRecipients(t *testing.T) {
	all := identities(t)
	env, err := Encrypt([]byte("to three"), EncryptOptions{Cipher: AES256GCM})
	if err != nil {
		t.Fatal(err)
	}
	der, err := env.For(all["rsa"].cert, all["ec"].cert, all["other"].cert)
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range all {
		got, err := Decrypt(der, id.cert, id.key)
		if err != nil || string(got.Content) != "to three" {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestEncryptRefusesDES3(t *testing.T) {
	if _, err := Encrypt([]byte("x"), EncryptOptions{Cipher: DES3CBC}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}

func TestTamperedGCM(t *testing.T) {
	id := identities(t)["rsa"]
	env, _ := Encrypt([]byte("authenticated content"), EncryptOptions{Cipher: AES128GCM})
	der, _ := env.For(id.cert)
	// Flip a byte of the encrypted content (it sits just before the mac).
	der[len(der)-20-5] ^= 1
	if _, err := Decrypt(der, id.cert, id.key); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("got %v, want ErrDecrypt", err)
	}
}

func TestSharedContent(t *testing.T) {
	// Two copies of one envelope share the encrypted content byte for byte.
	all := identities(t)
	env, _ := Encrypt(bytes.Repeat([]byte("x"), 5000), EncryptOptions{})
	a, _ := env.For(all["rsa"].cert)
	b, _ := env.For(all["other"].cert)
	if !bytes.Equal(a[len(a)-5000:], b[len(b)-5000:]) {
		t.Fatal("copies do not share the encrypted content")
	}
	own, _ := issuerAndSerial(all["rsa"].cert)
	other, _ := issuerAndSerial(all["other"].cert)
	if !bytes.Contains(a, own) || bytes.Contains(a, other) {
		t.Fatal("a copy must name its own recipient and no other")
	}
}

// TestAuthAttrs reads an AuthEnvelopedData whose authenticated attributes
// are covered by the GCM tag (RFC 5083 section 2.1), as other writers may send.
func TestAuthAttrs(t *testing.T) {
	id := identities(t)["rsa"]
	cek := bytes.Repeat([]byte{7}, 16)
	nonce := bytes.Repeat([]byte{9}, 12)
	// authAttrs: one contentType attribute, id-data.
	attr := tlv(0x30, mustMarshal(oidContentTypeAttr), tlv(0x31, mustMarshal(OIDData)))
	attrsSet := tlv(0x31, attr)
	block, _ := aes.NewCipher(cek)
	aead, _ := cipher.NewGCM(block)
	sealed := aead.Seal(nil, nonce, []byte("with attributes"), attrsSet)
	ct, mac := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	params := tlv(0x30, tlv(0x04, nonce), []byte{0x02, 0x01, 16})
	eci := tlv(0x30, mustMarshal(OIDData), tlv(0x30, mustMarshal(oidAES128GCM), params), tlv(0x80, ct))
	ri, err := keyTransRecipientInfo(id.cert, id.cert.PublicKey.(*rsa.PublicKey), cek, RSAOAEP, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	buildWith := func(eci, attrs, mac []byte) []byte {
		aed := tlv(0x30, version0, tlv(0x31, ri), eci, attrs, tlv(0x04, mac))
		return tlv(0x30, mustMarshal(OIDAuthEnvelopedData), tlv(0xa0, aed))
	}
	build := func(attrs, mac []byte) []byte { return buildWith(eci, attrs, mac) }
	implicit := append([]byte(nil), attrsSet...)
	implicit[0] = 0xa1
	got, err := Decrypt(build(implicit, mac), id.cert, id.key)
	if err != nil || string(got.Content) != "with attributes" {
		t.Fatalf("decrypt with authAttrs: %v", err)
	}
	// In place, the tag is moved over the bytes after the ciphertext, where
	// the authAttrs lie: they must have been read (copied) before.
	got, err = DecryptInPlace(build(implicit, mac), id.cert, id.key)
	if err != nil || string(got.Content) != "with attributes" {
		t.Fatalf("decrypt in place with authAttrs: %v", err)
	}
	// Without aes-ICVlen the tag is 12 bytes (RFC 5084): a 16-byte one is refused.
	noLen := tlv(0x30, mustMarshal(OIDData), tlv(0x30, mustMarshal(oidAES128GCM), tlv(0x30, tlv(0x04, nonce))), tlv(0x80, ct))
	if _, err := Decrypt(buildWith(noLen, implicit, mac), id.cert, id.key); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("16-byte tag with the default ICV length: got %v, want ErrDecrypt", err)
	}
	// Altered attributes fail authentication.
	altered := append([]byte(nil), implicit...)
	altered[len(altered)-1] ^= 1
	if _, err := Decrypt(build(altered, mac), id.cert, id.key); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("altered authAttrs: got %v, want ErrDecrypt", err)
	}
	if _, err := DecryptInPlace(build(altered, mac), id.cert, id.key); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("altered authAttrs, in place: got %v, want ErrDecrypt", err)
	}
}
