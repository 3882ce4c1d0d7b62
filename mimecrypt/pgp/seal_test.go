package pgp

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

const testPost = "Content-Type: text/plain; charset=utf-8\n" +
	"Content-Transfer-Encoding: 7bit\n\n" +
	"Hello list,\n\nthis is a test post.\n-- \nAnn\n"

// listMessage puts list header fields in front of an entity from For or SignMIME.
func listMessage(entity []byte) []byte {
	return append([]byte("From: Team <team@lists.example.test>\r\nTo: team@lists.example.test\r\n"+
		"Subject: hello\r\nMIME-Version: 1.0\r\n"), entity...)
}

func TestSealRoundTrip(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	for _, tt := range []struct {
		name  string
		algo  string
		v2    bool
		count int
	}{
		{"curve25519 SEIPDv1", "curve25519", false, 1},
		{"curve25519 SEIPDv2", "curve25519", true, 1},
		{"rsa3072 SEIPDv1", "rsa3072", false, 1},
		{"batch of 3 mixed", "curve25519", false, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := Seal([]byte(testPost), list, nil)
			if err != nil {
				t.Fatal(err)
			}
			var subs []*openpgp.Entity
			for i := 0; i < tt.count; i++ {
				subs = append(subs, newKey(t, string(rune('a'+i))+"@subs.test", tt.algo, tt.v2 || i == 1))
			}
			msg, err := sealed.For(subs...)
			if err != nil {
				t.Fatal(err)
			}
			for _, sub := range subs {
				res, err := Open(listMessage(msg), OpenOptions{ListKeys: openpgp.EntityList{sub}, Senders: bound(list, listAddr)})
				if err != nil {
					t.Fatalf("open as %s: %v", sub.PrimaryKey.KeyIdString(), err)
				}
				if res.Encryption != mimecrypt.EncPGPMIME || res.Verdict != mimecrypt.VerdictGood {
					t.Fatalf("got %s/%s (%s)", res.Encryption, res.Verdict, res.Reason)
				}
				// The signature made inside the encryption is kept as
				// multipart/signed around the decrypted entity, and verifies there.
				m, _ := rawmime.Parse(res.Message)
				mt, params, _ := m.MediaType()
				if mt != "multipart/signed" {
					t.Fatalf("opened message is %s, want the kept signature as multipart/signed", mt)
				}
				parts, err := rawmime.SplitMultipart(m.Body, params["boundary"], 10)
				if err != nil || len(parts) != 2 {
					t.Fatalf("split: %v (%d parts)", err, len(parts))
				}
				inner, _ := rawmime.Parse(parts[0])
				if got := string(inner.Body); got != strings.ReplaceAll("Hello list,\n\nthis is a test post.\n-- \nAnn\n", "\n", "\r\n") {
					t.Errorf("body = %q", got)
				}
				again, err := Open(res.Message, OpenOptions{Senders: bound(list, listAddr)})
				if err != nil || again.Verdict != mimecrypt.VerdictGood {
					t.Fatalf("the kept signature does not verify: %v %s %q", err, again.Verdict, again.Reason)
				}
			}
			other := newKey(t, "other@subs.test", "curve25519", false)
			if _, err := Open(listMessage(msg), OpenOptions{ListKeys: openpgp.EntityList{other}}); !errors.Is(err, mimecrypt.ErrNoKey) {
				t.Errorf("a non-recipient opened it: err = %v", err)
			}
		})
	}
}

// TestForFormats checks the body format each recipient gets and that a
// message carries only its recipients' key packets.
func TestForFormats(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	sealed, err := Seal([]byte(testPost), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := newKey(t, "a@subs.test", "curve25519", false)
	b := newKey(t, "b@subs.test", "curve25519", true)
	for _, tt := range []struct {
		to      []*openpgp.Entity
		version int
		hidden  bool
	}{
		{[]*openpgp.Entity{a}, 1, false},
		{[]*openpgp.Entity{b}, 2, false},
		{[]*openpgp.Entity{a, b}, 1, true},
		{[]*openpgp.Entity{b, b}, 2, true},
	} {
		msg, err := sealed.For(tt.to...)
		if err != nil {
			t.Fatal(err)
		}
		pkesks, version := packetsOf(t, msg)
		if len(pkesks) != len(tt.to) || version != tt.version {
			t.Errorf("%d recipients: %d key packets, SEIPD v%d; want %d, v%d", len(tt.to), len(pkesks), version, len(tt.to), tt.version)
		}
		for i, p := range pkesks {
			if (p.KeyId == 0) != tt.hidden {
				t.Errorf("key packet %d: key ID %X, hidden want %v", i, p.KeyId, tt.hidden)
			}
		}
	}
}

// packetsOf returns the key packets and the SEIPD version of a For message.
func packetsOf(t *testing.T, entity []byte) ([]*packet.EncryptedKey, int) {
	t.Helper()
	e, err := rawmime.Parse(entity)
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := e.MediaType()
	parts, err := rawmime.SplitMultipart(e.Body, params["boundary"], 5)
	if err != nil || len(parts) != 2 {
		t.Fatalf("split: %v (%d parts)", err, len(parts))
	}
	p, _ := rawmime.Parse(parts[1])
	bin, err := dearmor(p.Body, "PGP MESSAGE")
	if err != nil {
		t.Fatal(err)
	}
	r := packet.NewReader(bytes.NewReader(bin))
	var keys []*packet.EncryptedKey
	for {
		pk, err := r.Next()
		if err != nil {
			t.Fatalf("packets: %v", err)
		}
		switch pk := pk.(type) {
		case *packet.EncryptedKey:
			keys = append(keys, pk)
		case *packet.SymmetricallyEncrypted:
			return keys, pk.Version
		default:
			t.Fatalf("unexpected packet %T", pk)
		}
	}
}

func TestSignMIME(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	for _, post := range []string{testPost, strings.ReplaceAll(testPost, "\n", "\r\n")} {
		signed, err := SignMIME([]byte(post), list, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(signed, []byte("micalg=pgp-sha256")) {
			t.Errorf("no micalg=pgp-sha256 in %q", signed[:200])
		}
		res, err := Open(listMessage(signed), OpenOptions{Senders: bound(list, listAddr)})
		if err != nil || res.Verdict != mimecrypt.VerdictGood {
			t.Fatalf("verify: %v %s (%s)", err, res.Verdict, res.Reason)
		}
		// One changed byte in the signed part breaks it.
		bad := bytes.Replace(listMessage(signed), []byte("test post"), []byte("test p0st"), 1)
		if res, _ := Open(bad, OpenOptions{Senders: bound(list, listAddr)}); res.Verdict != mimecrypt.VerdictBad {
			t.Errorf("tampered: verdict %s", res.Verdict)
		}
	}
}

func TestEncryptionKeyErrors(t *testing.T) {
	k := newKey(t, "a@subs.test", "curve25519", false)
	if _, _, err := EncryptionKey(k, k.PrimaryKey.CreationTime.AddDate(0, 0, 1), nil); err != nil {
		t.Fatalf("fresh key: %v", err)
	}
	if _, _, err := EncryptionKey(k, k.PrimaryKey.CreationTime.AddDate(-1, 0, 0), nil); !errors.Is(err, ErrNoEncryptionKey) {
		t.Errorf("before creation: err = %v", err)
	}
	if _, _, err := EncryptionKey(nil, k.PrimaryKey.CreationTime, nil); !errors.Is(err, ErrNoEncryptionKey) {
		t.Errorf("nil key: err = %v", err)
	}
}

// TestForConcurrent has workers share one Sealed, as the outgoing runner's
// pool does (run with -race).
func TestForConcurrent(t *testing.T) {
	list := newKey(t, listAddr, "curve25519", false)
	subs := []*openpgp.Entity{newKey(t, "a@subs.test", "curve25519", false), newKey(t, "b@subs.test", "curve25519", true)}
	sealed, err := Seal([]byte(testPost), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func(w int) {
			var err error
			for i := 0; i < 5 && err == nil; i++ {
				var msg []byte
				sub := subs[(w+i)%2]
				if msg, err = sealed.For(sub); err == nil {
					var res *mimecrypt.Result
					res, err = Open(listMessage(msg), OpenOptions{ListKeys: openpgp.EntityList{sub}, Senders: bound(list, listAddr)})
					if err == nil && res.Verdict != mimecrypt.VerdictGood {
						err = errors.New("verdict " + string(res.Verdict))
					}
				}
			}
			errs <- err
		}(w)
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestEphemeralPerPost checks that Curve25519 key packets of one post share
// its ephemeral key, that another post uses another one, and that each copy
// still opens only for its recipient.
func TestEphemeralPerPost(t *testing.T) {
	list := newKey(t, listAddr, "curve25519", false)
	a, b := newKey(t, "a@subs.test", "curve25519", false), newKey(t, "b@subs.test", "curve25519", false)
	point := func(s *Sealed, to *openpgp.Entity) []byte {
		msg, err := s.For(to)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := packetsOf(t, msg)
		var raw bytes.Buffer
		if err := keys[0].Serialize(&raw); err != nil {
			t.Fatal(err)
		}
		// header(2) version(1) key ID(8) algo(1) MPI length(2), then the point
		return raw.Bytes()[14 : 14+33]
	}
	s1, _ := Seal([]byte(testPost), list, nil)
	s2, _ := Seal([]byte(testPost), list, nil)
	p1a, p1b, p2a := point(s1, a), point(s1, b), point(s2, a)
	if !bytes.Equal(p1a, p1b) || !bytes.Equal(p1a, s1.eph.vsG) {
		t.Errorf("one post's key packets use different ephemeral keys")
	}
	if bytes.Equal(p1a, p2a) {
		t.Errorf("two posts share an ephemeral key")
	}
}

// TestHiddenRecipientTriesEveryListKey opens a batch message with hidden
// key IDs with a list that holds several keys, the right one last.
func TestHiddenRecipientTriesEveryListKey(t *testing.T) {
	signer := newKey(t, listAddr, "curve25519", false)
	first, second := newKey(t, "old-key@lists.example.test", "curve25519", false), newKey(t, "new-key@lists.example.test", "rsa3072", false)
	sealed, err := Seal([]byte(testPost), signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := sealed.For(newKey(t, "a@subs.test", "curve25519", false), second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Open(listMessage(msg), OpenOptions{ListKeys: openpgp.EntityList{first, second}, Senders: bound(signer, listAddr)})
	if err != nil || res.Verdict != mimecrypt.VerdictGood {
		t.Fatalf("open: %v %+v", err, res)
	}
	if _, err := Open(listMessage(msg), OpenOptions{ListKeys: openpgp.EntityList{first}}); !errors.Is(err, mimecrypt.ErrNoKey) {
		t.Errorf("opened without the right key: %v", err)
	}
}
