package pgp

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

// autocryptKey reads the key from a message's Autocrypt header field.
func autocryptKey(t *testing.T, path string) *openpgp.Entity {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := rawmime.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	v := e.Fields.Get("Autocrypt")
	i := strings.Index(v, "keydata=")
	if i < 0 {
		t.Fatalf("no keydata in %q", v)
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v[i+len("keydata="):]), ""))
	if err != nil {
		t.Fatal(err)
	}
	el, err := openpgp.ReadKeyRing(bytes.NewReader(b))
	if err != nil || len(el) != 1 {
		t.Fatalf("read Autocrypt key: %v", err)
	}
	return el[0]
}

// TestCorpusAutocryptKey gives the Thunderbird user key of the Delta Chat
// messages, learnt from their Autocrypt header, as a known sender.
// SOURCES.md reports gpg's EXPKEYSIG for it, but the key's lifetime is 36,500
// days (to 2122): gpg 2.2 adds it to the creation time in 32 bits, which wraps
// to 1986. The key is valid, the signatures good.
func TestCorpusAutocryptKey(t *testing.T) {
	dir := filepath.Join(testdirs.Corpus(t), "deltachat")
	key := autocryptKey(t, filepath.Join(dir, "msgs", "thunderbird_with_autocrypt_unencrypted.eml"))
	bob := readKeyFile(t, filepath.Join(dir, "keys", dcBob))
	for _, tt := range []struct {
		file string
		enc  mimecrypt.Encryption
	}{
		{"thunderbird_with_autocrypt_unencrypted.eml", mimecrypt.EncNone},
		{"thunderbird_encrypted_signed.eml", mimecrypt.EncPGPMIME},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, "msgs", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Open(raw, OpenOptions{ListKeys: bob, Senders: boundByUserIDs(openpgp.EntityList{key}), Now: corpusNow})
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if res.Encryption != tt.enc || res.Verdict != mimecrypt.VerdictGood {
			t.Errorf("%s: %s/%s (%s), want %s/good", tt.file, res.Encryption, res.Verdict, res.Reason, tt.enc)
		}
		// A day after the real expiry the verdict is expired.
		exp := key.PrimaryKey.CreationTime.AddDate(0, 0, 36501)
		res, err = Open(raw, OpenOptions{ListKeys: bob, Senders: boundByUserIDs(openpgp.EntityList{key}), Now: exp})
		if err != nil || res.Verdict != mimecrypt.VerdictExpired {
			t.Errorf("%s in 2122: %v %s (%s), want expired", tt.file, err, res.Verdict, res.Reason)
		}
	}
}
