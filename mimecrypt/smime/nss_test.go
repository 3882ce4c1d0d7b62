package smime

// NSS, the S/MIME engine of Thunderbird, as a peer, through its command-line
// tools (Debian's libnss3-tools): certutil and pk12util make a certificate
// database per test, holding the test CA (trusted for S/MIME) and a member's
// key imported from PKCS #12; cmsutil decodes (decrypts, verifies), signs
// and envelopes CMS.
//
//	list:   Sign -> Seal(aes256-cbc | aes256-gcm) -> For(member) --base64 DER--> cmsutil -D (member's key)
//	        multipart/signed's detached signature                 --DER + content--> cmsutil -D -c (CA trusted)
//	member: cmsutil -S (member's key) -> MIME -> cmsutil -E -r list --application/pkcs7-mime--> Open (list's key)
//
// Measured with NSS 3.87 (Debian 12), against which these tests were written:
//   - it reads EnvelopedData (AES-CBC) with RSA PKCS #1 v1.5 key transport,
//     and verifies the list's multipart/signed signature;
//   - it signs with RSA and ECDSA keys (SHA-256) and envelopes to the list's
//     RSA certificate with AES-128-CBC (its choice for a recipient whose
//     S/MIME capabilities it has not seen);
//   - it reads no AuthEnvelopedData (RFC 5083, the list's aes256-gcm):
//     "SEC_ERROR_UNRECOGNIZED_OID", for openssl's as for ours;
//   - it reads no KeyAgreeRecipientInfo (ECDH, what EC members get):
//     "SEC_ERROR_BAD_DER", for openssl's as for ours, and it cannot
//     envelope to an EC certificate ("SEC_ERROR_INVALID_ALGORITHM"). ECDH
//     in CMS came with NSS 3.100 (Mozilla bug 676118); the envelopes it
//     writes since (NULL key-wrap parameters) are read by package cms,
//     TestKeyAgreeWrapParamsAsSent.
//
// So TestNSSReadsListCopies holds each envelope of ours to what NSS does
// with openssl's envelope of the same kind: NSS must read ours wherever it
// reads openssl's, and refuse ours with the same error where it refuses
// openssl's, except the list's default to RSA members (aes256-cbc), which
// it must read. On an NSS with ECDH, the EC cases become full readings.
//
// pk12util imports the PKCS #12 that openssl 3.0 writes by default (PBES2,
// PBKDF2, AES-256-CBC, HMAC-SHA-256) with the empty password (80 fresh
// bundles of 80, RSA and EC); -legacy bundles import too. The tests name the
// algorithms anyway.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
	"cloister/mimecrypt/cms"
)

// nssTool returns the path of one of NSS's command-line tools or fails the test.
func nssTool(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s (NSS tools) is needed for this test: run test/setup.sh (apt-get install -y libnss3-tools): %v", name, err)
	}
	return bin
}

// nssDB is a temporary NSS certificate and key database.
type nssDB struct {
	t   testing.TB
	dir string // the directory, which also holds the tests' input files
	db  string // "sql:" + dir, for -d
	n   int    // files written
}

// newNSSDB makes a database holding the test CA, trusted for S/MIME, the
// certificates and keys of the members named in keys (imported from PKCS
// #12 under their names) and the certificates named in certs.
func newNSSDB(t testing.TB, p *testPKI, keys, certs []string) *nssDB {
	t.Helper()
	for _, tool := range []string{"certutil", "pk12util", "cmsutil"} {
		nssTool(t, tool)
	}
	dir := t.TempDir()
	d := &nssDB{t: t, dir: dir, db: "sql:" + dir}
	d.must("certutil", "-N", "-d", d.db, "--empty-password")
	d.must("certutil", "-A", "-d", d.db, "-n", "ca", "-t", "C,C,C", "-i", p.ca.certFile)
	for _, name := range keys {
		m := p.m[name]
		p12 := filepath.Join(dir, name+".p12")
		mustOpenSSL(t, nil, "pkcs12", "-export", "-keypbe", "AES-256-CBC", "-certpbe", "AES-256-CBC",
			"-passout", "pass:", "-name", name, "-in", m.certFile, "-inkey", m.keyFile, "-out", p12)
		d.must("pk12util", "-i", p12, "-d", d.db, "-W", "")
	}
	for _, name := range certs {
		d.must("certutil", "-A", "-d", d.db, "-n", name, "-t", ",,", "-i", p.m[name].certFile)
	}
	return d
}

// file writes data to a new file in the database's directory.
func (d *nssDB) file(data []byte) string {
	d.t.Helper()
	d.n++
	f := filepath.Join(d.dir, fmt.Sprintf("in%d", d.n))
	if err := os.WriteFile(f, data, 0o600); err != nil {
		d.t.Fatal(err)
	}
	return f
}

// run runs an NSS tool and returns its standard output, or an error that
// carries its standard error.
func (d *nssDB) run(tool string, args ...string) ([]byte, error) {
	d.t.Helper()
	cmd := exec.Command(nssTool(d.t, tool), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (d *nssDB) must(tool string, args ...string) []byte {
	d.t.Helper()
	out, err := d.run(tool, args...)
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// decode runs cmsutil -D on a DER CMS object and returns the content.
func (d *nssDB) decode(der []byte) ([]byte, error) {
	d.t.Helper()
	return d.run("cmsutil", "-D", "-d", d.db, "-i", d.file(der))
}

var (
	nssErrorRE     = regexp.MustCompile(`SEC_ERROR_[A-Z0-9_]+`)
	nssErrorLineRE = regexp.MustCompile(`SEC_ERROR_[A-Z0-9_]+[^\n]*`)
	nssSignerRE    = regexp.MustCompile(`signer0\.id="([^"]*)"; signer0\.status=([A-Za-z]+);`)
)

// nssError names the NSS error in a failed run ("" if none is named).
func nssError(err error) string {
	if err == nil {
		return ""
	}
	return nssErrorRE.FindString(err.Error())
}

// verifyDetached has cmsutil verify a detached signature over content and
// returns the signer's nickname or address. cmsutil exits 0 whatever the
// signature's status: the status line is what tells.
func (d *nssDB) verifyDetached(sig, content []byte) string {
	d.t.Helper()
	out := d.must("cmsutil", "-D", "-d", d.db, "-n", "-h", "1", "-c", d.file(content), "-i", d.file(sig))
	if !bytes.Contains(out, []byte("nsigners=1;")) {
		d.t.Fatalf("cmsutil: not one signer:\n%s", out)
	}
	m := nssSignerRE.FindSubmatch(out)
	if m == nil || string(m[2]) != "GoodSignature" {
		d.t.Fatalf("cmsutil does not find the signature good:\n%s", out)
	}
	return string(m[1])
}

// envelopeDER returns the DER of an application/pkcs7-mime entity.
func envelopeDER(t testing.TB, entity []byte) []byte {
	t.Helper()
	e, err := rawmime.Parse(entity)
	if err != nil {
		t.Fatal(err)
	}
	der, err := decodeBody(e)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestNSSReadsListCopies has NSS decrypt, with the member's key, the copy
// of a post the list sends to the member (signed by the list, then sealed
// as the outgoing runner does), and verify the list's signature.
func TestNSSReadsListCopies(t *testing.T) {
	testdirs.Slow(t, "runs NSS certutil and cmsutil")
	p := thePKI(t)
	list := p.m["list"]
	for _, mc := range []struct{ name, key string }{{"alice", "RSA-2048"}, {"erin", "EC P-256"}} {
		for _, cc := range []struct {
			name    string
			cipher  cms.Cipher
			openssl []string // openssl cms -encrypt's options for the same kind of envelope
		}{
			{"aes256-cbc", cms.AES256CBC, []string{"-aes256"}},
			{"aes256-gcm", cms.AES256GCM, []string{"-aes-256-gcm"}},
		} {
			t.Run(mc.key+"/"+cc.name, func(t *testing.T) {
				m := p.m[mc.name]
				// What a list sends by default, to the members most have.
				mustRead := mc.name == "alice" && cc.cipher == cms.AES256CBC
				d := newNSSDB(t, p, []string{mc.name}, nil)
				inner, err := Sign([]byte(postEntity), list.cert, list.key, nil)
				if err != nil {
					t.Fatal(err)
				}
				sealed, err := Seal(inner, SealOptions{Cipher: cc.cipher})
				if err != nil {
					t.Fatal(err)
				}
				entity, err := sealed.For(m.cert)
				if err != nil {
					t.Fatal(err)
				}
				got, oursErr := d.decode(envelopeDER(t, entity))

				// openssl's envelope of the same kind, to the same member.
				args := append([]string{"cms", "-encrypt", "-binary", "-outform", "DER"}, cc.openssl...)
				args = append(args, "-recip", m.certFile)
				if mc.name == "erin" {
					args = append(args, "-keyopt", "ecdh_kdf_md:sha256") // as ours
				}
				_, refErr := d.decode(mustOpenSSL(t, rawmime.Canonical(inner), args...))

				switch {
				case oursErr != nil && refErr == nil:
					t.Fatalf("NSS reads openssl's %s envelope to a %s key but not ours: %v", cc.name, mc.key, oursErr)
				case oursErr != nil && mustRead:
					t.Fatalf("NSS cannot read what the list sends by default: %v", oursErr)
				case oursErr != nil && nssError(oursErr) != nssError(refErr):
					t.Fatalf("NSS refuses our envelope with %q, openssl's with %q:\nours: %v\nopenssl's: %v",
						nssError(oursErr), nssError(refErr), oursErr, refErr)
				case oursErr != nil:
					// NSS's limit, not ours: it refuses openssl's the same way.
					t.Logf("NSS reads neither ours nor openssl's %s envelope to a %s key: %s",
						cc.name, mc.key, nssErrorLineRE.FindString(oursErr.Error()))
					return
				case refErr != nil:
					t.Logf("NSS reads ours but not openssl's %s envelope to a %s key: %v", cc.name, mc.key, refErr)
				}
				if !bytes.Equal(got, rawmime.Canonical(inner)) {
					t.Fatalf("NSS decrypted something else:\n%q\nwant\n%q", got, rawmime.Canonical(inner))
				}

				// The list's signature: cmsutil on the detached signature
				// and the canonical signed part, with only the CA trusted.
				top, err := rawmime.Parse(got)
				if err != nil {
					t.Fatal(err)
				}
				_, params, err := top.MediaType()
				if err != nil {
					t.Fatal(err)
				}
				parts, err := rawmime.SplitMultipart(top.Body, params["boundary"], 3)
				if err != nil || len(parts) != 2 {
					t.Fatalf("split the list's multipart/signed: %v (%d parts)", err, len(parts))
				}
				signer := d.verifyDetached(envelopeDER(t, parts[1]), rawmime.Canonical(parts[0]))
				if !strings.Contains(string(parts[0]), "Hello list, this is a signed post.") {
					t.Fatalf("signed part: %q", parts[0])
				}
				t.Logf("NSS read it; signature by %q good", signer)
			})
		}
	}
}

// clientEnvelope puts the header fields of a message from the member above
// an application/pkcs7-mime enveloped-data entity carrying der, as an
// S/MIME client sends it.
func clientEnvelope(from string, der []byte) []byte {
	entity := "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7m\"\r\n" +
		"Content-Description: S/MIME Encrypted Message\r\n\r\n" + string(base64Lines(der))
	return withHeader(from, []byte(entity))
}

// TestNSSWritesToList has NSS sign a post with the member's key (as
// Thunderbird does, multipart/signed with a detached signature, and as
// opaque signed-data), then envelope it to the list's certificate; Open
// decrypts it with the list's key and finds the signature good.
func TestNSSWritesToList(t *testing.T) {
	testdirs.Slow(t, "runs NSS certutil and cmsutil")
	p := thePKI(t)
	list := p.m["list"]
	for _, mc := range []struct{ name, key string }{{"alice", "RSA-2048"}, {"erin", "EC P-256"}} {
		for _, shape := range []string{"multipart/signed", "opaque signed-data"} {
			t.Run(mc.key+"/"+shape, func(t *testing.T) {
				d := newNSSDB(t, p, []string{mc.name}, []string{"list"})
				entity := rawmime.Canonical([]byte(postEntity))
				// -G signingTime, -P SMIMECapabilities, as Thunderbird's signatures carry.
				sign := []string{"-S", "-G", "-P", "-N", mc.name, "-d", d.db, "-p", "", "-i", d.file(entity)}
				var signed string
				if shape == "multipart/signed" {
					sig := d.must("cmsutil", append(sign, "-T")...)
					signed = "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n" +
						" boundary=\"------------ms0A1B2C3D\"\r\n\r\nThis is a cryptographically signed message in MIME format.\r\n\r\n" +
						"--------------ms0A1B2C3D\r\n" + string(entity) + "\r\n--------------ms0A1B2C3D\r\n" +
						"Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n" +
						"Content-Disposition: attachment; filename=\"smime.p7s\"\r\nContent-Description: S/MIME Cryptographic Signature\r\n\r\n" +
						string(base64Lines(sig)) + "\r\n--------------ms0A1B2C3D--\r\n"
				} else {
					sd := d.must("cmsutil", sign...)
					signed = "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=\"smime.p7m\"\r\n" +
						"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n" +
						string(base64Lines(sd))
				}
				env := d.must("cmsutil", "-E", "-r", "list", "-d", d.db, "-i", d.file([]byte(signed)))
				dec, err := cms.Decrypt(env, list.cert, list.key)
				if err != nil {
					t.Fatalf("cms.Decrypt of NSS's envelope: %v", err)
				}
				from := Addresses(p.m[mc.name].cert)[0]
				res, err := Open(clientEnvelope(from, env), listOptions(p))
				if err != nil {
					t.Fatalf("open: %v (%q)", err, res.Reason)
				}
				if res.Encryption != mimecrypt.EncSMIME || res.Verdict != mimecrypt.VerdictGood {
					t.Fatalf("got %s/%s (%q), want %s/%s", res.Encryption, res.Verdict, res.Reason, mimecrypt.EncSMIME, mimecrypt.VerdictGood)
				}
				if len(res.SignerAddresses) != 1 || res.SignerAddresses[0] != from ||
					!bytes.Contains(shown(res.Message), []byte("Hello list, this is a signed post.")) {
					t.Fatalf("signer %v, message:\n%s", res.SignerAddresses, res.Message)
				}
				t.Logf("NSS enveloped with %v; signature by %s good", dec.Cipher, from)
			})
		}
	}
}

// TestNSSEnvelopeForAnotherRecipient: a message NSS enveloped to another
// certificate than the list's does not open, with ErrNoKey and a reason
// that says so.
func TestNSSEnvelopeForAnotherRecipient(t *testing.T) {
	testdirs.Slow(t, "runs NSS certutil and cmsutil")
	p := thePKI(t)
	d := newNSSDB(t, p, []string{"alice"}, []string{"list"})
	env := d.must("cmsutil", "-E", "-r", "alice", "-d", d.db, "-i", d.file(rawmime.Canonical([]byte(postEntity))))
	res, err := Open(clientEnvelope("alice@example.test", env), listOptions(p))
	if !errors.Is(err, mimecrypt.ErrNoKey) {
		t.Fatalf("got %v, want ErrNoKey", err)
	}
	if res.Encryption != mimecrypt.EncSMIME || res.Verdict != mimecrypt.VerdictNone ||
		res.Reason != "the message is not encrypted to this list's certificate" {
		t.Fatalf("got %s/%s (%q)", res.Encryption, res.Verdict, res.Reason)
	}
	// The same envelope opens for its recipient: it is well made, only not for the list.
	got := d.must("cmsutil", "-D", "-d", d.db, "-i", d.file(env))
	if !bytes.Equal(got, rawmime.Canonical([]byte(postEntity))) {
		t.Fatalf("NSS decrypted its own envelope to %q", got)
	}
}
