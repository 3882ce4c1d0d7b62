package pgp

import (
	"bytes"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt"
)

// TestPiecesFor: the pieces of a message, joined, open as For's message
// does; two recipients whose key packets align alike get the very same
// shared slice and SharedID, and past the armor cache budget the shared
// piece is armored as it is written (SharedID -1, WriteShared), the same
// bytes as For's, and still opens.
func TestPiecesFor(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	a := newKey(t, "a@subs.test", "curve25519", false)
	b := newKey(t, "b@subs.test", "curve25519", false)
	for _, tt := range []struct {
		name   string
		budget int
		shared bool
	}{
		{"cached armor", tailCacheBudget, true},
		{"past the cache budget", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func(old int) { tailCacheBudget = old }(tailCacheBudget)
			tailCacheBudget = tt.budget
			sealed, err := Seal([]byte(testPost), list, nil)
			if err != nil {
				t.Fatal(err)
			}
			pa, err := sealed.PiecesFor(a)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := sealed.PiecesFor(b)
			if err != nil {
				t.Fatal(err)
			}
			same := len(pa.Shared) > 0 && &pa.Shared[0] == &pb.Shared[0]
			if same != tt.shared || (pa.SharedID >= 0) != tt.shared || (tt.shared && pa.SharedID != pb.SharedID) {
				t.Fatalf("shared slice the same %v, IDs %d and %d; want shared %v", same, pa.SharedID, pb.SharedID, tt.shared)
			}
			for _, c := range []struct {
				sub *openpgp.Entity
				p   Pieces
			}{{a, pa}, {b, pb}} {
				var shared bytes.Buffer
				if err := c.p.WriteShared(&shared); err != nil {
					t.Fatal(err)
				}
				if shared.Len() != c.p.SharedLen() {
					t.Fatalf("WriteShared wrote %d bytes, SharedLen says %d", shared.Len(), c.p.SharedLen())
				}
				if !tt.shared && c.p.Shared != nil {
					t.Fatal("past the cache budget, the pieces hold the armor of the body")
				}
				msg := bytes.Join([][]byte{c.p.Head, shared.Bytes(), c.p.Trailer}, nil)
				// For's message has its own boundary and key packets, of the
				// same lengths, around the same shared armor.
				h := len(c.p.Head)
				if want, err := sealed.For(c.sub); err != nil || len(want) != len(msg) || !bytes.Equal(shared.Bytes(), want[h:h+shared.Len()]) {
					t.Fatalf("the shared armor differs from For's (err %v)", err)
				}
				res, err := Open(listMessage(msg), OpenOptions{ListKeys: openpgp.EntityList{c.sub}, Senders: bound(list, listAddr)})
				if err != nil {
					t.Fatalf("open as %s: %v", c.sub.PrimaryKey.KeyIdString(), err)
				}
				if res.Encryption != mimecrypt.EncPGPMIME || res.Verdict != mimecrypt.VerdictGood {
					t.Fatalf("got %s/%s (%s)", res.Encryption, res.Verdict, res.Reason)
				}
			}
		})
	}
}
