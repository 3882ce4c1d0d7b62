package ownmail

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/site"
	"cloister/mimecrypt/pgp"
	"cloister/queue"
)

// pgpKeys is a keyring of subscribers' OpenPGP keys for the gate; the
// other methods of site.Keys are not the gate's and panic if called.
type pgpKeys struct {
	site.Keys
	subs map[string]*openpgp.Entity
}

func (k pgpKeys) EncryptionPGP(addr string, _ time.Time) (*openpgp.Entity, error) {
	if e, ok := k.subs[addr]; ok {
		return e, nil
	}
	return nil, errors.New("no key")
}

// TestGateConcurrent: one Gate checks the copies of an entry on several
// SMTP sessions at once (the outgoing runner's smtp_sessions), so its
// memory of the encrypted data it walked is shared between goroutines.
// Every good copy must pass and every copy to the wrong key be refused,
// whatever the interleaving (before the Gate locked its checker, this
// crashed with "concurrent map writes" or refused good copies).
func TestGateConcurrent(t *testing.T) {
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	newKey := func(addr string) *openpgp.Entity {
		e, err := openpgp.NewEntity("S", "", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	list := newKey("team@lists.test")
	ann, bob := newKey("ann@subs.test"), newKey("bob@subs.test")
	g := &Gate{Keys: pgpKeys{subs: map[string]*openpgp.Entity{"ann@subs.test": ann, "bob@subs.test": bob}}, Now: time.Now()}
	m := &queue.Meta{ID: "1", List: "team@lists.test", Kind: "post", Encryption: "pgp-mime", Carries: queue.CarriesPlaintext,
		Lineage: &queue.Lineage{ID: "1", Encrypted: true}}
	head := "From: team@lists.test\r\nTo: ann@subs.test\r\nMIME-Version: 1.0\r\n"
	// More posts than the checker remembers, so that it also forgets
	// while other sessions read.
	type copies struct{ good, wrong []byte }
	var posts []copies
	for i := range 48 { // three times what a pgp.Checker remembers
		sealed, err := pgp.Seal([]byte(fmt.Sprintf("Content-Type: text/plain\r\n\r\npost %d\r\n", i)), list, cfg)
		if err != nil {
			t.Fatal(err)
		}
		good, err := sealed.For(ann)
		if err != nil {
			t.Fatal(err)
		}
		wrong, err := sealed.For(bob)
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, copies{append([]byte(head), good...), append([]byte(head), wrong...)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(posts))
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range posts {
				p := posts[(i+s*5)%len(posts)]
				if err := g.Check(m, p.good, []string{"ann@subs.test"}, false); err != nil {
					errs <- fmt.Errorf("session %d: a good copy is refused: %v", s, err)
				}
				if err := g.Check(m, p.wrong, []string{"ann@subs.test"}, false); !errors.Is(err, ErrRefused) {
					errs <- fmt.Errorf("session %d: a copy to bob's key passes for ann: %v", s, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
