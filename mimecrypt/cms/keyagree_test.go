package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// nssStyleKARI returns a KeyAgreeRecipientInfo for the "ec" identity made
// the way NSS 3.100 and later make them (lib/smime/cmspubkey.c,
// NSS_CMSUtil_EncryptSymKey_ESECDH), and Thunderbird with it: the AES
// key-wrap AlgorithmIdentifier carries NULL parameters ("Microsoft Outlook
// cannot decrypt message unless parameters field is NULL"), in the
// keyEncryptionAlgorithm and in the ECC-CMS-SharedInfo that the KEK is
// derived from; dhSinglePass-stdDH-sha384kdf-scheme and aes256-wrap for a
// 256-bit content key; a ukm (NSS makes 64 random bytes) when ukm is not nil.
// It is written out here, apart from the package's own encoder.
func nssStyleKARI(t *testing.T, id *testID, cek, ukm []byte) []byte {
	t.Helper()
	rpub, err := id.cert.PublicKey.(*ecdsa.PublicKey).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	eph, err := rpub.Curve().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	z, err := eph.ECDH(rpub)
	if err != nil {
		t.Fatal(err)
	}
	wrapAlg := tlv(0x30, mustMarshal(oidAES256Wrap), []byte{0x05, 0x00})
	var bits [4]byte
	binary.BigEndian.PutUint32(bits[:], 256)
	var ukmField, sharedInfo []byte
	if ukm != nil {
		ukmField = tlv(0xa1, tlv(0x04, ukm))
		sharedInfo = tlv(0x30, wrapAlg, tlv(0xa0, tlv(0x04, ukm)), tlv(0xa2, tlv(0x04, bits[:])))
	} else {
		sharedInfo = tlv(0x30, wrapAlg, tlv(0xa2, tlv(0x04, bits[:])))
	}
	// ANSI X9.63 KDF with SHA-384: one block gives the 32-byte KEK.
	h := sha512.New384()
	h.Write(z)
	h.Write([]byte{0, 0, 0, 1})
	h.Write(sharedInfo)
	kek := h.Sum(nil)[:32]
	ek, err := wrapKey(kek, cek)
	if err != nil {
		t.Fatal(err)
	}
	rid, err := issuerAndSerial(id.cert)
	if err != nil {
		t.Fatal(err)
	}
	point := append([]byte{0}, eph.PublicKey().Bytes()...)
	originator := tlv(0xa0, tlv(0xa1, tlv(0x30, mustMarshal(oidECPublicKey)), tlv(0x03, point)))
	alg := tlv(0x30, mustMarshal(oidStdDHSHA384KDF), wrapAlg)
	return tlv(0xa1, version3, originator, ukmField, alg, tlv(0x30, tlv(0x30, rid, tlv(0x04, ek))))
}

// TestKeyAgreeWrapParamsAsSent checks that the KEK is derived from the
// key-wrap AlgorithmIdentifier as the sender wrote it, NULL parameters
// included, as NSS (and Thunderbird) write it and as OpenSSL reads it.
func TestKeyAgreeWrapParamsAsSent(t *testing.T) {
	all := identities(t)
	id := all["ec"]
	content := []byte("Subject: from Thunderbird\r\n\r\nECDH, NSS style.\r\n")
	ukm := make([]byte, 64)
	rand.Read(ukm)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		c    Cipher
		ukm  []byte
	}{
		{"cbc with ukm", AES256CBC, ukm},
		{"cbc without ukm", AES256CBC, nil},
		{"gcm with ukm", AES256GCM, ukm},
	} {
		env, err := Encrypt(content, EncryptOptions{Cipher: tc.c})
		if err != nil {
			t.Fatal(err)
		}
		der, err := env.Marshal(nssStyleKARI(t, id, env.cek, tc.ukm))
		if err != nil {
			t.Fatal(err)
		}
		// OpenSSL, the reference reader, opens it ...
		f := filepath.Join(dir, "nss.der")
		os.WriteFile(f, der, 0o600)
		if got := openssl(t, nil, "cms", "-decrypt", "-inform", "DER", "-in", f,
			"-recip", id.certFile, "-inkey", id.keyFile, "-binary"); !bytes.Equal(got, content) {
			t.Fatalf("%s: openssl decrypted %q", tc.name, got)
		}
		// ... and so must we.
		got, err := Decrypt(der, id.cert, id.key)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got.Content, content) || got.Cipher != tc.c {
			t.Fatalf("%s: got %v %q", tc.name, got.Cipher, got.Content)
		}
	}
}
