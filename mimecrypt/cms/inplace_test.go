package cms

import (
	"bytes"
	"strings"
	"testing"
)

// indefinite re-encodes a DER object in BER as streaming writers do: every
// constructed element with an indefinite length, and each primitive [0]
// longer than 1 KiB (the encrypted content) as a constructed [0] of
// 1000-byte OCTET STRING chunks, so that Normalize has to copy it.
func indefinite(t *testing.T, der []byte) []byte {
	t.Helper()
	var out []byte
	for len(der) > 0 {
		id, constructed, length, rest, err := berHeader(der)
		if err != nil {
			t.Fatal(err)
		}
		content := rest[:length]
		der = rest[length:]
		switch {
		case constructed:
			out = append(append(out, id...), 0x80)
			out = append(append(out, indefinite(t, content)...), 0, 0)
		case len(id) == 1 && id[0] == 0x80 && length > 1<<10:
			out = append(out, 0xa0, 0x80)
			for len(content) > 0 {
				n := min(len(content), 1000)
				out = appendTLVID(out, []byte{0x04}, content[:n])
				content = content[n:]
			}
			out = append(out, 0, 0)
		default:
			out = appendTLVID(out, id, content)
		}
	}
	return out
}

// within reports whether p lies in buf's array.
func within(buf, p []byte) bool {
	for i := range buf {
		if len(p) > 0 && &buf[i] == &p[0] {
			return true
		}
	}
	return false
}

// TestDecryptInPlace: DecryptInPlace opens what Decrypt opens, with the
// same content, cipher and errors, for every cipher written, RSA and EC
// recipients, and DER or BER input; on DER input the content is decrypted
// where its ciphertext was (a slice of the input), on BER in Normalize's
// copy. Tampered AES-GCM fails as Decrypt does; tampered CBC (no
// integrity) decrypts to the same garbage.
func TestDecryptInPlace(t *testing.T) {
	all := identities(t)
	content := []byte(strings.Repeat("Hello, list.\r\n", 300))
	for _, c := range []Cipher{AES128CBC, AES192CBC, AES256CBC, AES128GCM, AES192GCM, AES256GCM} {
		env, err := Encrypt(content, EncryptOptions{Cipher: c})
		if err != nil {
			t.Fatalf("%v: encrypt: %v", c, err)
		}
		for _, rcpt := range []string{"rsa", "ec"} {
			der, err := env.For(all[rcpt].cert)
			if err != nil {
				t.Fatal(err)
			}
			tampered := append([]byte(nil), der...)
			tampered[len(tampered)-40] ^= 1 // in the ciphertext's last blocks
			for _, tc := range []struct {
				name    string
				in      []byte
				who     string
				inPlace bool // the content is a slice of the input
			}{
				{"DER", der, rcpt, true},
				{"BER", indefinite(t, der), rcpt, false},
				{"not a recipient", der, "other", false},
				{"tampered", tampered, rcpt, !c.Authenticated()},
			} {
				t.Run(c.String()+"/"+rcpt+"/"+tc.name, func(t *testing.T) {
					id := all[tc.who]
					want, wantErr := Decrypt(append([]byte(nil), tc.in...), id.cert, id.key)
					in := append([]byte(nil), tc.in...)
					got, err := DecryptInPlace(in, id.cert, id.key)
					if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
						t.Fatalf("error %v, Decrypt's %v", err, wantErr)
					}
					if err != nil {
						return
					}
					// Tampered CBC decrypts, to garbage: as Decrypt's.
					if !bytes.Equal(got.Content, want.Content) || tc.name != "tampered" && !bytes.Equal(got.Content, content) || got.Cipher != c || !got.ContentType.Equal(want.ContentType) {
						t.Fatalf("content %d bytes, cipher %v: not what Decrypt gives", len(got.Content), got.Cipher)
					}
					if within(in, got.Content) != tc.inPlace {
						t.Fatalf("content decrypted in the input: %v, want %v", !tc.inPlace, tc.inPlace)
					}
				})
			}
		}
	}
}
