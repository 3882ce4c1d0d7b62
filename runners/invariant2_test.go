package runners

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/emersion/go-message"

	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/mailmsg/rawmime"
	"cloister/moderation"
	"cloister/notices"
	"cloister/queue"
	"cloister/rules"
	"cloister/service"
)

// Security invariant 2, proven as a matrix: a post that arrived encrypted
// never leaves in clear. Each post shape a real client sends (gpg and
// openssl make them) goes down each path on which Cloister's own mail can
// carry it, and every message the SMTP sink received is audited: it is an
// encryption to exactly its recipient (that recipient's real gpg or openssl
// opens it; it holds one key packet or RecipientInfo) or it holds nothing of
// the post; and neither the state directory nor the log holds the marker.
//
//	post (gpg/openssl) -> deliver -> incoming -> rules -> pipeline -> outgoing -> SMTP sink
//	                                   |          |-> held -> notice to moderator / approve / reject
//	                                   |          |-> reject notice        |-> resend copies, digest, archive
//	                                   |-> command -> forward to owners, command replies, archive get

const inv2Marker = "INV2-PLAINTEXT-c0ffee"

// inv2Fixture holds the keys every cell shares: made once by gpg or openssl.
type inv2Fixture struct {
	tech     string // "pgp" or "smime"
	keys     *memKeys
	homes    map[string]*gnupg.Home  // pgp: one gpg home per address
	ca       *testca.CA              // smime
	leaves   map[string]*testca.Leaf // smime: one certificate per address
	listLeaf *testca.Leaf            // smime: the list's certificate
	pasted   []byte                  // an armored public key to paste into a text
}

// inv2Keyed are the addresses with a key: ann (owner), bob (the poster),
// dan (an outsider). cat (member) and eve (outsider) have none.
var inv2Keyed = []string{"ann@subs.test", "bob@subs.test", "dan@outside.test"}

func newPGPFixture(t *testing.T) *inv2Fixture {
	listHome := gnupg.New(t)
	listHome.GenKey("team <team@lists.test>", "cv25519")
	f := &inv2Fixture{tech: "pgp", homes: map[string]*gnupg.Home{}}
	f.keys = &memKeys{list: openpgp.EntityList{readKey(t, listHome.ExportSecret("team@lists.test"))},
		subs: map[string]*openpgp.Entity{}, pub: map[string][]byte{}}
	for _, addr := range inv2Keyed {
		h := gnupg.New(t)
		h.GenKey(strings.Split(addr, "@")[0]+" <"+addr+">", "cv25519")
		h.Import(listHome.ExportPublic("team@lists.test"))
		f.keys.pub[addr] = h.ExportPublic(addr)
		f.keys.subs[addr] = readKey(t, f.keys.pub[addr])
		f.homes[addr] = h
	}
	f.pasted = f.keys.pub["ann@subs.test"]
	return f
}

func newSMIMEFixture(t *testing.T) *inv2Fixture {
	ca := testca.New(t)
	f := &inv2Fixture{tech: "smime", ca: ca, leaves: map[string]*testca.Leaf{}}
	f.listLeaf = ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, mustRead(t, ca.Cert)))
	f.keys = &memKeys{cert: parseCert(t, f.listLeaf.CertPEM), key: parseKey(t, f.listLeaf.KeyPEM), roots: roots,
		certs: map[string]*x509.Certificate{}}
	for _, addr := range inv2Keyed {
		f.leaves[addr] = ca.Issue(addr, "rsa", "digitalSignature,keyEncipherment")
		f.keys.certs[addr] = parseCert(t, f.leaves[addr].CertPEM)
	}
	return f
}

// site returns a fresh test site whose list encrypts and signs with the
// fixture's technology.
func (f *inv2Fixture) site(t *testing.T) *testSite {
	s := newTestSite(t)
	keys := &archKeys{memKeys: f.keys}
	s.Keys, s.ArchiveKeys = keys, keys
	s.setList(t, map[string]string{
		f.tech + "_post_encrypt": "yes", f.tech + "_distrib_encrypt": "yes", f.tech + "_distrib_sign": "yes",
	})
	return s
}

// inv2Post is a shape of encrypted mail as clients send it.
type inv2Post struct {
	name      string
	tech      string
	sign      bool
	pasted    bool // the text holds a pasted armored public key
	protected bool // protected headers: the real subject is inside
}

var inv2Posts = []inv2Post{
	{name: "openpgp signed+encrypted", tech: "pgp", sign: true},
	{name: "openpgp encrypted", tech: "pgp"},
	{name: "smime signed+encrypted", tech: "smime", sign: true},
	// Unsigned S/MIME is sent as authEnveloped-data (AES-GCM): the list acts
	// on AES-CBC plaintext only under a member's inner signature (the
	// padding-oracle defence, TestSMIMEPaddingOracle), so an unsigned CBC
	// post is refused before anything could leave.
	{name: "smime encrypted", tech: "smime"},
	{name: "openpgp with a pasted key", tech: "pgp", sign: true, pasted: true},
	{name: "openpgp with protected headers", tech: "pgp", sign: true, protected: true},
}

// build makes the mail from bob to the list address to (a subaddress of
// team@lists.test), whose text starts with lead.
func (p inv2Post) build(t *testing.T, f *inv2Fixture, to, lead string) []byte {
	text := lead + "The plan is " + inv2Marker + ".\r\n" + strings.Repeat("Filler line to make the post large enough for a digest.\r\n", 24)
	if p.pasted {
		text += "\r\nMy key, for the record:\r\n\r\n" + strings.ReplaceAll(strings.ReplaceAll(string(f.pasted), "\r\n", "\n"), "\n", "\r\n")
	}
	subject := "Plans"
	inner := "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
	if p.protected {
		subject = "..."
		inner = "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\nSubject: Hidden " + inv2Marker +
			"\r\nFrom: bob <bob@subs.test>\r\nTo: " + to + "\r\n\r\n" + text
	}
	header := "From: bob <bob@subs.test>\nTo: " + to + "\nSubject: " + subject + "\nMessage-ID: " + notices.MessageID("x@subs.test") + "\n"
	switch {
	case p.tech == "pgp":
		return f.homes["bob@subs.test"].PGPMIMEEncrypted(header, []byte(inner), p.sign, "bob@subs.test", "team@lists.test")
	case p.sign:
		return f.ca.SignEncrypt(header, []byte(inner), f.leaves["bob@subs.test"], f.listLeaf.Cert)
	}
	return append([]byte(header), f.ca.Run([]byte(inner), "cms", "-encrypt", "-aes-256-gcm", f.listLeaf.Cert)...)
}

// What a cell expects an address to receive.
const (
	wantContent   = "content"   // an encryption to it whose plaintext holds the marker
	wantEncrypted = "encrypted" // mail, every message encrypted to it
	wantMail      = "mail"      // some mail
	wantNothing   = "nothing"
)

// inv2Path is one way the post can travel. run drives the site and returns
// what each address must have received.
type inv2Path struct {
	name string
	run  func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string
	// keyPackets is the number of key packets or RecipientInfos each
	// encrypted copy must hold: 1 (its recipient alone) unless the path
	// sends batches.
	keyPackets int
}

func (s *testSite) addRole(t *testing.T, addr string, r lists.Role) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		m, err := tx.Member("team@lists.test", addr)
		if err != nil {
			return err
		}
		m.AddRole(r)
		return tx.PutMember("team@lists.test", m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (s *testSite) heldIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	err := s.Lists.View(func(tx *lists.Tx) error {
		hs, err := tx.HeldFor("team@lists.test")
		for _, h := range hs {
			ids = append(ids, h.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// holdForAnn holds the post for ann, a moderator with a key.
func holdForAnn(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) string {
	s.setList(t, map[string]string{"send": "send.editorkey"})
	s.addRole(t, "ann@subs.test", lists.RoleModerator)
	s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
	s.drain(t)
	ids := s.heldIDs(t)
	if len(ids) != 1 {
		t.Fatalf("held posts %v; bad: %q", ids, s.badReasons(t))
	}
	return ids[0]
}

var inv2Paths = []inv2Path{
	{"distribution", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
		s.drain(t)
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantContent, "cat@subs.test": wantMail}
	}, 1},
	// batch_size > 1: ann and bob share one copy, encrypted to both of them
	// and no one else (hidden key IDs for OpenPGP; one RecipientInfo each
	// for S/MIME, which batches only when hidden_recipients is off).
	{"distribution in batches", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.setList(t, map[string]string{"batch_size": "10", "hidden_recipients": "no"})
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
		s.drain(t)
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantContent, "cat@subs.test": wantMail}
	}, 2},
	// cover_traffic: the copies are padded to buckets, and a dummy for ann
	// or bob (the subscribers with a key) leaves beside them.
	{"distribution with cover traffic", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.setList(t, map[string]string{"cover_traffic": "yes", "cover_traffic_per_day": "1"})
		if err := (Cover{}).Schedule(s.Site, time.Now().Add(-30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
		s.drain(t)
		// A second dummy only if the next timer, drawn at random (12 hours
		// on average), fell due during the drain.
		if n := len(s.mailbox(t, "ann@subs.test")) + len(s.mailbox(t, "bob@subs.test")); n < 3 {
			t.Errorf("ann and bob received %d messages, want two copies and a dummy", n)
		}
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantContent, "cat@subs.test": wantMail}
	}, 1},
	{"held notice to a moderator with a key", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		holdForAnn(t, f, s, p)
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantNothing, "cat@subs.test": wantNothing}
	}, 1},
	{"held notice to a moderator without a key", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.setList(t, map[string]string{"send": "send.editorkey"})
		s.addRole(t, "cat@subs.test", lists.RoleModerator)
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
		s.drain(t)
		if len(s.heldIDs(t)) != 1 {
			t.Fatalf("the post was not held; bad: %q", s.badReasons(t))
		}
		return map[string]string{"cat@subs.test": wantMail, "ann@subs.test": wantNothing, "bob@subs.test": wantNothing}
	}, 1},
	{"approve", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		id := holdForAnn(t, f, s, p)
		if err := moderation.Approve(s.Site, id, "ann@subs.test"); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantContent, "cat@subs.test": wantMail}
	}, 1},
	{"reject", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		id := holdForAnn(t, f, s, p)
		if err := moderation.Reject(s.Site, id, "", "ann@subs.test"); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantMail, "cat@subs.test": wantNothing}
	}, 1},
	// Through the service layer (the web's and the API's way): a moderator
	// sees only headers of the held post, and "send it to me encrypted"
	// reaches the moderator with a key, only encrypted, and nobody else; a
	// moderator without a key gets nothing.
	{"held post shown and sent to a moderator through the service", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		id := holdForAnn(t, f, s, p)
		s.addRole(t, "cat@subs.test", lists.RoleModerator)
		svc := Service(s.Site)
		ann := service.Actor{Address: "ann@subs.test", Method: rules.MethodSMIME, Via: service.ViaWeb}
		shown, err := svc.HeldShow(context.Background(), ann, service.HeldRef{List: "team", ID: id})
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(shown)
		if !shown.Encrypted || shown.Text != "" || strings.Contains(string(js), inv2Marker) {
			t.Errorf("held post shown through the service: %s", js)
		}
		if err := svc.HeldSendToMe(context.Background(), ann, service.HeldRef{List: "team", ID: id}); err != nil {
			var e *service.Error
			errors.As(err, &e)
			t.Fatalf("%v (%v)", err, e.Err)
		}
		cat := service.Actor{Address: "cat@subs.test", Method: rules.MethodSMIME, Via: service.ViaWeb}
		if err := svc.HeldSendToMe(context.Background(), cat, service.HeldRef{List: "team", ID: id}); service.Code(err) != service.CodeConflict {
			t.Errorf("copy to a moderator without a key: %v, want conflict", err)
		}
		s.drain(t)
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantNothing, "cat@subs.test": wantNothing}
	}, 1},
	{"approve through the service", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		id := holdForAnn(t, f, s, p)
		ann := service.Actor{Address: "ann@subs.test", Method: rules.MethodPGP, Via: service.ViaAPI}
		if err := Service(s.Site).HeldApprove(context.Background(), ann, service.HeldRef{List: "team", ID: id}); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		return map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantContent, "cat@subs.test": wantMail}
	}, 1},
	{"LIST-owner forward", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.addRole(t, "cat@subs.test", lists.RoleOwner)
		s.deliver(t, queue.SubOwner, "bob@subs.test", string(p.build(t, f, "team-owner@lists.test", "")))
		s.drain(t)
		return map[string]string{"ann@subs.test": wantContent, "cat@subs.test": wantMail, "bob@subs.test": wantNothing}
	}, 1},
	{"resend to outsiders with and without keys", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "resend dan@outside.test, eve@outside.test\r\n\r\n")))
		s.drain(t)
		want := map[string]string{"ann@subs.test": wantContent, "bob@subs.test": wantContent, "eve@outside.test": wantNothing}
		want["dan@outside.test"] = wantNothing // an unsigned post's orders are refused
		if p.sign {
			want["dan@outside.test"] = wantContent
		}
		return want
	}, 1},
	{"digest", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.setDelivery(t, "bob@subs.test", lists.DeliveryDigest)
		s.setList(t, map[string]string{"digest_size_kb": "1"})
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
		s.drain(t)
		return map[string]string{"bob@subs.test": wantContent, "ann@subs.test": wantContent}
	}, 1},
	{"archive get", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.setDelivery(t, "ann@subs.test", lists.DeliveryDisabled)
		s.setDelivery(t, "cat@subs.test", lists.DeliveryDisabled)
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
		s.drain(t)
		for _, who := range []string{"ann@subs.test", "cat@subs.test"} {
			s.deliver(t, queue.SubRequest, who, "From: "+who+"\nTo: team-request@lists.test\nSubject: archive\nMessage-ID: "+notices.MessageID("get@subs.test")+"\n\nget 1\n")
		}
		s.drain(t)
		// ann takes no mail: what she decrypts with the marker is the get reply.
		return map[string]string{"ann@subs.test": wantContent, "cat@subs.test": wantMail}
	}, 1},
	{"rejection notice", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.setList(t, map[string]string{"send": "send.closed"})
		s.deliver(t, queue.SubPost, "bob@subs.test", string(p.build(t, f, "team@lists.test", "")))
		s.drain(t)
		return map[string]string{"bob@subs.test": wantMail, "ann@subs.test": wantNothing, "cat@subs.test": wantNothing}
	}, 1},
	{"command reply", func(t *testing.T, f *inv2Fixture, s *testSite, p inv2Post) map[string]string {
		s.deliver(t, queue.SubRequest, "bob@subs.test", string(p.build(t, f, "team-request@lists.test", "which\r\nend\r\n")))
		s.drain(t)
		return map[string]string{"bob@subs.test": wantEncrypted, "ann@subs.test": wantNothing}
	}, 1},
}

// TestInvariant2Matrix runs every post shape down every path and audits
// what reached the SMTP sink, the state directory and the log.
func TestInvariant2Matrix(t *testing.T) {
	testdirs.Slow(t, "every crypto format through every path, with real gpg, gpgsm and openssl")
	fixtures := map[string]*inv2Fixture{"pgp": newPGPFixture(t), "smime": newSMIMEFixture(t)}
	for _, p := range inv2Posts {
		t.Run(p.name, func(t *testing.T) {
			f := fixtures[p.tech]
			for _, path := range inv2Paths {
				t.Run(path.name, func(t *testing.T) {
					s := f.site(t)
					want := path.run(t, f, s, p)
					f.audit(t, s, want, path.keyPackets)
				})
			}
		})
	}
}

// audit checks every message in the sink, the state directory and the log.
func (f *inv2Fixture) audit(t *testing.T, s *testSite, want map[string]string, keyPackets int) {
	t.Helper()
	if r := s.badReasons(t); len(r) != 0 {
		t.Errorf("bad: %q", r)
	}
	if hits := grepTree(t, s.Config.StateDir, inv2Marker); len(hits) != 0 {
		t.Errorf("plaintext on disk: %v", hits)
	}
	if strings.Contains(s.logs.String(), inv2Marker) {
		t.Errorf("plaintext in the log:\n%s", s.logs)
	}
	boxes, err := os.ReadDir(s.sink.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	got := map[string][]string{} // per address, one verdict per message
	for _, b := range boxes {
		rcpt := b.Name()
		for _, msg := range s.mailbox(t, rcpt) {
			got[rcpt] = append(got[rcpt], f.judge(t, rcpt, msg, keyPackets))
		}
	}
	for addr, w := range want {
		v := got[addr]
		ok := false
		switch w {
		case wantNothing:
			ok = len(v) == 0
		case wantMail:
			ok = len(v) > 0
		case wantContent:
			for _, x := range v {
				ok = ok || x == wantContent
			}
		case wantEncrypted:
			ok = len(v) > 0
			for _, x := range v {
				ok = ok && (x == wantContent || x == wantEncrypted)
			}
		}
		if !ok {
			t.Errorf("%s: want %s, got %v", addr, w, v)
		}
	}
}

// judge audits one message received by rcpt: it returns wantContent (an
// encryption to rcpt alone, or to its batch of keyPackets, holding the marker), wantEncrypted (one without
// the marker) or wantMail (clear, holding nothing of the post), and fails
// the test for anything else.
func (f *inv2Fixture) judge(t *testing.T, rcpt string, msg []byte, keyPackets int) string {
	t.Helper()
	if bytes.Contains(msg, []byte(inv2Marker)) {
		t.Errorf("%s received the plaintext on the wire:\n%s", rcpt, msg)
		return "leak"
	}
	ent, err := rawmime.Parse(msg)
	if err != nil {
		t.Errorf("%s received an unreadable message: %v", rcpt, err)
		return "unreadable"
	}
	mt, params, _ := ent.MediaType()
	encrypted := mt == "multipart/encrypted" ||
		((mt == "application/pkcs7-mime" || mt == "application/x-pkcs7-mime") && strings.Contains(strings.ToLower(params["smime-type"]), "enveloped"))
	if !encrypted {
		if decodedHolds(msg, inv2Marker) {
			t.Errorf("%s received the plaintext in clear (transfer-encoded):\n%s", rcpt, msg)
			return "leak"
		}
		return wantMail
	}
	pt, n, err := f.open(t, rcpt, msg)
	if err != nil {
		t.Errorf("%s cannot open its own copy: %v", rcpt, err)
		return "unopenable"
	}
	if n != keyPackets {
		t.Errorf("%s's copy is encrypted to %d recipients, want exactly %d", rcpt, n, keyPackets)
	}
	if bytes.Contains(pt, []byte(inv2Marker)) {
		return wantContent
	}
	return wantEncrypted
}

// open decrypts msg with rcpt's real gpg or openssl and counts the key
// packets or RecipientInfos of its encryption.
func (f *inv2Fixture) open(t *testing.T, rcpt string, msg []byte) ([]byte, int, error) {
	if f.tech == "pgp" {
		h := f.homes[rcpt]
		if h == nil {
			return nil, 0, errors.New("encrypted to an address that has no key")
		}
		i := bytes.Index(msg, []byte("-----BEGIN PGP MESSAGE-----"))
		j := bytes.Index(msg, []byte("-----END PGP MESSAGE-----"))
		if i < 0 || j < i {
			return nil, 0, errors.New("no armored OpenPGP message")
		}
		armored := msg[i : j+len("-----END PGP MESSAGE-----")]
		pt, status, err := h.Decrypt(armored)
		// With hidden key IDs gpg also tries its key on the other
		// recipient's packet and exits non-zero, having decrypted.
		if err != nil && !(strings.Contains(status, "[GNUPG:] DECRYPTION_OKAY") && strings.Contains(status, "[GNUPG:] GOODMDC")) {
			return nil, 0, errors.New(status)
		}
		packets, _, _ := h.Exec(armored, "--list-packets")
		return pt, bytes.Count(packets, []byte(":pubkey enc packet:")), nil
	}
	l := f.leaves[rcpt]
	if l == nil {
		return nil, 0, errors.New("encrypted to an address that has no certificate")
	}
	pt, err := testca.Decrypt(msg, l)
	if err != nil {
		return nil, 0, err
	}
	printed, err := testca.Exec(msg, "cms", "-cmsout", "-print")
	if err != nil {
		return nil, 0, err
	}
	return pt, bytes.Count(printed, []byte("d.ktri:")) + bytes.Count(printed, []byte("d.kari:")), nil
}

// decodedHolds reports whether any part of msg, once its transfer encoding
// is undone, holds marker.
func decodedHolds(msg []byte, marker string) bool {
	e, err := message.Read(bytes.NewReader(msg))
	if e == nil {
		return false
	}
	_ = err
	found := false
	e.Walk(func(_ []int, part *message.Entity, err error) error {
		if part == nil {
			return nil
		}
		if mr := part.MultipartReader(); mr != nil {
			return nil
		}
		b, _ := io.ReadAll(part.Body)
		found = found || bytes.Contains(b, []byte(marker))
		return nil
	})
	return found
}
