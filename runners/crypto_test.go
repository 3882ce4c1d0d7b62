package runners

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/internal/site"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/lists"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/pgp"
	"cloister/queue"
)

// memKeys is an in-memory site.Keys for the runner tests; the keys in it are
// made by the real gpg.
type memKeys struct {
	list openpgp.EntityList
	subs map[string]*openpgp.Entity

	cert     *x509.Certificate // the list's S/MIME certificate
	key      crypto.Signer
	roots    *x509.CertPool
	certs    map[string]*x509.Certificate // subscribers' encryption certificates
	captured map[string][]byte
	pub      map[string][]byte // armored public keys as gpg exported them

	listCerts map[string]keyring.ListCert // members' certifications of the list key
	withdrawn map[string]bool             // certificates withdrawn by their holders, by fingerprint
}

// ExportFor returns a subscriber's armored public key, for importing into
// another gpg home.
func (k *memKeys) ExportFor(t *testing.T, addr string) []byte {
	t.Helper()
	b, ok := k.pub[addr]
	if !ok {
		t.Fatalf("no public key for %s", addr)
	}
	return b
}

func (k *memKeys) ListPGP(string) (*openpgp.Entity, error) {
	if len(k.list) == 0 {
		return nil, site.ErrNoListKey
	}
	return k.list[0], nil
}
func (k *memKeys) ListSMIME(string) (*x509.Certificate, crypto.Signer, []*x509.Certificate, error) {
	if k.cert == nil {
		return nil, nil, nil, site.ErrNoListKey
	}
	return k.cert, k.key, nil, nil
}

// Senders binds each subscriber key to the address it is filed under, as
// the keyring does: its user IDs do not count.
func (k *memKeys) Senders() pgp.KeySource {
	var b pgp.Bound
	for addr, e := range k.subs {
		b = append(b, pgp.BoundKey{Entity: e, Addresses: []string{addr}})
	}
	return b
}
func (k *memKeys) SMIMETrust() (*x509.CertPool, []*x509.RevocationList, error) {
	if k.roots == nil {
		return x509.NewCertPool(), nil, nil
	}
	return k.roots, nil, nil
}
func (k *memKeys) EncryptionPGP(addr string, now time.Time) (*openpgp.Entity, error) {
	if e, ok := k.subs[addr]; ok {
		return e, nil
	}
	return nil, errors.New("no key")
}
func (k *memKeys) EncryptionCert(addr string, _ time.Time) (*x509.Certificate, error) {
	if c, ok := k.certs[addr]; ok {
		return c, nil
	}
	return nil, errors.New("no certificate")
}
func (k *memKeys) CertWithdrawn(fpr string) bool { return k.withdrawn[fpr] }

// SigningCerts: the certificates on file for addr (given or captured), as
// the keyring's, less the withdrawn ones.
func (k *memKeys) SigningCerts(addr string, _ time.Time) []string {
	var out []string
	if c, ok := k.certs[addr]; ok && !k.withdrawn[keyring.CertFingerprint(c)] {
		out = append(out, keyring.CertFingerprint(c))
	}
	if der, ok := k.captured[addr]; ok {
		if c, err := x509.ParseCertificate(der); err == nil && !k.withdrawn[keyring.CertFingerprint(c)] {
			out = append(out, keyring.CertFingerprint(c))
		}
	}
	return out
}

func (k *memKeys) Capture(addr string, der []byte) error {
	if k.captured == nil {
		k.captured = map[string][]byte{}
	}
	k.captured[addr] = der
	return nil
}

func readKey(t *testing.T, armored []byte) *openpgp.Entity {
	t.Helper()
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil || len(el) != 1 {
		t.Fatalf("read key: %v (%d)", err, len(el))
	}
	return el[0]
}

// encryptedSite is the test site with an OpenPGP list key made by gpg, two
// subscribers with gpg keys (Curve25519 and RSA-3072) and one without a key.
func encryptedSite(t *testing.T) (*testSite, map[string]*gnupg.Home) {
	s := newTestSite(t)
	listHome := gnupg.New(t)
	fixtureKey(t, listHome, "team <team@lists.test>", "cv25519")
	homes := map[string]*gnupg.Home{}
	keys := &memKeys{list: openpgp.EntityList{readKey(t, listHome.ExportSecret("team@lists.test"))}, subs: map[string]*openpgp.Entity{}}
	for addr, algo := range map[string]string{"ann@subs.test": "cv25519", "bob@subs.test": "rsa3072"} {
		h := gnupg.New(t)
		fixtureKey(t, h, strings.Split(addr, "@")[0]+" <"+addr+">", algo)
		h.Import(listHome.ExportPublic("team@lists.test"))
		keys.subs[addr] = readKey(t, h.ExportPublic(addr))
		homes[addr] = h
	}
	keys.pub = map[string][]byte{}
	for addr, h := range homes {
		keys.pub[addr] = h.ExportPublic(addr)
	}
	s.Keys, s.mem = keys, keys
	s.setList(t, map[string]string{"pgp_post_encrypt": "yes", "pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes"})
	return s, homes
}

// armoredPart returns the armored OpenPGP block of a PGP/MIME message.
func armoredPart(t *testing.T, msg []byte) []byte {
	t.Helper()
	i := bytes.Index(msg, []byte("-----BEGIN PGP MESSAGE-----"))
	j := bytes.Index(msg, []byte("-----END PGP MESSAGE-----"))
	if i < 0 || j < i {
		t.Fatalf("no armored OpenPGP message in:\n%s", msg)
	}
	return msg[i : j+len("-----END PGP MESSAGE-----")]
}

// grepTree reports the files under dir that contain marker.
func grepTree(t *testing.T, dir, marker string) []string {
	t.Helper()
	var hits []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(marker)) {
			hits = append(hits, p)
		}
		return nil
	})
	return hits
}

// TestEncryptedPostThroughTheRunners: Bob's gpg sends a signed and encrypted
// PGP/MIME post to the list key. It is decrypted, verified and bound to Bob,
// sealed at rest, and each subscriber with a key gets a copy that only their
// own gpg decrypts and whose list signature gpg verifies; the subscriber
// without a key gets a notice without the plaintext.
func TestEncryptedPostThroughTheRunners(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes := encryptedSite(t)
	const marker = "SECRET-MARKER-7f3a"
	// CRLF line endings, as Thunderbird signs MIME entities: the sender's
	// signature (made inside the encryption) can then travel on.
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nThe meeting moves to the back room. " + marker + "\r\n")
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Plans\nMessage-ID: <plans@subs.test>\n",
		inner, true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))

	// After the incoming runner, the decrypted post waits sealed in rules.
	l := &Loop{Site: s.Site, Runner: Incoming{}, Slice: queue.All, Once: true}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext of the encrypted post on disk: %v", hits)
	}
	names, _ := s.Queue(queue.Rules).Pending(queue.All)
	if len(names) != 1 {
		t.Fatalf("rules holds %v; bad: %q", names, s.badReasons(t))
	}
	e, _ := s.Queue(queue.Rules).Peek(names[0])
	if e.Meta.Encryption != "pgp-mime" || e.Meta.Verdict != "good" || e.Meta.Auth != "pgp" || e.Meta.Sealed == nil {
		t.Fatalf("meta = %+v", e.Meta)
	}

	s.drain(t)
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext of the encrypted post on disk: %v", hits)
	}
	copies := map[string][]byte{}
	for _, addr := range []string{"ann@subs.test", "bob@subs.test"} {
		box := s.mailbox(t, addr)
		if len(box) != 1 {
			t.Fatalf("%s received %d messages", addr, len(box))
		}
		if bytes.Contains(box[0], []byte(marker)) || !bytes.Contains(box[0], []byte("multipart/encrypted")) {
			t.Fatalf("%s's copy is not encrypted:\n%s", addr, box[0])
		}
		if !bytes.Contains(box[0], []byte("Autocrypt: addr=team@lists.test; prefer-encrypt=mutual;")) || !bytes.Contains(box[0], []byte(" keydata=")) ||
			!bytes.Contains(box[0], []byte("OpenPGP: id=")) {
			t.Errorf("%s's copy does not advertise the list key:\n%s", addr, box[0])
		}
		if !bytes.Contains(box[0], []byte("Subject: ...")) {
			t.Errorf("%s's copy shows its subject outside the encryption", addr)
		}
		copies[addr] = armoredPart(t, box[0])
		pt, status, err := homes[addr].Decrypt(copies[addr])
		if err != nil {
			t.Fatalf("%s's gpg cannot decrypt its copy: %v\n%s", addr, err, status)
		}
		if !bytes.Contains(pt, []byte(marker)) || !bytes.Contains(pt, []byte("Subject: [team] Plans")) {
			t.Fatalf("%s decrypted:\n%s", addr, pt)
		}
		if !bytes.Contains(pt, []byte("multipart/signed")) || !bytes.Contains(pt, []byte("application/pgp-signature")) {
			t.Fatalf("%s: bob's own signature did not travel with the post:\n%s", addr, pt)
		}
		// gpg verifies Bob's kept signature on the signed part, as a
		// subscriber's client does.
		ent, err := rawmime.Parse(pt)
		if err != nil {
			t.Fatal(err)
		}
		_, params, _ := ent.MediaType()
		parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
		if err != nil || len(parts) != 2 {
			t.Fatalf("%s: kept signature parts: %v", addr, err)
		}
		sigPart, _ := rawmime.Parse(parts[1])
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "signed"), rawmime.Canonical(parts[0]), 0o600)
		os.WriteFile(filepath.Join(dir, "sig.asc"), sigPart.Body, 0o600)
		homes[addr].Import(s.mem.ExportFor(t, "bob@subs.test"))
		if _, status, err := homes[addr].Exec(nil, "--verify", filepath.Join(dir, "sig.asc"), filepath.Join(dir, "signed")); err != nil || !strings.Contains(status, "GOODSIG") {
			t.Fatalf("%s: gpg does not verify bob's kept signature: %v\n%s", addr, err, status)
		}
		if !strings.Contains(status, "GOODSIG") || !strings.Contains(status, "team@lists.test") {
			t.Fatalf("%s: the list signature does not verify:\n%s", addr, status)
		}
	}
	if _, status, err := homes["ann@subs.test"].Decrypt(copies["bob@subs.test"]); err == nil {
		t.Fatalf("ann decrypted bob's copy:\n%s", status)
	}
	notice := s.mailbox(t, "cat@subs.test")
	if len(notice) != 1 || bytes.Contains(notice[0], []byte(marker)) || bytes.Contains(notice[0], []byte("back room")) ||
		!bytes.Contains(notice[0], []byte("could not be sent to you")) {
		t.Fatalf("cat's notice:\n%q", notice)
	}
}

// TestPostNotForTheListKey: a post encrypted to another key is refused with a
// notice to the sender, not put in bad.
func TestPostNotForTheListKey(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes := encryptedSite(t)
	other := gnupg.New(t)
	other.GenKey("stranger <stranger@else.test>", "cv25519")
	homes["bob@subs.test"].Import(other.ExportPublic("stranger@else.test"))
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob@subs.test\nSubject: x\n", []byte("Content-Type: text/plain\n\nhello\n"), false, "", "stranger@else.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	box := s.mailbox(t, "bob@subs.test")
	if len(box) != 1 {
		t.Fatalf("bob got %q", box)
	}
	// Bob has a key on file: the notice comes signed by the list and
	// encrypted to him.
	pt, status, err := homes["bob@subs.test"].Decrypt(armoredPart(t, box[0]))
	if err != nil || !bytes.Contains(pt, []byte("The list could not read your message, and did nothing with it.")) || !strings.Contains(status, "GOODSIG") {
		t.Fatalf("bob's notice: %v\n%s\n%s", err, pt, status)
	}
	if len(s.mailbox(t, "ann@subs.test")) != 0 {
		t.Fatal("the undecryptable post was distributed")
	}
}

// TestEncryptedBatch: with batch_size > 1 the subscribers with keys share one
// copy; each still decrypts it with their own gpg alone, and the one without
// a key gets a notice. Its key packets carry hidden key IDs when the list
// hides recipients, and name each subscriber's key when it does not
// (hidden_recipients no: clients such as rnp 0.16, sqop and PGPy need them).
func TestEncryptedBatch(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	for _, hidden := range []bool{true, false} {
		t.Run(fmt.Sprintf("hidden=%v", hidden), func(t *testing.T) {
			s, homes := encryptedSite(t)
			err := s.Lists.Update(func(tx *lists.Tx) error {
				l, err := tx.List("team@lists.test")
				if err != nil {
					return err
				}
				l.Settings.BatchSize = 10
				l.Settings.HiddenRecipients = hidden
				return tx.PutList(l)
			})
			if err != nil {
				t.Fatal(err)
			}
			const marker = "BATCH-MARKER-5d1e"
			post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Batch\n",
				[]byte("Content-Type: text/plain\n\n"+marker+"\n"), true, "bob@subs.test", "team@lists.test")
			s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
			s.drain(t)
			ann, bob := s.mailbox(t, "ann@subs.test"), s.mailbox(t, "bob@subs.test")
			if len(ann) != 1 || len(bob) != 1 {
				t.Fatalf("ann %d, bob %d messages; bad %q", len(ann), len(bob), s.badReasons(t))
			}
			if !bytes.Equal(armoredPart(t, ann[0]), armoredPart(t, bob[0])) {
				t.Fatal("ann and bob did not get the one batch copy")
			}
			for addr, h := range homes {
				pt, status, err := h.Decrypt(armoredPart(t, ann[0]))
				if err != nil || !bytes.Contains(pt, []byte(marker)) {
					t.Fatalf("%s cannot decrypt the batch copy: %v\n%s", addr, err, status)
				}
			}
			packets, _, _ := homes["ann@subs.test"].Exec(armoredPart(t, ann[0]), "--list-packets", "--try-all-secrets")
			want := 2
			if !hidden {
				want = 0
			}
			if n := bytes.Count(packets, []byte("keyid 0000000000000000")); n != want {
				t.Fatalf("%d hidden key IDs in the batch copy, want %d:\n%s", n, want, packets)
			}
			if n := bytes.Count(packets, []byte(":pubkey enc packet:")); n != 2 {
				t.Fatalf("%d key packets in the batch copy, want 2:\n%s", n, packets)
			}
			if box := s.mailbox(t, "cat@subs.test"); len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
				t.Fatalf("cat got %q", box)
			}
		})
	}
}

// TestHeldEncryptedPostToModeratorWithKey: a post that arrived encrypted and
// is held reaches a moderator who has a key attached to a notice encrypted
// to that key; nothing of it is on disk in clear.
func TestHeldEncryptedPostToModeratorWithKey(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		l.Settings.Send = "send.editorkey"
		if err := tx.PutList(l); err != nil {
			return err
		}
		m, err := tx.Member("team@lists.test", "ann@subs.test")
		if err != nil {
			return err
		}
		m.AddRole(lists.RoleModerator)
		return tx.PutMember("team@lists.test", m)
	})
	if err != nil {
		t.Fatal(err)
	}
	const marker = "HELD-ENC-MARKER-4c2"
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Held\n",
		[]byte("Content-Type: text/plain\n\n"+marker+"\n"), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	box := s.mailbox(t, "ann@subs.test")
	if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
		t.Fatalf("ann got %d messages (or plaintext)", len(box))
	}
	pt, status, err := homes["ann@subs.test"].Decrypt(armoredPart(t, box[0]))
	if err != nil || !bytes.Contains(pt, []byte(marker)) || !bytes.Contains(pt, []byte("held for moderation")) {
		t.Fatalf("ann's notice: %v\n%s\n%s", err, pt, status)
	}
	if len(s.mailbox(t, "cat@subs.test")) != 0 {
		t.Fatal("the held post was distributed")
	}
}

// TestStripOriginalSignature: with strip_original_signature the sender's
// signature kept from the encrypted post does not reach subscribers; the
// list's own signature does.
func TestStripOriginalSignature(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		l.Settings.StripOriginalSignature = true
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Strip\n",
		[]byte("Content-Type: text/plain\r\n\r\nSTRIP-MARKER\r\n"), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	box := s.mailbox(t, "ann@subs.test")
	if len(box) != 1 {
		t.Fatalf("ann got %d messages", len(box))
	}
	pt, status, err := homes["ann@subs.test"].Decrypt(armoredPart(t, box[0]))
	if err != nil || !bytes.Contains(pt, []byte("STRIP-MARKER")) || !strings.Contains(status, "GOODSIG") {
		t.Fatalf("ann's copy: %v\n%s", err, pt)
	}
	if bytes.Contains(pt, []byte("application/pgp-signature")) {
		t.Fatalf("the sender's signature was not stripped:\n%s", pt)
	}
}

// TestResend: a member's signed and encrypted post with resend orders is sent
// on to an outsider with a key (encrypted to it, without the order lines),
// refused for an encrypted-only outsider without one, and reported to the list.
func TestResend(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes := encryptedSite(t)
	dan := gnupg.New(t)
	dan.GenKey("dan <dan@outside.test>", "cv25519")
	keys := s.mem
	keys.subs["dan@outside.test"] = readKey(t, dan.ExportPublic("dan@outside.test"))
	var listPub bytes.Buffer // dan checks the list's signature with its public key
	w, _ := armor.Encode(&listPub, "PGP PUBLIC KEY BLOCK", nil)
	if err := keys.list[0].Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	dan.Import(listPub.Bytes())
	const marker = "RESEND-MARKER-8e1"
	inner := "Content-Type: text/plain\r\n\r\nresend dan@outside.test\r\nresend-encrypted-only eve@outside.test\r\n\r\nPlease look at this. " + marker + "\r\n"
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Incident\n",
		[]byte(inner), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	box := s.mailbox(t, "dan@outside.test")
	if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
		t.Fatalf("dan got %d messages (or plaintext)", len(box))
	}
	pt, status, err := dan.Decrypt(armoredPart(t, box[0]))
	if err != nil || !bytes.Contains(pt, []byte(marker)) || !strings.Contains(status, "GOODSIG") {
		t.Fatalf("dan's copy: %v\n%s\n%s", err, pt, status)
	}
	if bytes.Contains(pt, []byte("resend")) || !bytes.Contains(pt, []byte("From: team@lists.test")) {
		t.Fatalf("dan's copy shows the orders or not the list as sender:\n%s", pt)
	}
	if box := s.mailbox(t, "eve@outside.test"); len(box) != 0 {
		t.Fatalf("eve (no key, encrypted only) got %q", box)
	}
	var report, post2 []byte
	for _, m := range s.mailbox(t, "ann@subs.test") {
		pt, _, err := homes["ann@subs.test"].Decrypt(armoredPart(t, m))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(pt, []byte("Resend report")) {
			report = pt
		} else {
			post2 = pt
		}
	}
	if !bytes.Contains(report, []byte("dan@outside.test: sent, encrypted")) || !bytes.Contains(report, []byte("eve@outside.test: refused")) {
		t.Fatalf("report:\n%s", report)
	}
	if !bytes.Contains(post2, []byte(marker)) || bytes.Contains(post2, []byte("resend dan")) {
		t.Fatalf("the post to the list:\n%s", post2)
	}
}

// TestCopiesOneAtATime: when a post is so large that one copy fills the
// copy budget, copies are made one at a time (one slot), per subscriber and
// in batches, and every subscriber still gets a copy their gpg opens.
func TestCopiesOneAtATime(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	old := copyBudget
	t.Cleanup(func() { copyBudget = old })
	copyBudget = 1
	for _, batch := range []string{"1", "2"} {
		t.Run("batch_size "+batch, func(t *testing.T) {
			s, homes := encryptedSite(t)
			s.setList(t, map[string]string{"batch_size": batch})
			const marker = "ONE-AT-A-TIME-2b7c"
			post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Slots\n",
				[]byte("Content-Type: text/plain\n\n"+marker+"\n"), true, "bob@subs.test", "team@lists.test")
			s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
			s.drain(t)
			for addr, h := range homes {
				box := s.mailbox(t, addr)
				if len(box) != 1 {
					t.Fatalf("%s got %d messages", addr, len(box))
				}
				if pt, status, err := h.Decrypt(armoredPart(t, box[0])); err != nil || !bytes.Contains(pt, []byte(marker)) {
					t.Fatalf("%s cannot decrypt its copy: %v\n%s", addr, err, status)
				}
			}
			if box := s.mailbox(t, "cat@subs.test"); len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
				t.Fatalf("cat (no key) got %q", box)
			}
		})
	}
}
