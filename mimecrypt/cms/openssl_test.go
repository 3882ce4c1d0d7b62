package cms

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// openssl runs the openssl binary and returns its standard output.
func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is needed for the interoperability tests (apt-get install -y openssl): %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestOpenSSLReadsOurs checks that openssl cms decrypts every kind of
// envelope this package writes, with only the recipient's own key.
func TestOpenSSLReadsOurs(t *testing.T) {
	all := identities(t)
	content := []byte("Subject: hi\r\n\r\nA post for the list.\r\n")
	dir := t.TempDir()
	for _, c := range []Cipher{AES128CBC, AES256CBC, AES128GCM, AES256GCM} {
		for _, tc := range []struct {
			id string
			kt KeyTransport
		}{{"rsa", RSAPKCS1v15}, {"rsa", RSAOAEP}, {"ec", RSAPKCS1v15}} {
			env, err := Encrypt(content, EncryptOptions{Cipher: c, KeyTransport: tc.kt})
			if err != nil {
				t.Fatal(err)
			}
			// Two recipients, two copies: each holds only its own RecipientInfo.
			der, err := env.For(all[tc.id].cert)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.For(all["other"].cert); err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, "env.der")
			os.WriteFile(f, der, 0o600)
			got := openssl(t, nil, "cms", "-decrypt", "-inform", "DER", "-in", f,
				"-recip", all[tc.id].certFile, "-inkey", all[tc.id].keyFile, "-binary")
			if !bytes.Equal(got, content) {
				t.Fatalf("%v/%s/%d: openssl decrypted %q", c, tc.id, tc.kt, got)
			}
		}
	}
}

// TestReadOpenSSL checks that this package decrypts what openssl cms writes,
// streamed BER included.
func TestReadOpenSSL(t *testing.T) {
	all := identities(t)
	content := []byte(strings.Repeat("openssl wrote this.\n", 100))
	for _, tc := range []struct {
		id     string
		want   Cipher
		cipher []string // cipher and output options
		keyopt []string // options of the recipient, after -recip
	}{
		{"rsa", AES128CBC, []string{"-aes128"}, nil},
		{"rsa", AES192CBC, []string{"-aes192"}, nil},
		{"rsa", AES256CBC, []string{"-aes256"}, nil},
		{"rsa", AES256CBC, []string{"-aes256", "-stream"}, nil},
		{"rsa", DES3CBC, []string{"-des3"}, nil},
		{"rsa", AES128GCM, []string{"-aes-128-gcm"}, nil},
		{"rsa", AES256GCM, []string{"-aes-256-gcm", "-stream"}, nil},
		{"rsa", AES256CBC, []string{"-aes256"}, []string{"-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"}},
		{"rsa", AES128GCM, []string{"-aes-128-gcm"}, []string{"-keyopt", "rsa_padding_mode:oaep"}},
		{"ec", AES256CBC, []string{"-aes256"}, nil},
		{"ec", AES128GCM, []string{"-aes-128-gcm"}, []string{"-keyopt", "ecdh_kdf_md:sha256"}},
		{"ec", AES256CBC, []string{"-aes256", "-stream"}, []string{"-keyopt", "ecdh_kdf_md:sha512"}},
	} {
		id := all[tc.id]
		args := append([]string{"cms", "-encrypt", "-binary", "-outform", "DER"}, tc.cipher...)
		args = append(append(args, "-recip", id.certFile), tc.keyopt...)
		der := openssl(t, content, args...)
		got, err := Decrypt(der, id.cert, id.key)
		if err != nil {
			t.Fatalf("%v %v: %v", tc.cipher, tc.keyopt, err)
		}
		if !bytes.Equal(got.Content, content) || got.Cipher != tc.want {
			t.Fatalf("%v %v: got cipher %v, content %q", tc.cipher, tc.keyopt, got.Cipher, got.Content[:20])
		}
	}
}
