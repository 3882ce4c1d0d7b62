package runners

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/site"
	"cloister/internal/stats"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/mimecrypt/cms"
	"cloister/mimecrypt/pgp"
	"cloister/mimecrypt/smime"
	"cloister/notices"
	"cloister/ownmail"
	"cloister/queue"
)

const gateMarker = "GATE-PLAINTEXT-77aa"

// egressGate checks one copy with a gate of its own.
func egressGate(s *site.Site, m *queue.Meta, data []byte, rcpts []string, notice bool, now time.Time) error {
	return (&ownmail.Gate{Keys: s.Keys, Now: now}).Check(m, data, rcpts, notice)
}

// encryptedPostMeta is the metadata of a post that arrived encrypted, as
// the incoming runner records it.
func encryptedPostMeta() *queue.Meta {
	return &queue.Meta{ID: "1700000000000000000+abc", List: "team@lists.test", Subaddress: queue.SubPost,
		Encryption: "pgp-mime", Carries: queue.CarriesPlaintext, Lineage: &queue.Lineage{ID: "1700000000000000000+abc", Encrypted: true}}
}

// ownMailPaths are the metadata each own-mail writer gives a message that
// holds content of an encrypted post.
func ownMailPaths(rcpt string) map[string]*queue.Meta {
	post := encryptedPostMeta()
	dist := post.Clone()
	dist.Kind, dist.Recipients = "post", []string{rcpt}
	n := &notices.Notice{List: "team@lists.test"}
	digest := &queue.Meta{List: "team@lists.test", Kind: "post", Recipients: []string{rcpt}, Encryption: "pgp-mime",
		Carries: queue.CarriesPlaintext, Lineage: &queue.Lineage{ID: post.ID, Encrypted: true}}
	return map[string]*queue.Meta{
		"distribution":                         dist,
		"digest":                               digest,
		"held notice with the post":            n.MetaFrom("notice", post, true, rcpt),
		"forward to the owners":                ownmail.Meta("team@lists.test", "forward", post, true, time.Now(), rcpt),
		"resend copy":                          ownmail.Meta("team@lists.test", "resend", post, true, time.Now(), rcpt),
		"resend report":                        n.MetaFrom("notice", post, true, rcpt),
		"command reply, sealed by its writer":  ownmail.Reply("team@lists.test", post, "reply", rcpt, true, true, time.Now()),
		"command reply, not sealed":            ownmail.Reply("team@lists.test", post, "reply", rcpt, false, true, time.Now()),
		"archive get reply to a clear command": ownmail.Reply("team@lists.test", &queue.Meta{ID: "x", Encryption: "none", Carries: queue.CarriesClear}, "reply", rcpt, true, true, time.Now()),
	}
}

// TestEgressGate drives the metadata of every own-mail path that can carry
// an encrypted post into the gate with a clear body, with encryptions to
// the wrong keys, and with the right encryption.
func TestEgressGate(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _ := encryptedSite(t)
	keys := s.mem
	ann, bob := keys.subs["ann@subs.test"], keys.subs["bob@subs.test"]
	now := time.Now()
	inner := []byte("Content-Type: text/plain\r\n\r\n" + gateMarker + "\r\n")
	sealed, err := pgp.Seal(inner, keys.list[0], &packet.Config{Time: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	head := "From: team@lists.test\r\nTo: ann@subs.test\r\nSubject: ...\r\nMIME-Version: 1.0\r\n"
	forPGP := func(to ...*openpgp.Entity) []byte {
		ent, err := sealed.For(to...)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(head), ent...)
	}
	clear := []byte(head + "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: text/plain\r\n\r\n" + gateMarker + "\r\n-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\nxx\r\n-----END PGP PUBLIC KEY BLOCK-----\r\n--b--\r\n")
	good := forPGP(ann)
	for path, m := range ownMailPaths("ann@subs.test") {
		t.Run(path, func(t *testing.T) {
			if !m.Confidential() {
				t.Fatalf("the writer records %q: the message would not be checked", m.Protection())
			}
			for name, data := range map[string][]byte{
				"clear, signed, with an armored block": clear,
				"encrypted to another key":             forPGP(bob),
				"encrypted to it and another key":      forPGP(ann, bob),
				"text in front of the armor":           bytes.Replace(good, []byte("-----BEGIN PGP MESSAGE-----"), []byte(gateMarker+"\r\n-----BEGIN PGP MESSAGE-----"), 1),
				"text after the close delimiter":       append(append([]byte{}, good...), gateMarker+"\r\n"...),
				"a second Content-Type field":          append([]byte("Content-Type: text/plain\r\n"), good...),
				"text in a preamble line that starts like a delimiter": bytes.Replace(good, []byte("This is an OpenPGP/MIME"),
					[]byte("--"+boundaryOf(t, good)+"x "+gateMarker+"\r\nThis is an OpenPGP/MIME"), 1),
				"text after a second close delimiter": append(append([]byte{}, good...),
					"\r\n"+gateMarker+"\r\n--"+boundaryOf(t, good)+"--\r\n"...),
			} {
				err := egressGate(s.Site, m, data, []string{"ann@subs.test"}, false, now)
				if !errors.Is(err, ownmail.ErrRefused) {
					t.Errorf("%s: gate says %v", name, err)
				}
			}
			if err := egressGate(s.Site, m, good, []string{"ann@subs.test"}, false, now); err != nil {
				t.Errorf("a copy encrypted to ann alone is refused: %v", err)
			}
			if err := egressGate(s.Site, m, good, []string{"cat@subs.test"}, false, now); !errors.Is(err, ownmail.ErrRefused) {
				t.Errorf("a copy for cat, who has no key, passes: %v", err)
			}
		})
	}
	// A batch with hidden key IDs passes with one key packet per recipient.
	m := ownMailPaths("ann@subs.test")["distribution"]
	if err := egressGate(s.Site, m, forPGP(ann, bob), []string{"ann@subs.test", "bob@subs.test"}, false, now); err != nil {
		t.Errorf("batch copy refused: %v", err)
	}
	if err := egressGate(s.Site, m, forPGP(ann, bob), []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"}, false, now); err == nil {
		t.Error("a batch copy with fewer key packets than recipients passes")
	}
	// A batch whose key packets name their keys (hidden_recipients no) is
	// checked recipient by recipient: two packets for ann do not pass for
	// ann and bob, as their hidden twins must (they cannot be attributed).
	visible, err := pgp.Seal(inner, keys.list[0], &packet.Config{Time: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	visible.ShowKeyIDs = true
	forVisible := func(to ...*openpgp.Entity) []byte {
		ent, err := visible.For(to...)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(head), ent...)
	}
	pair := []string{"ann@subs.test", "bob@subs.test"}
	if err := egressGate(s.Site, m, forVisible(ann, bob), pair, false, now); err != nil {
		t.Errorf("visible batch copy refused: %v", err)
	}
	if err := egressGate(s.Site, m, forVisible(ann, ann), pair, false, now); !errors.Is(err, ownmail.ErrRefused) {
		t.Errorf("a visible batch copy with two key packets for ann passes for ann and bob: %v", err)
	}
	if err := egressGate(s.Site, m, forPGP(ann, ann), pair, false, now); err != nil {
		t.Errorf("hidden key packets are counted, not attributed: %v", err)
	}
	// Clear mail that carries nothing of an encrypted post, and the
	// distributor's content-free notices, are not the gate's concern.
	clearNotice := (&notices.Notice{List: "team@lists.test"}).MetaFrom("notice", encryptedPostMeta(), false, "cat@subs.test")
	if err := egressGate(s.Site, clearNotice, clear, []string{"cat@subs.test"}, false, now); err != nil {
		t.Errorf("a content-free notice is refused: %v", err)
	}
	if err := egressGate(s.Site, m, []byte("From: x\r\n\r\nno key\r\n"), []string{"cat@subs.test"}, true, now); err != nil {
		t.Errorf("the distributor's no-key notice is refused: %v", err)
	}
}

// TestEgressGateSMIME: an S/MIME envelope passes only when its
// RecipientInfos name exactly the recipients' certificates on file.
func TestEgressGateSMIME(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real openssl")
	s := newTestSite(t)
	ca := testca.New(t)
	ann, bob := ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment"), ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement")
	annCert, bobCert := parseCert(t, ann.CertPEM), parseCert(t, bob.CertPEM)
	s.Keys = &memKeys{certs: map[string]*x509.Certificate{"ann@subs.test": annCert, "bob@subs.test": bobCert}}
	now := time.Now()
	m := ownMailPaths("ann@subs.test")["forward to the owners"]
	// An envelope openssl made reads the same.
	byOpenSSL := ca.Run([]byte("Content-Type: text/plain\n\n"+gateMarker+"\n"), "cms", "-encrypt", "-aes256", ann.Cert)
	if err := egressGate(s.Site, m, byOpenSSL, []string{"ann@subs.test"}, false, now); err != nil {
		t.Errorf("openssl's envelope to ann refused: %v", err)
	}
	if err := egressGate(s.Site, m, byOpenSSL, []string{"bob@subs.test"}, false, now); err == nil {
		t.Error("openssl's envelope to ann passes for bob")
	}
	for _, c := range []cms.Cipher{cms.AES256CBC, cms.AES256GCM} {
		sealed, err := smime.Seal([]byte("Content-Type: text/plain\r\n\r\n"+gateMarker+"\r\n"), smime.SealOptions{Cipher: c})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			certs []*x509.Certificate
			rcpts []string
			ok    bool
		}{
			{"to ann", []*x509.Certificate{annCert}, []string{"ann@subs.test"}, true},
			{"to bob (key agreement)", []*x509.Certificate{bobCert}, []string{"bob@subs.test"}, true},
			{"to ann and bob, a batch", []*x509.Certificate{annCert, bobCert}, []string{"ann@subs.test", "bob@subs.test"}, true},
			{"ann's copy to bob", []*x509.Certificate{bobCert}, []string{"ann@subs.test"}, false},
			{"ann's copy to ann and bob", []*x509.Certificate{annCert, bobCert}, []string{"ann@subs.test"}, false},
			{"to ann twice for ann and bob", []*x509.Certificate{annCert, annCert}, []string{"ann@subs.test", "bob@subs.test"}, false},
		} {
			ent, err := sealed.For(tc.certs...)
			if err != nil {
				t.Fatal(err)
			}
			err = egressGate(s.Site, m, append([]byte("From: team@lists.test\r\nMIME-Version: 1.0\r\n"), ent...), tc.rcpts, false, now)
			if (err == nil) != tc.ok {
				t.Errorf("%v, %s: gate says %v", c, tc.name, err)
			}
		}
	}
}

// TestEgressGateParksInBad: a writer that marks a message carrying an
// encrypted post as already protected, with clear bytes, gets nothing onto
// the wire: the whole entry goes to bad with the gate's reason, sealed, and
// the refusal is counted.
func TestEgressGateParksInBad(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	for path, m := range ownMailPaths("ann@subs.test") {
		if m.Kind == "post" {
			continue // the distributor always makes the copies of posts; TestEgressGate covers them
		}
		t.Run(path, func(t *testing.T) {
			s := newTestSite(t)
			s.Keys = &memKeys{}
			before := stats.Snapshot("outgoing")[`egress_refused_total{kind="`+m.Kind+`"}`]
			m := m.Clone()
			m.ID = queue.NewID(time.Now(), "feed")
			m.WriterSigned = true // the mistake: clear bytes claimed as protected
			body := []byte("From: team-owner@lists.test\nTo: ann@subs.test\nSubject: x\nContent-Type: text/plain\n\n" + gateMarker + "\n")
			sb, err := s.SealBody(m, body)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Queue(queue.Out).EnqueueBytes(m, sb); err != nil {
				t.Fatal(err)
			}
			l := &Loop{Site: s.Site, Runner: Outgoing{}, Slice: queue.All, Once: true}
			if err := l.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if box := s.mailbox(t, "ann@subs.test"); len(box) != 0 {
				t.Fatalf("the gate let through:\n%s", box[0])
			}
			r := s.badReasons(t)
			if len(r) != 1 || !strings.Contains(r[0], "egress gate") {
				t.Fatalf("bad: %q", r)
			}
			if hits := grepTree(t, s.Config.StateDir, gateMarker); len(hits) != 0 {
				t.Fatalf("plaintext on disk: %v", hits)
			}
			if after := stats.Snapshot("outgoing")[`egress_refused_total{kind="`+m.Kind+`"}`]; after != before+1 {
				t.Fatalf("egress_refused_total went from %d to %d", before, after)
			}
		})
	}
}

// swapKeys answers bob's key the first time it is asked and another key
// afterwards: bob's key replaced between the making of his copy and its
// check.
type swapKeys struct {
	*memKeys
	after *openpgp.Entity
	mu    sync.Mutex
	calls int
}

func (k *swapKeys) EncryptionPGP(addr string, now time.Time) (*openpgp.Entity, error) {
	if addr == "bob@subs.test" {
		k.mu.Lock()
		k.calls++
		n := k.calls
		k.mu.Unlock()
		if n > 1 {
			return k.after, nil
		}
	}
	return k.memKeys.EncryptionPGP(addr, now)
}

// TestEgressGateKeepsTheOthers: one subscriber's copy refused by the gate
// does not stop the others: ann and cat get theirs, and only bob is parked
// in bad, with the reason.
// A large post's copies (over streamGateAbove) are read by the gate from
// their parts as they are written: bob's is refused all the same.
func TestEgressGateKeepsTheOthers(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	for name, size := range map[string]int{"small": 0, "large": streamGateAbove + 100<<10} {
		t.Run(name, func(t *testing.T) { egressGateKeepsTheOthers(t, size) })
	}
}

func egressGateKeepsTheOthers(t *testing.T, size int) {
	s, homes := encryptedSite(t)
	keys := s.mem
	text := "Content-Type: text/plain\n\n" + gateMarker + "\n" + strings.Repeat("a line of a large post, in clear inside.\n", size/41)
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Swap\n",
		[]byte(text), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.Keys = &swapKeys{memKeys: keys, after: keys.subs["ann@subs.test"]}
	s.drain(t)
	if len(s.mailbox(t, "ann@subs.test")) != 1 || len(s.mailbox(t, "cat@subs.test")) != 1 {
		t.Fatalf("ann got %d, cat %d messages", len(s.mailbox(t, "ann@subs.test")), len(s.mailbox(t, "cat@subs.test")))
	}
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 0 {
		t.Fatalf("bob got a copy the gate should have refused")
	}
	names, _ := s.Queue(queue.Bad).Pending(queue.All)
	if len(names) != 1 {
		t.Fatalf("bad holds %v", names)
	}
	e, _ := s.Queue(queue.Bad).Peek(names[0])
	if len(e.Meta.Recipients) != 1 || e.Meta.Recipients[0] != "bob@subs.test" || !strings.Contains(e.Meta.Reason, "egress gate") || e.Meta.Sealed == nil {
		t.Fatalf("bad entry: %+v", e.Meta)
	}
	if hits := grepTree(t, s.Config.StateDir, gateMarker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	if left := s.files(t, queue.Out); len(left) != 0 {
		t.Fatalf("out holds %v", left)
	}
}

// TestEgressGateWithTheMTADown: with no SMTP session, the copies the gate
// passes wait in retry and the refused one in bad; none is in both.
func TestEgressGateWithTheMTADown(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	keys := s.mem
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Down\n",
		[]byte("Content-Type: text/plain\n\n"+gateMarker+"\n"), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.Keys = &swapKeys{memKeys: keys, after: keys.subs["ann@subs.test"]}
	s.sink.Close()
	s.drain(t)
	names, _ := s.Queue(queue.Bad).Pending(queue.All)
	if len(names) != 1 {
		t.Fatalf("bad holds %v", names)
	}
	e, _ := s.Queue(queue.Bad).Peek(names[0])
	if strings.Join(e.Meta.Recipients, ",") != "bob@subs.test" {
		t.Fatalf("bad entry for %v", e.Meta.Recipients)
	}
	names, _ = s.Queue(queue.Retry).Pending(queue.All)
	if len(names) != 1 {
		t.Fatalf("retry holds %v", names)
	}
	e, _ = s.Queue(queue.Retry).Peek(names[0])
	if got := strings.Join(e.Meta.Recipients, ","); got != "ann@subs.test,cat@subs.test" {
		t.Fatalf("retry entry for %s", got)
	}
}

// boundaryOf returns the boundary of a multipart message.
func boundaryOf(t *testing.T, msg []byte) string {
	t.Helper()
	_, after, ok := bytes.Cut(msg, []byte("boundary=\""))
	if !ok {
		t.Fatalf("no boundary in %q", msg)
	}
	b, _, _ := bytes.Cut(after, []byte("\""))
	return string(b)
}
