package pgp

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// readKeyFile reads an armored or binary key file.
func readKeyFile(t testing.TB, path string) openpgp.EntityList {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var el openpgp.EntityList
	if bytes.Contains(b, []byte("-----BEGIN PGP")) {
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	} else {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(b))
	}
	if err != nil {
		t.Fatalf("read key %s: %v", path, err)
	}
	return el
}

// corpusKeys returns the secret keys (the "list keys") and every key of one
// corpus source folder.
func corpusKeys(t testing.TB, corpus, source string) (secret, all openpgp.EntityList) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpus, source, "keys", "*"))
	for _, f := range files {
		if strings.HasSuffix(f, ".p12") || strings.HasSuffix(f, ".pem") {
			continue
		}
		for _, e := range readKeyFile(t, f) {
			all = append(all, e)
			if e.PrivateKey != nil {
				secret = append(secret, e)
			}
		}
	}
	return secret, all
}
