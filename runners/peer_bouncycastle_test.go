package runners

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/internal/sitetest"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// bouncyCastle drives Bouncy Castle (Debian's jars) through
// test/peers/bouncycastle/Peer.java, compiled here with javac: one Java
// process per test serves its commands (Peer serve), in dir.
type bouncyCastle struct {
	dir  string
	peer *sitetest.Peer
}

// bcJars are Debian's Bouncy Castle jars (libbcprov-java, libbcpkix-java,
// libbcutil-java, libbcpg-java).
var bcJars = []string{"/usr/share/java/bcprov.jar", "/usr/share/java/bcpkix.jar", "/usr/share/java/bcutil.jar", "/usr/share/java/bcpg.jar"}

func newBouncyCastle(t *testing.T) *bouncyCastle {
	t.Helper()
	for _, tool := range []string{"javac", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for the Bouncy Castle peer (bash test/setup.sh installs default-jdk-headless): %v", tool, err)
		}
	}
	for _, j := range bcJars {
		if _, err := os.Stat(j); err != nil {
			t.Fatalf("Bouncy Castle is not installed (bash test/setup.sh installs it): %v", err)
		}
	}
	src, err := filepath.Abs(filepath.Join("..", "test", "peers", "bouncycastle", "Peer.java"))
	if err != nil {
		t.Fatal(err)
	}
	classes := t.TempDir()
	if out, err := exec.Command("javac", "-nowarn", "-cp", strings.Join(bcJars, ":"), "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("javac Peer.java: %v\n%s", err, out)
	}
	b := &bouncyCastle{dir: t.TempDir()}
	cmd := exec.Command("java", "-cp", strings.Join(append([]string{classes}, bcJars...), ":"), "Peer", "serve")
	cmd.Dir = b.dir
	b.peer = sitetest.StartPeer(t, "Bouncy Castle", cmd)
	return b
}

// run runs one Peer command and returns its standard output and report,
// failing the test when it fails.
func (b *bouncyCastle) run(t *testing.T, args ...string) ([]byte, string) {
	t.Helper()
	return b.peer.Call(t, args, []byte(strings.Join(args, "\t")+"\n"))
}

func (b *bouncyCastle) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(b.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *bouncyCastle) file(t *testing.T, name string) []byte {
	t.Helper()
	return mustRead(t, filepath.Join(b.dir, name))
}

// b64Lines is base64 in lines of 76 characters with CRLF, as mail carries it.
func b64Lines(der []byte) string {
	s := base64.StdEncoding.EncodeToString(der)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return out.String() + s + "\r\n"
}

// smimeBody decodes the base64 body of an application/pkcs7-mime (or
// pkcs7-signature) entity.
func smimeBody(t *testing.T, entity []byte) []byte {
	t.Helper()
	e, err := rawmime.Parse(entity)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(e.Body), nil)))
	if err != nil {
		t.Fatalf("not base64 CMS: %v\n%s", err, entity)
	}
	return der
}

// bcSMIMEForm is a post a Bouncy Castle client composes.
type bcSMIMEForm struct {
	name         string
	sign         string // "detached", "opaque" or "" (unsigned)
	encrypt      string // "cbc", "gcm" or "" (not encrypted)
	enc, verdict string // what the list must make of it
}

// TestBouncyCastleSMIMEPeer: Bouncy Castle clients with RSA (PKCS #1 v1.5
// and RSASSA-PSS), ECDSA P-256 and Ed25519 (RFC 8419) certificates sign
// posts detached and opaquely and encrypt them to the list (EnvelopedData
// AES-256-CBC with RSA PKCS #1 v1.5 or RSA-OAEP SHA-256 key transport,
// AuthEnvelopedData AES-256-GCM). The list gets the expected encryption and
// verdict and distributes; each member's Bouncy Castle decrypts its copy
// (RSA key transport, ECDH P-256 or X25519 key agreement; AES-256-CBC or,
// with smime_cipher aes256-gcm, AuthEnvelopedData), verifies the list's
// signature (which GnuTLS certtool verifies as well) and the author's
// signature kept inside. Bouncy Castle 1.72's
// CMS layer reads X25519 key agreement only when handed its own X25519
// agreement with the X9.63 KDF for the RFC 8418 OID (Peer.java x25519KDF):
// what it computes then is its own, so Xena's copy proves the list's
// RFC 8418 output against an independent implementation.
func TestBouncyCastleSMIMEPeer(t *testing.T) {
	testdirs.Slow(t, "runs BouncyCastle under java for every message")
	bc := newBouncyCastle(t)
	ca := testca.New(t)
	leaves := map[string]*testca.Leaf{
		"ann@subs.test": ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment"),
		"bob@subs.test": ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement"),
		// Xena's certificate has an X25519 key (RFC 8410): her copies use
		// ECDH X25519 key agreement (RFC 8418).
		"xena@subs.test": ca.Issue("xena@subs.test", "x25519", "keyAgreement"),
	}
	// Dora's Ed25519 certificate signs only: she gets no encrypted copy.
	signers := map[string]*testca.Leaf{"dora@subs.test": ca.Issue("dora@subs.test", "ed25519", "digitalSignature")}
	for addr, l := range leaves {
		signers[addr] = l
	}
	forms := []bcSMIMEForm{
		{"detached signed", "detached", "", "none", "good"},
		{"opaque signed", "opaque", "", "none", "good"},
		{"signed detached, enveloped CBC", "detached", "cbc", "smime", "good"},
		{"signed opaque, enveloped CBC", "opaque", "cbc", "smime", "good"},
		{"signed detached, enveloped CBC to RSA-OAEP", "detached", "cbc-oaep", "smime", "good"},
		{"signed detached, auth-enveloped GCM", "detached", "gcm", "smime", "good"},
		{"unsigned, auth-enveloped GCM", "", "gcm", "smime", "none"},
	}
	for _, author := range []struct{ name, addr, opt string }{
		{"RSA", "ann@subs.test", ""}, {"RSASSA-PSS", "ann@subs.test", "pss"}, {"ECDSA", "bob@subs.test", ""}, {"Ed25519", "dora@subs.test", ""},
	} {
		for _, f := range forms {
			if author.name != "RSA" && (f.sign == "" || f.encrypt == "cbc-oaep") {
				continue // the author's key does not matter to these
			}
			for _, cipher := range []string{"aes256-cbc", "aes256-gcm"} {
				if cipher == "aes256-gcm" && (f.encrypt == "" || author.name != "RSA") {
					continue // GCM copies are tried with the encrypted posts of one author
				}
				t.Run(author.name+"/"+f.name+"/copies "+cipher, func(t *testing.T) {
					bcSMIMEPost(t, bc, ca, leaves, signers[author.addr], author.opt, f, cipher)
				})
			}
		}
	}
}

func bcSMIMEPost(t *testing.T, bc *bouncyCastle, ca *testca.CA, leaves map[string]*testca.Leaf, author *testca.Leaf, opt string, f bcSMIMEForm, cipher string) {
	s, _, listLeaf := opaqueSMIMESite(t, ca, leaves, "xena@subs.test", "dora@subs.test")
	s.setList(t, map[string]string{"smime_cipher": cipher})
	const marker = "BC-SMIME-MARKER-93d0"
	from := author.Email
	entity := []byte("Content-Type: text/plain; charset=us-ascii\r\n\r\nThe plan is " + marker + ".\r\n")
	in := bc.write(t, "entity", entity)
	switch f.sign {
	case "detached":
		bc.run(t, "smime-sign", "detached", author.Cert, author.Key, in, "sig.der", opt)
		entity = []byte("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"bc-sig\"\r\n\r\n" +
			"--bc-sig\r\n" + string(entity) + "\r\n--bc-sig\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64Lines(bc.file(t, "sig.der")) + "--bc-sig--\r\n")
	case "opaque":
		bc.run(t, "smime-sign", "opaque", author.Cert, author.Key, in, "signed.der", opt)
		entity = []byte("Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64Lines(bc.file(t, "signed.der")))
	}
	if f.encrypt != "" {
		bc.run(t, "smime-encrypt", f.encrypt, listLeaf.Cert, bc.write(t, "inner", entity), "env.der")
		kind := "enveloped-data"
		if f.encrypt == "gcm" {
			kind = "authEnveloped-data"
		}
		entity = []byte("Content-Type: application/pkcs7-mime; smime-type=" + kind + "; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64Lines(bc.file(t, "env.der")))
	}
	s.deliver(t, queue.SubPost, from, "From: "+from+"\r\nTo: team@lists.test\r\nSubject: Plan\r\nMessage-ID: <bc@subs.test>\r\n"+string(entity))
	if m := s.judged(t); m.Encryption != f.enc || m.Verdict != f.verdict {
		t.Fatalf("the list judged the post %s/%s (%s), want %s/%s", m.Encryption, m.Verdict, m.VerdictReason, f.enc, f.verdict)
	}
	s.drain(t)
	s.noBad(t)
	if hits := grepTree(t, s.Config.StateDir, marker); f.encrypt != "" && len(hits) != 0 {
		t.Fatalf("plaintext of the encrypted post on disk: %v", hits)
	}
	wantCipher := map[string]string{"aes256-cbc": "enveloped-data 2.16.840.1.101.3.4.1.42", "aes256-gcm": "auth-enveloped-data 2.16.840.1.101.3.4.1.46"}[cipher]
	for addr, leaf := range leaves {
		box := s.mailbox(t, addr)
		if len(box) != 1 {
			t.Fatalf("%s received %d messages", addr, len(box))
		}
		plain, report := bc.run(t, "smime-decrypt", leaf.Cert, leaf.Key, bc.write(t, "copy.der", smimeBody(t, box[0])))
		if !strings.Contains(report, wantCipher) {
			t.Errorf("%s's copy: %q, want %q", addr, report, wantCipher)
		}
		signed := bcVerifySigned(t, bc, ca, addr, plain, "team@lists.test")
		certtoolVerifyList(t, ca, addr, plain)
		if f.verdict != "good" {
			if !bytes.Contains(signed, []byte(marker)) {
				t.Fatalf("%s's copy reads:\n%s", addr, signed)
			}
			continue
		}
		// The author's signature is kept inside the list's.
		if got := bcVerifySigned(t, bc, ca, addr, signed, from); !bytes.Contains(got, []byte(marker)) {
			t.Fatalf("%s: the author's signed text reads:\n%s", addr, got)
		}
	}
}

// bcVerifySigned has Bouncy Castle verify a signed entity (multipart/signed
// or opaque signed-data) as signed by signer's certificate from the CA and
// returns the entity it signs.
func bcVerifySigned(t *testing.T, bc *bouncyCastle, ca *testca.CA, who string, entity []byte, signer string) []byte {
	t.Helper()
	ent, err := rawmime.Parse(entity)
	if err != nil {
		t.Fatal(err)
	}
	mt, params, _ := ent.MediaType()
	var content []byte
	var report string
	switch mt {
	case "multipart/signed":
		parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
		if err != nil || len(parts) != 2 {
			t.Fatalf("%s: signed parts: %v", who, err)
		}
		content = parts[0]
		_, report = bc.run(t, "smime-verify", ca.Cert, bc.write(t, "v.der", smimeBody(t, parts[1])), bc.write(t, "v.content", rawmime.Canonical(parts[0])))
	case "application/pkcs7-mime":
		content, report = bc.run(t, "smime-verify", ca.Cert, bc.write(t, "v.der", smimeBody(t, entity)))
	default:
		t.Fatalf("%s: no signature by %s (%s):\n%s", who, signer, mt, entity)
	}
	if !strings.Contains(report, "signer: "+signer+" ") {
		t.Fatalf("%s: Bouncy Castle reports %q, want a signature by %s", who, report, signer)
	}
	return content
}

// certtoolVerifyList has GnuTLS certtool, another receiver's S/MIME
// engine, verify the list's detached signature on a decrypted copy against
// the CA for e-mail protection.
func certtoolVerifyList(t *testing.T, ca *testca.CA, who string, copyEntity []byte) {
	t.Helper()
	ent, err := rawmime.Parse(copyEntity)
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := ent.MediaType()
	parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
	if err != nil || len(parts) != 2 {
		t.Fatalf("%s: the list's signed parts: %v", who, err)
	}
	dir := t.TempDir()
	data, sig := filepath.Join(dir, "data"), filepath.Join(dir, "sig.der")
	os.WriteFile(data, rawmime.Canonical(parts[0]), 0o600)
	os.WriteFile(sig, smimeBody(t, parts[1]), 0o600)
	out, err := exec.Command("certtool", "--p7-verify", "--inder", "--infile", sig, "--load-data", data,
		"--load-ca-certificate", ca.Cert, "--verify-purpose", "1.3.6.1.5.5.7.3.4").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: certtool does not verify the list's signature on the copy: %v\n%s", who, err, out)
	}
}

// bcInlineText is the text of the inline posts: CRLF line endings, as a
// mail client hands it over.
const bcInlineText = "The plan is BC-PGP-MARKER-1f7c.\r\n"

// TestBouncyCastlePGPPeer: Bouncy Castle (bcpg) subscribers with their own
// keys (RSA-3072; Ed25519 with a Curve25519 subkey) send PGP/MIME signed, encrypted, signed+encrypted and
// layered (multipart/signed inside the encryption) posts (AES-256 with MDC,
// ZLIB), and inline signed and signed+encrypted ones, to a list with GnuPG's Curve25519 key. The list
// gets the expected encryption and verdict and distributes; each
// subscriber's Bouncy Castle decrypts its copy, verifies the list's
// signature on it and the author's signature kept inside.
func TestBouncyCastlePGPPeer(t *testing.T) {
	testdirs.Slow(t, "runs BouncyCastle under java for every message")
	bc := newBouncyCastle(t)
	// Ann's key is RSA-3072, Bob's Ed25519 with a Curve25519 subkey.
	bc.run(t, "pgp-gen", "ann@subs.test", "ann", "rsa")
	bc.run(t, "pgp-gen", "bob@subs.test", "bob", "25519")
	listHome := gnupg.New(t)
	listHome.GenKey("team <team@lists.test>", "cv25519")
	bc.write(t, "list.asc", listHome.ExportPublic("team@lists.test"))
	listKey := readKey(t, listHome.ExportSecret("team@lists.test"))
	entity := []byte("Content-Type: text/plain; charset=us-ascii\r\n\r\nThe plan is BC-PGP-MARKER-1f7c.\r\n")
	in := bc.write(t, "entity", rawmime.Canonical(entity))
	for _, f := range []struct {
		name, enc, verdict string
		compose            func() string
	}{
		{"PGP/MIME signed", "none", "good", func() string {
			sig, _ := bc.run(t, "pgp-sign", "ann.key", in)
			return pgpMultipartSigned(entity, sig)
		}},
		{"PGP/MIME encrypted", "pgp-mime", "none", func() string {
			ct, _ := bc.run(t, "pgp-encrypt", "list.asc", "-", in)
			return pgpMultipartEncrypted(ct)
		}},
		{"PGP/MIME signed+encrypted", "pgp-mime", "good", func() string {
			ct, _ := bc.run(t, "pgp-encrypt", "list.asc", "ann.key", in)
			return pgpMultipartEncrypted(ct)
		}},
		{"PGP/MIME layered", "pgp-mime", "good", func() string {
			sig, _ := bc.run(t, "pgp-sign", "ann.key", in)
			ct, _ := bc.run(t, "pgp-encrypt", "list.asc", "-", bc.write(t, "layered", []byte(pgpMultipartSigned(entity, sig))))
			return pgpMultipartEncrypted(ct)
		}},
		{"inline signed", "none", "good", func() string {
			armored, _ := bc.run(t, "pgp-inline-sign", "ann.key", bc.write(t, "text", []byte(bcInlineText)))
			return "Content-Type: text/plain\r\n\r\n" + string(armored)
		}},
		{"inline signed+encrypted", "pgp-inline", "good", func() string {
			armored, _ := bc.run(t, "pgp-encrypt", "list.asc", "ann.key", bc.write(t, "text", []byte(bcInlineText)))
			return "Content-Type: text/plain\r\n\r\n" + string(armored)
		}},
	} {
		inline := strings.HasPrefix(f.name, "inline")
		t.Run(f.name, func(t *testing.T) {
			s := newTestSite(t)
			keys := &memKeys{list: openpgp.EntityList{listKey}, subs: map[string]*openpgp.Entity{}}
			for _, who := range []string{"ann", "bob"} {
				keys.subs[who+"@subs.test"] = readKey(t, bc.file(t, who+".asc"))
			}
			s.Keys = keys
			s.setList(t, map[string]string{"pgp_post_encrypt": "yes", "pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes"})
			s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann <ann@subs.test>\r\nTo: team@lists.test\r\nSubject: Plan\r\nMessage-ID: <bcpgp@subs.test>\r\n"+f.compose())
			if m := s.judged(t); m.Encryption != f.enc || m.Verdict != f.verdict {
				t.Fatalf("the list judged the post %s/%s (%s), want %s/%s", m.Encryption, m.Verdict, m.VerdictReason, f.enc, f.verdict)
			}
			s.drain(t)
			s.noBad(t)
			for _, who := range []string{"ann", "bob"} {
				box := s.mailbox(t, who+"@subs.test")
				if len(box) != 1 {
					t.Fatalf("%s received %d messages", who, len(box))
				}
				// Bouncy Castle fails unless the list's signature verifies.
				plain, _ := bc.run(t, "pgp-decrypt", who+".key", "list.asc", bc.write(t, "copy.asc", armoredPart(t, box[0])))
				// An inline-signed text may stay armored: it is read below.
				if !bytes.Contains(plain, []byte("BC-PGP-MARKER-1f7c")) && !inline {
					t.Fatalf("%s's copy reads:\n%s", who, plain)
				}
				if f.verdict != "good" {
					continue
				}
				ent, err := rawmime.Parse(plain)
				if err != nil {
					t.Fatal(err)
				}
				if inline {
					// The author's inline signature travels clear-signed or as
					// the signed message; Bouncy Castle verifies either.
					i := bytes.Index(ent.Body, []byte("-----BEGIN PGP "))
					if i < 0 {
						t.Fatalf("%s: the author's inline signature was dropped:\n%s", who, plain)
					}
					text, _ := bc.run(t, "pgp-verify-inline", "ann.asc", bc.write(t, "inline.asc", ent.Body[i:]))
					if !bytes.Contains(text, []byte("BC-PGP-MARKER-1f7c")) {
						t.Fatalf("%s: the author's inline-signed text reads %q", who, text)
					}
					continue
				}
				mt, params, _ := ent.MediaType()
				parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
				if mt != "multipart/signed" || err != nil || len(parts) != 2 {
					t.Fatalf("%s: the author's signature was dropped (%s, %v):\n%s", who, mt, err, plain)
				}
				sig, err := rawmime.Parse(parts[1])
				if err != nil {
					t.Fatal(err)
				}
				bc.run(t, "pgp-verify", "ann.asc", bc.write(t, "sig.asc", sig.Body), bc.write(t, "signed", rawmime.Canonical(parts[0])))
			}
		})
	}
}
