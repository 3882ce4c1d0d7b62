package pgp

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

// peerClient is one OpenPGP implementation subscribers run, driven from
// the command line: it composes posts to the list and opens the copies the
// list sends it.
type peerClient struct {
	name string
	addr string
	dir  string
	pub  *openpgp.Entity
	// detachSign signs data (a MIME entity) detached, armored; nil when the
	// peer cannot.
	detachSign func(t *testing.T, data []byte) []byte
	// encrypt encrypts data to the list's certificate (list.asc in dir),
	// signed by the peer's key when sign is set.
	encrypt func(t *testing.T, data []byte, sign bool) []byte
	// inlineSign makes an inline-signed message; nil when the peer cannot.
	inlineSign func(t *testing.T, data []byte) []byte
	// open decrypts an armored copy from the list with the peer's key and
	// verifies the list's signature on it (list.asc), returning the
	// plaintext; it fails the test when either fails.
	open func(t *testing.T, armored []byte) []byte
}

func sopClient(t *testing.T, dir string) *peerClient {
	key := peerRun(t, dir, nil, "sqop", "generate-key", "<sop@subs.test>")
	writeFile(t, dir, "sop.key", key)
	c := &peerClient{name: "sqop", addr: "sop@subs.test", dir: dir, pub: readKey(t, peerRun(t, dir, key, "sqop", "extract-cert"))}
	c.detachSign = func(t *testing.T, data []byte) []byte { return peerRun(t, dir, data, "sqop", "sign", "sop.key") }
	c.encrypt = func(t *testing.T, data []byte, sign bool) []byte {
		args := []string{"encrypt"}
		if sign {
			args = append(args, "--sign-with", "sop.key")
		}
		return peerRun(t, dir, data, "sqop", append(args, "list.asc")...)
	}
	c.inlineSign = func(t *testing.T, data []byte) []byte { return peerRun(t, dir, data, "sqop", "inline-sign", "sop.key") }
	c.open = func(t *testing.T, armored []byte) []byte {
		os.Remove(filepath.Join(dir, "verifications"))
		out := peerRun(t, dir, armored, "sqop", "decrypt", "--verify-with", "list.asc", "--verifications-out", "verifications", "sop.key")
		if v := readFileT(t, dir, "verifications"); len(bytes.TrimSpace(v)) == 0 {
			t.Fatalf("sqop: no good list signature on the copy")
		}
		return out
	}
	return c
}

func sqClient(t *testing.T, dir string) *peerClient {
	peerRun(t, dir, nil, "sq", "key", "generate", "--userid", "<sq@subs.test>", "--export", "sq.key", "--rev-cert", "sq.rev")
	key := readFileT(t, dir, "sq.key")
	c := &peerClient{name: "sq", addr: "sq@subs.test", dir: dir, pub: readKey(t, peerRun(t, dir, key, "sq", "key", "extract-cert"))}
	c.detachSign = func(t *testing.T, data []byte) []byte {
		return peerRun(t, dir, data, "sq", "sign", "--detached", "--signer-key", "sq.key")
	}
	c.encrypt = func(t *testing.T, data []byte, sign bool) []byte {
		args := []string{"encrypt", "--recipient-cert", "list.asc"}
		if sign {
			args = append(args, "--signer-key", "sq.key")
		}
		return peerRun(t, dir, data, "sq", args...)
	}
	c.inlineSign = func(t *testing.T, data []byte) []byte {
		return peerRun(t, dir, data, "sq", "sign", "--signer-key", "sq.key")
	}
	c.open = func(t *testing.T, armored []byte) []byte {
		// With --signer-cert, sq decrypt fails unless a signature by it verifies.
		return peerRun(t, dir, armored, "sq", "decrypt", "--recipient-key", "sq.key", "--signer-cert", "list.asc")
	}
	return c
}

func rnpClient(t *testing.T, dir string) *peerClient {
	home := filepath.Join(dir, "rnp")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	peerRun(t, dir, nil, "rnpkeys", "--homedir", home, "--generate-key", "--userid", "rnp <rnp@subs.test>", "--password", "")
	peerRun(t, dir, nil, "rnpkeys", "--homedir", home, "--import", "list.asc")
	c := &peerClient{name: "rnp", addr: "rnp@subs.test", dir: dir,
		pub: readKey(t, peerRun(t, dir, nil, "rnpkeys", "--homedir", home, "--export-key", "rnp@subs.test"))}
	c.detachSign = func(t *testing.T, data []byte) []byte {
		writeFile(t, dir, "data", data)
		os.Remove(filepath.Join(dir, "data.asc"))
		peerRun(t, dir, nil, "rnp", "--homedir", home, "--password", "", "-u", "rnp@subs.test", "--sign", "--detach", "--armor", "data")
		return readFileT(t, dir, "data.asc")
	}
	c.encrypt = func(t *testing.T, data []byte, sign bool) []byte {
		args := []string{"--homedir", home, "--password", "", "-r", listAddr, "--encrypt", "--armor", "--output", "-"}
		if sign {
			args = append(args, "--sign", "-u", "rnp@subs.test")
		}
		return peerRun(t, dir, data, "rnp", args...)
	}
	c.inlineSign = func(t *testing.T, data []byte) []byte {
		return peerRun(t, dir, data, "rnp", "--homedir", home, "--password", "", "-u", "rnp@subs.test", "--sign", "--armor", "--output", "-")
	}
	c.open = func(t *testing.T, armored []byte) []byte {
		out, err := peerExecErr(dir, armored, "rnp", "--homedir", home, "--password", "", "--decrypt", "--output", "-")
		if err != nil || !strings.Contains(string(out.stdout)+string(out.stderr), "Good signature") {
			t.Fatalf("rnp: %v\n%s", err, out.stderr)
		}
		return out.stdout
	}
	return c
}

// pgpyScript decrypts argv[2] with the secret key argv[1] and prints the
// plaintext when the list certificate argv[3] verifies its signature.
const pgpyScript = `import sys, warnings
warnings.simplefilter("ignore")
import pgpy
key, _ = pgpy.PGPKey.from_file(sys.argv[1])
msg = pgpy.PGPMessage.from_file(sys.argv[2])
cert, _ = pgpy.PGPKey.from_file(sys.argv[3])
plain = key.decrypt(msg)
if not cert.verify(plain):
    sys.exit("the list's signature does not verify")
m = plain.message
sys.stdout.buffer.write(m if isinstance(m, (bytes, bytearray)) else m.encode())
`

// pgpyClient opens copies with PGPy, which needs the armor checksum. Its
// key is made here (PGPy generates keys slowly); PGPy 0.6 writes no posts
// the list would take from a real client, so it only receives.
func pgpyClient(t *testing.T, dir string) *peerClient {
	k := newKey(t, "pgpy@subs.test", "rsa3072", false)
	var sec bytes.Buffer
	w, _ := armor.Encode(&sec, "PGP PRIVATE KEY BLOCK", nil)
	if err := k.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	writeFile(t, dir, "pgpy.key", sec.Bytes())
	writeFile(t, dir, "open_copy.py", []byte(pgpyScript))
	c := &peerClient{name: "PGPy", addr: "pgpy@subs.test", dir: dir, pub: k}
	c.open = func(t *testing.T, armored []byte) []byte {
		writeFile(t, dir, "copy.asc", armored)
		return peerRun(t, dir, nil, "/usr/bin/python3", "open_copy.py", "pgpy.key", "copy.asc", "list.asc")
	}
	return c
}

// TestPeersInterop: each peer composes PGP/MIME signed, encrypted and
// signed+encrypted posts and an inline-signed one; the list gets the
// expected verdict, and the copy it distributes is opened by the peer,
// which verifies the list's signature on it and, where the author's
// signature was kept, the author's too.
func TestPeersInterop(t *testing.T) {
	testdirs.Slow(t, "runs rnp and sq for every message")
	list := newKey(t, listAddr, "curve25519", false)
	listCert := armoredPublic(t, list)
	entity := []byte("Content-Type: text/plain; charset=us-ascii\r\n\r\nHello list, from a peer.\r\n")
	for _, mk := range []func(*testing.T, string) *peerClient{sopClient, sqClient, rnpClient, pgpyClient} {
		dir := t.TempDir()
		writeFile(t, dir, "list.asc", listCert)
		c := mk(t, dir)
		t.Run(c.name, func(t *testing.T) {
			from := c.addr
			senders := Bound{{Entity: c.pub, Addresses: []string{c.addr}}}
			type form struct {
				name    string
				msg     []byte
				enc     mimecrypt.Encryption
				verdict mimecrypt.Verdict
			}
			var forms []form
			hdr := postHeader(from)
			if c.detachSign != nil {
				sig := c.detachSign(t, entity)
				forms = append(forms, form{"PGP/MIME signed", []byte(hdr + multipartSigned(entity, sig)), mimecrypt.EncNone, mimecrypt.VerdictGood})
			}
			if c.encrypt != nil {
				forms = append(forms,
					form{"PGP/MIME encrypted", []byte(hdr + multipartEncrypted(c.encrypt(t, entity, false))), mimecrypt.EncPGPMIME, mimecrypt.VerdictNone},
					form{"PGP/MIME signed+encrypted", []byte(hdr + multipartEncrypted(c.encrypt(t, entity, true))), mimecrypt.EncPGPMIME, mimecrypt.VerdictGood},
					form{"inline signed+encrypted", []byte(hdr + "Content-Type: text/plain\r\n\r\n" + string(c.encrypt(t, []byte("Hello list, inline.\r\n"), true))), mimecrypt.EncPGPInline, mimecrypt.VerdictGood})
			}
			if c.inlineSign != nil {
				forms = append(forms, form{"inline signed", []byte(hdr + "Content-Type: text/plain\r\n\r\n" + string(c.inlineSign(t, []byte("Hello list, inline-signed.\r\n")))), mimecrypt.EncNone, mimecrypt.VerdictGood})
			}
			if len(forms) == 0 {
				forms = append(forms, form{"list post", listMessage(entity), mimecrypt.EncNone, mimecrypt.VerdictNone})
			}
			for _, f := range forms {
				t.Run(f.name, func(t *testing.T) {
					res, err := Open(f.msg, OpenOptions{ListKeys: openpgp.EntityList{list}, Senders: senders})
					if err != nil {
						t.Fatalf("Open: %v (%s)", err, res.Reason)
					}
					if res.Encryption != f.enc || res.Verdict != f.verdict {
						t.Fatalf("got %s/%s (%s), want %s/%s", res.Encryption, res.Verdict, res.Reason, f.enc, f.verdict)
					}
					// Distribute: the opened entity, sealed for the peer.
					inner := innerEntity(t, res.Message)
					s, err := Seal(inner, list, &packet.Config{})
					if err != nil {
						t.Fatal(err)
					}
					copyMsg, err := s.For(c.pub)
					if err != nil {
						t.Fatal(err)
					}
					plain := c.open(t, armoredBlock(t, copyMsg))
					if !strings.HasPrefix(f.name, "inline signed") && !bytes.Contains(plain, []byte("Hello list")) {
						t.Fatalf("%s reads %q", c.name, plain)
					}
					// The author's signature travels inside the copy.
					if f.verdict == mimecrypt.VerdictGood {
						again, err := Open(append([]byte(hdr), plain...), OpenOptions{Senders: senders})
						if err != nil || again.Verdict != mimecrypt.VerdictGood {
							t.Errorf("the author's signature is not kept in the copy: %v %s (%s)", err, again.Verdict, again.Reason)
						}
					}
				})
			}
		})
	}
}

// innerEntity returns the Content-* fields and body of a message: what the
// list seals for its subscribers.
func innerEntity(t *testing.T, msg []byte) []byte {
	t.Helper()
	top, err := rawmime.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fs := top.Fields.Fields()
	for fs.Next() {
		if strings.HasPrefix(strings.ToLower(fs.Key()), "content-") {
			raw, _ := fs.Raw()
			b.Write(raw)
		}
	}
	b.WriteString("\r\n")
	b.Write(top.Body)
	return b.Bytes()
}

func multipartSigned(entity, sig []byte) string {
	return "Content-Type: multipart/signed; micalg=pgp-sha512; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n" +
		"--sig\r\n" + string(entity) + "\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n" + string(sig) + "\r\n--sig--\r\n"
}

func multipartEncrypted(ct []byte) string {
	return "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\n" +
		"--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n" +
		"--enc\r\nContent-Type: application/octet-stream\r\n\r\n" + string(ct) + "\r\n--enc--\r\n"
}
