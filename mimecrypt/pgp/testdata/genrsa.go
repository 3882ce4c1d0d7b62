//go:build ignore

// genrsa writes rsa3072.asc: the RSA-3072 test keys newKey (keys_test.go)
// would otherwise generate in each test run, made the same way
// (openpgp.NewEntity, RSABits 3072, created an hour before the run, with
// AEADConfig set, so advertising SEIPDv2, for an id ending in "/v2").
// Run from mimecrypt/pgp: go run testdata/genrsa.go ID... > testdata/rsa3072.asc
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

func main() {
	w, err := armor.Encode(os.Stdout, "PGP PRIVATE KEY BLOCK", map[string]string{
		"Comment": "Cloister test keys only (mimecrypt/pgp/testdata/genrsa.go)"})
	if err != nil {
		fail(err)
	}
	created := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, id := range os.Args[1:] {
		email, rest, _ := strings.Cut(id, "/")
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 3072,
			Time: func() time.Time { return created }}
		if rest != "rsa3072" && rest != "rsa3072/v2" {
			fail(fmt.Errorf("id %q: want EMAIL/rsa3072 or EMAIL/rsa3072/v2", id))
		}
		if strings.HasSuffix(rest, "/v2") {
			cfg.AEADConfig = &packet.AEADConfig{}
		}
		e, err := openpgp.NewEntity("Test", "", email, cfg)
		if err != nil {
			fail(err)
		}
		if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
			fail(err)
		}
	}
	if err := w.Close(); err != nil {
		fail(err)
	}
	fmt.Println()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "genrsa:", err)
	os.Exit(1)
}
