package runners

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/internal/sitetest"
	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// openpgpJS drives OpenPGP.js 6 through test/peers/openpgpjs/peer.mjs
// (installed by test/setup.sh with npm ci): one Node process per test
// serves its commands (peer.mjs serve), in dir, where its keys are.
type openpgpJS struct {
	dir  string
	peer *sitetest.Peer
}

func newOpenPGPJS(t *testing.T) *openpgpJS {
	t.Helper()
	testdirs.Slow(t, "needs OpenPGP.js under node (test/setup.sh installs it)")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed for the OpenPGP.js peer (bash test/setup.sh installs it): %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", "test", "peers", "openpgpjs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "openpgp", "package.json")); err != nil {
		t.Fatalf("OpenPGP.js is not installed (bash test/setup.sh runs npm ci in %s): %v", root, err)
	}
	p := &openpgpJS{dir: t.TempDir()}
	cmd := exec.Command("node", filepath.Join(root, "peer.mjs"), "serve")
	cmd.Dir = p.dir
	p.peer = sitetest.StartPeer(t, "OpenPGP.js", cmd)
	return p
}

// run runs one peer.mjs command on stdin and returns its output and report
// (packet versions), failing the test when it fails.
func (p *openpgpJS) run(t *testing.T, stdin []byte, args ...string) (out []byte, report string) {
	t.Helper()
	req, err := json.Marshal(struct {
		Args  []string `json:"args"`
		Stdin []byte   `json:"stdin"`
	}{args, stdin})
	if err != nil {
		t.Fatalf("OpenPGP.js %v: %v", args, err)
	}
	return p.peer.Call(t, args, append(req, '\n'))
}

func (p *openpgpJS) file(t *testing.T, name string) []byte {
	t.Helper()
	return mustRead(t, filepath.Join(p.dir, name))
}

func (p *openpgpJS) write(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ojsForm is a post one OpenPGP.js subscriber composes, and what the list
// must make of it.
type ojsForm struct {
	name string
	// compose returns the post's Content-* fields, blank line and body, and
	// the packet versions OpenPGP.js reports for its encryption ("" when
	// not encrypted).
	compose         func(t *testing.T, p *openpgpJS, author, list, mode string) (entity []byte, packets string)
	enc, verdict    string
	inline, encrypt bool
}

var ojsEntity = []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nThe plan is OJS-MARKER-4e21.\r\n")

var ojsForms = []ojsForm{
	{name: "PGP/MIME signed", enc: "none", verdict: "good",
		compose: func(t *testing.T, p *openpgpJS, author, _, _ string) ([]byte, string) {
			sig, _ := p.run(t, rawmime.Canonical(ojsEntity), "sign", author+".key")
			return []byte(pgpMultipartSigned(ojsEntity, sig)), ""
		}},
	{name: "PGP/MIME encrypted", enc: "pgp-mime", verdict: "none", encrypt: true,
		compose: func(t *testing.T, p *openpgpJS, _, list, mode string) ([]byte, string) {
			ct, packets := p.run(t, ojsEntity, "encrypt", list+".asc", "-", mode)
			return []byte(pgpMultipartEncrypted(ct)), packets
		}},
	{name: "PGP/MIME signed+encrypted", enc: "pgp-mime", verdict: "good", encrypt: true,
		compose: func(t *testing.T, p *openpgpJS, author, list, mode string) ([]byte, string) {
			ct, packets := p.run(t, rawmime.Canonical(ojsEntity), "encrypt", list+".asc", author+".key", mode)
			return []byte(pgpMultipartEncrypted(ct)), packets
		}},
	{name: "PGP/MIME layered", enc: "pgp-mime", verdict: "good", encrypt: true,
		compose: func(t *testing.T, p *openpgpJS, author, list, mode string) ([]byte, string) {
			// multipart/signed, then encrypted without a signature of its own.
			sig, _ := p.run(t, rawmime.Canonical(ojsEntity), "sign", author+".key")
			ct, packets := p.run(t, []byte(pgpMultipartSigned(ojsEntity, sig)), "encrypt", list+".asc", "-", mode)
			return []byte(pgpMultipartEncrypted(ct)), packets
		}},
	{name: "inline signed", enc: "none", verdict: "good", inline: true,
		compose: func(t *testing.T, p *openpgpJS, author, _, _ string) ([]byte, string) {
			armored, _ := p.run(t, []byte("The plan is OJS-MARKER-4e21.\r\n"), "inline-sign", author+".key")
			return append([]byte("Content-Type: text/plain\r\n\r\n"), armored...), ""
		}},
	{name: "inline signed+encrypted", enc: "pgp-inline", verdict: "good", inline: true, encrypt: true,
		compose: func(t *testing.T, p *openpgpJS, author, list, mode string) ([]byte, string) {
			armored, packets := p.run(t, []byte("The plan is OJS-MARKER-4e21.\r\n"), "encrypt", list+".asc", author+".key", mode)
			return append([]byte("Content-Type: text/plain\r\n\r\n"), armored...), packets
		}},
}

func pgpMultipartSigned(entity, sig []byte) string {
	return "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n" +
		"--sig\r\n" + string(entity) + "\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n" + string(sig) + "\r\n--sig--\r\n"
}

func pgpMultipartEncrypted(ct []byte) string {
	return "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\n" +
		"--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n" +
		"--enc\r\nContent-Type: application/octet-stream\r\n\r\n" + string(ct) + "\r\n--enc--\r\n"
}

// TestOpenPGPJSPeer: OpenPGP.js 6 subscribers, one with a v4 key (legacy
// Curve25519, SEIPDv1) and one with an RFC 9580 v6 key (Ed25519/X25519)
// that asks for SEIPDv2, post to a list whose key GnuPG made (v4) and to one
// whose key OpenPGP.js made (v6, AES-GCM preferred): PGP/MIME signed,
// encrypted, signed+encrypted and layered (multipart/signed inside the
// encryption), inline signed and signed+encrypted, the
// encrypted posts to the v6 list key in SEIPDv2 (GCM or OCB as the author
// asks). The list gets the expected encryption and verdict, distributes,
// and each subscriber's OpenPGP.js decrypts its copy, verifies the list's
// signature on it (v4 or v6), and verifies the author's signature kept
// inside. The copies for a v6 key that asks for SEIPDv2 are SEIPDv2 with a
// v6 key packet; a v6 key that does not gets SEIPDv1, as OpenPGP.js itself
// encrypts to it.
func TestOpenPGPJSPeer(t *testing.T) {
	p := newOpenPGPJS(t)
	p.run(t, nil, "gen", "v4", "ann@subs.test", "ann")
	p.run(t, nil, "gen", "v6", "bob@subs.test", "bob", "ocb")
	p.run(t, nil, "gen", "v6", "cat@subs.test", "cat") // v6, no SEIPDv2 feature
	p.run(t, nil, "gen", "v6", "team@lists.test", "list6", "gcm")
	gpgList := gnupg.New(t)
	gpgList.GenKey("team <team@lists.test>", "cv25519")
	p.write(t, "list4.asc", gpgList.ExportPublic("team@lists.test"))
	listKeys := map[string]*openpgp.Entity{
		"list4": readKey(t, gpgList.ExportSecret("team@lists.test")),
		"list6": readKey(t, p.file(t, "list6.key")),
	}
	if v := listKeys["list6"].PrimaryKey.Version; v != 6 {
		t.Fatalf("OpenPGP.js made a v%d list key", v)
	}
	// What each subscriber's copy must be: bob's v6 key asks for SEIPDv2;
	// cat's v6 key does not, and gets what OpenPGP.js itself sends it.
	wantCopy := map[string]string{"ann": "pkesk-v3 seipd-v1", "bob": "pkesk-v6 seipd-v2-ocb", "cat": "pkesk-v3 seipd-v1"}

	for _, list := range []string{"list4", "list6"} {
		for _, author := range []string{"ann", "bob"} {
			for _, f := range ojsForms {
				mode := ""
				if list == "list6" {
					mode = map[string]string{"ann": "gcm", "bob": "ocb"}[author]
				}
				t.Run(list+"/"+author+"/"+f.name, func(t *testing.T) {
					ojsPost(t, p, listKeys[list], list, author, mode, f, wantCopy)
				})
			}
		}
	}
}

// ojsPost sends one post through the runners and checks every copy.
func ojsPost(t *testing.T, p *openpgpJS, listKey *openpgp.Entity, list, author, mode string, f ojsForm, wantCopy map[string]string) {
	s := newTestSite(t)
	keys := &memKeys{list: openpgp.EntityList{listKey}, subs: map[string]*openpgp.Entity{}}
	for who := range wantCopy {
		keys.subs[who+"@subs.test"] = readKey(t, p.file(t, who+".asc"))
	}
	s.Keys = keys
	s.setList(t, map[string]string{"pgp_post_encrypt": "yes", "pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes"})

	entity, packets := f.compose(t, p, author, list, mode)
	if f.encrypt {
		// To the v6 list key (which advertises SEIPDv2) OpenPGP.js writes
		// SEIPDv2 in the mode asked; to GnuPG's v4 key, SEIPDv1.
		want := "pkesk-v3 seipd-v1"
		if list == "list6" {
			want = "pkesk-v6 seipd-v2-" + mode
		}
		if !strings.Contains(packets, want) {
			t.Fatalf("OpenPGP.js wrote %q, want %q", packets, want)
		}
	}
	from := author + "@subs.test"
	s.deliver(t, queue.SubPost, from, "From: "+author+" <"+from+">\r\nTo: team@lists.test\r\nSubject: Plan\r\nMessage-ID: <ojs@subs.test>\r\n"+string(entity))
	if m := s.judged(t); m.Encryption != f.enc || m.Verdict != f.verdict {
		t.Fatalf("the list judged the post %s/%s (%s), want %s/%s", m.Encryption, m.Verdict, m.VerdictReason, f.enc, f.verdict)
	}
	s.drain(t)
	s.noBad(t)
	if hits := grepTree(t, s.Config.StateDir, "OJS-MARKER"); f.encrypt && len(hits) != 0 {
		t.Fatalf("plaintext of the encrypted post on disk: %v", hits)
	}
	listCert := list + ".asc"
	for who := range wantCopy {
		box := s.mailbox(t, who+"@subs.test")
		if len(box) != 1 {
			t.Fatalf("%s received %d messages", who, len(box))
		}
		if bytes.Contains(box[0], []byte("OJS-MARKER")) {
			t.Fatalf("%s's copy is in clear:\n%s", who, box[0])
		}
		// OpenPGP.js decrypts the copy and fails unless the list's
		// signature on it verifies.
		plain, report := p.run(t, armoredPart(t, box[0]), "decrypt", who+".key", listCert)
		if !strings.Contains(report, wantCopy[who]) {
			t.Errorf("%s's copy is %q, want %q", who, report, wantCopy[who])
		}
		// An inline-signed text stays armored: its text is checked with
		// the author's signature below.
		if !bytes.Contains(plain, []byte("OJS-MARKER-4e21")) && !(f.inline && !f.encrypt) {
			t.Fatalf("%s's copy reads:\n%s", who, plain)
		}
		if f.verdict == "good" {
			ojsAuthorSignature(t, p, who, author, plain, f.inline)
		}
	}
}

// ojsAuthorSignature checks with OpenPGP.js that the author's signature is
// kept in a decrypted copy: a multipart/signed entity, or an inline-signed
// text.
func ojsAuthorSignature(t *testing.T, p *openpgpJS, who, author string, plain []byte, inline bool) {
	t.Helper()
	ent, err := rawmime.Parse(plain)
	if err != nil {
		t.Fatal(err)
	}
	if inline {
		// An inline signature travels as a clear-signed text when the
		// text allows it, else as the signed OpenPGP message.
		cmd, i := "verify-clear", bytes.Index(ent.Body, []byte("-----BEGIN PGP SIGNED MESSAGE-----"))
		if i < 0 {
			cmd, i = "verify-inline", bytes.Index(ent.Body, []byte("-----BEGIN PGP MESSAGE-----"))
		}
		if i < 0 {
			t.Fatalf("%s: the author's inline signature was dropped:\n%s", who, plain)
		}
		out, _ := p.run(t, ent.Body[i:], cmd, author+".asc")
		if !bytes.Contains(out, []byte("OJS-MARKER-4e21")) {
			t.Fatalf("%s: the author's inline-signed text reads %q", who, out)
		}
		return
	}
	mt, params, err := ent.MediaType()
	if err != nil || mt != "multipart/signed" {
		t.Fatalf("%s: the author's signature was dropped (%s %v):\n%s", who, mt, err, plain)
	}
	parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
	if err != nil || len(parts) != 2 {
		t.Fatalf("%s: signed parts: %v", who, err)
	}
	sig, err := rawmime.Parse(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, "sig.asc", sig.Body)
	p.run(t, rawmime.Canonical(parts[0]), "verify", author+".asc", "sig.asc")
}

// TestRFC9580SampleThroughTheList: a list whose key is RFC 9580's sample v6
// secret key (A.4; no user ID), imported into the site's keyring, takes the
// RFC's sample message encrypted to it (A.8: X25519 v6 key packet, SEIPDv2 AES-128-OCB) as an encrypted
// inline post, and distributes "Hello, world!" to OpenPGP.js subscribers
// (v4 and v6 keys): each decrypts its copy and verifies the list's v6
// signature with the RFC's sample certificate (A.3).
func TestRFC9580SampleThroughTheList(t *testing.T) {
	p := newOpenPGPJS(t)
	p.run(t, nil, "gen", "v4", "ann@subs.test", "ann")
	p.run(t, nil, "gen", "v6", "bob@subs.test", "bob", "ocb")
	sample := func(name string) []byte { return mustRead(t, filepath.Join("..", "testdata", "rfc9580", name)) }
	s := newTestSite(t)
	// The site's own keyring: the sample key imported as the list's key,
	// the subscribers' keys added by the owner.
	k := s.useKeyring(t)
	if _, err := k.ImportOpenPGPSecret("team@lists.test", sample("a4-v6-secret-key.asc"), nil); err != nil {
		t.Fatalf("import the sample v6 key as the list's key: %v", err)
	}
	for _, who := range []string{"ann", "bob"} {
		if _, err := k.AddOpenPGP(who+"@subs.test", p.file(t, who+".asc"), true); err != nil {
			t.Fatal(err)
		}
	}
	// What subscribers get from the list (LIST-sendkey) is the sample
	// certificate.
	exported, err := k.ExportOpenPGP("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readKey(t, exported), readKey(t, sample("a3-v6-certificate.asc")); !bytes.Equal(got.PrimaryKey.Fingerprint, want.PrimaryKey.Fingerprint) {
		t.Fatalf("the list exports %X, not the sample key", got.PrimaryKey.Fingerprint)
	}
	p.write(t, "list.asc", sample("a3-v6-certificate.asc"))
	s.setList(t, map[string]string{"pgp_post_encrypt": "yes", "pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes"})
	s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\r\nTo: team@lists.test\r\nSubject: Sample\r\nContent-Type: text/plain\r\n\r\n"+string(sample("a8-x25519-aead-ocb.asc")))
	if m := s.judged(t); m.Encryption != "pgp-inline" || m.Verdict != "none" {
		t.Fatalf("the list judged the sample %s/%s (%s), want pgp-inline/none", m.Encryption, m.Verdict, m.VerdictReason)
	}
	s.drain(t)
	if hits := grepTree(t, s.Config.StateDir, "Hello, world!"); len(hits) != 0 {
		t.Fatalf("plaintext of the encrypted sample on disk: %v", hits)
	}
	for _, who := range []string{"ann", "bob"} {
		box := s.mailbox(t, who+"@subs.test")
		if len(box) != 1 {
			t.Fatalf("%s received %d messages", who, len(box))
		}
		plain, _ := p.run(t, armoredPart(t, box[0]), "decrypt", who+".key", "list.asc")
		if !bytes.Contains(plain, []byte("Hello, world!")) {
			t.Fatalf("%s's copy reads:\n%s", who, plain)
		}
	}
}

// TestOpenPGPJSBatch: with batch_size above 1, OpenPGP.js subscribers share
// one copy, with hidden key IDs and without: a batch mixing a v4 key and v6
// keys is SEIPDv1 with a v3 key packet each, a batch of v6 keys that all ask
// for SEIPDv2 is SEIPDv2 with a v6 key packet each; every subscriber's
// OpenPGP.js opens the copy and verifies the list's signature.
func TestOpenPGPJSBatch(t *testing.T) {
	p := newOpenPGPJS(t)
	p.run(t, nil, "gen", "v4", "ann@subs.test", "ann")
	p.run(t, nil, "gen", "v6", "bob@subs.test", "bob", "ocb")
	p.run(t, nil, "gen", "v6", "cat@subs.test", "cat")
	p.run(t, nil, "gen", "v6", "dan@subs.test", "dan", "ocb")
	gpgList := gnupg.New(t)
	gpgList.GenKey("team <team@lists.test>", "cv25519")
	p.write(t, "list.asc", gpgList.ExportPublic("team@lists.test"))
	listKey := readKey(t, gpgList.ExportSecret("team@lists.test"))
	for _, tt := range []struct {
		name    string
		keys    []string
		packets string
	}{
		{"v4 and v6 keys", []string{"ann", "bob", "cat"}, "pkesk-v3 pkesk-v3 pkesk-v3 seipd-v1"},
		{"v6 keys asking for SEIPDv2", []string{"bob", "dan"}, "pkesk-v6 pkesk-v6 seipd-v2-ocb"},
	} {
		for _, hidden := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/hidden=%v", tt.name, hidden), func(t *testing.T) {
				s := newTestSite(t)
				addMember(t, s, "dan@subs.test")
				keys := &memKeys{list: openpgp.EntityList{listKey}, subs: map[string]*openpgp.Entity{}}
				for _, who := range tt.keys {
					keys.subs[who+"@subs.test"] = readKey(t, p.file(t, who+".asc"))
				}
				s.Keys = keys
				s.setList(t, map[string]string{"pgp_post_encrypt": "yes", "pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes",
					"batch_size": "10", "hidden_recipients": fmt.Sprint(map[bool]string{true: "yes", false: "no"}[hidden])})
				ct, _ := p.run(t, ojsEntity, "encrypt", "list.asc", "-")
				s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\r\nTo: team@lists.test\r\nSubject: Batch\r\n"+pgpMultipartEncrypted(ct))
				s.drain(t)
				if r := s.badReasons(t); len(r) != 0 {
					t.Fatalf("bad: %q", r)
				}
				var first []byte
				for _, who := range tt.keys {
					box := s.mailbox(t, who+"@subs.test")
					if len(box) != 1 {
						t.Fatalf("%s received %d messages", who, len(box))
					}
					part := armoredPart(t, box[0])
					if first == nil {
						first = part
					} else if !bytes.Equal(first, part) {
						t.Fatalf("%s did not get the one batch copy", who)
					}
					want := tt.packets
					if hidden {
						want = strings.ReplaceAll(want, "pkesk-v3", "pkesk-v3-anon")
						want = strings.ReplaceAll(want, "pkesk-v6", "pkesk-v6-anon")
					}
					plain, report := p.run(t, part, "decrypt", who+".key", "list.asc")
					if !strings.Contains(report, "packets: "+want+"\n") || !bytes.Contains(plain, []byte("OJS-MARKER-4e21")) {
						t.Fatalf("%s's batch copy: %q, want %q; reads:\n%s", who, report, want, plain)
					}
				}
			})
		}
	}
}
