package pgp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

const listAddr = "team@lists.example.test"

// postHeader is the header a client writes in front of its MIME entity.
func postHeader(from string) string {
	return "From: " + from + "\r\nTo: " + listAddr + "\r\nSubject: interop\r\nDate: " +
		time.Now().Format(time.RFC1123Z) + "\r\nMessage-ID: <x@subs.test>\r\nMIME-Version: 1.0\r\n"
}

const clientEntity = "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
	"Hello list,\r\n\r\nsent through GnuPG.\r\n"

// signedMIME makes an RFC 3156 multipart/signed entity around entity with a
// detached gpg signature by uid.
func signedMIME(g *gnupg, uid, entity string) string {
	return signedMIMEWith(g, uid, entity, "SHA256")
}

// signedMIMEWith is signedMIME with a chosen digest algorithm.
func signedMIMEWith(g *gnupg, uid, entity, digest string) string {
	sig := g.run([]byte(entity), "--armor", "--detach-sign", "--digest-algo", digest, "-u", uid)
	return "Content-Type: multipart/signed; micalg=pgp-" + strings.ToLower(digest) + "; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n" +
		"--sig\r\n" + entity + "\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n" + string(sig) + "\r\n--sig--\r\n"
}

// encryptedMIME makes an RFC 3156 multipart/encrypted entity holding entity
// encrypted by gpg to the list (and signed by uid when uid is not "").
func encryptedMIME(g *gnupg, uid, entity string) string {
	args := []string{"--armor", "--encrypt", "-r", listAddr}
	if uid != "" {
		args = append(args, "--sign", "-u", uid)
	}
	ct := g.run([]byte(entity), args...)
	return "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\n" +
		"--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n" +
		"--enc\r\nContent-Type: application/octet-stream\r\n\r\n" + string(ct) + "\r\n--enc--\r\n"
}

// armoredBlock returns the armored OpenPGP message inside a For entity.
func armoredBlock(t *testing.T, entity []byte) []byte {
	t.Helper()
	i := bytes.Index(entity, []byte("-----BEGIN PGP MESSAGE-----"))
	j := bytes.Index(entity, []byte("-----END PGP MESSAGE-----"))
	if i < 0 || j < i {
		t.Fatalf("no armored message in %q", entity)
	}
	return entity[i : j+len("-----END PGP MESSAGE-----\r\n")]
}

func TestGnuPGInterop(t *testing.T) {
	testdirs.Slow(t, "runs gpg for every message")
	list := newKey(t, listAddr, "curve25519", false)
	listID := fmt.Sprintf("%016X", list.PrimaryKey.KeyId)

	ann := newGnuPG(t)
	ann.genKey("Ann <ann@subs.test>", "cv25519", "0")
	ann.importKey(list)
	bob := newGnuPG(t)
	bob.genKey("Bob <bob@subs.test>", "rsa3072", "0")
	bob.importKey(list)
	annPub, bobPub := ann.export("ann@subs.test"), bob.export("bob@subs.test")
	senders := Bound{{Entity: annPub, Addresses: []string{"ann@subs.test"}}, {Entity: bobPub, Addresses: []string{"bob@subs.test"}}}
	annFrom, bobFrom := "Ann <ann@subs.test>", "Bob <bob@subs.test>"

	t.Run("incoming", func(t *testing.T) {
		inlineEnc := string(ann.run([]byte("Hello list, inline.\r\n"), "--armor", "--encrypt", "--sign", "-u", "ann@subs.test", "-r", listAddr))
		inlineSigned := string(ann.run([]byte("Hello list, clear-signed.\r\n"), "--clearsign", "-u", "ann@subs.test"))
		signed := signedMIME(ann, "ann@subs.test", clientEntity)
		tests := []struct {
			name    string
			msg     string
			senders Bound
			enc     mimecrypt.Encryption
			verdict mimecrypt.Verdict
		}{
			{"PGP/MIME signed", postHeader(annFrom) + signed, senders, mimecrypt.EncNone, mimecrypt.VerdictGood},
			{"PGP/MIME signed then encrypted", postHeader(annFrom) + encryptedMIME(ann, "", signed), senders, mimecrypt.EncPGPMIME, mimecrypt.VerdictGood},
			{"PGP/MIME combined sign+encrypt", postHeader(annFrom) + encryptedMIME(ann, "ann@subs.test", clientEntity), senders, mimecrypt.EncPGPMIME, mimecrypt.VerdictGood},
			{"PGP/MIME combined RSA sender", postHeader(bobFrom) + encryptedMIME(bob, "bob@subs.test", clientEntity), senders, mimecrypt.EncPGPMIME, mimecrypt.VerdictGood},
			{"PGP/MIME encrypted only", postHeader(annFrom) + encryptedMIME(ann, "", clientEntity), senders, mimecrypt.EncPGPMIME, mimecrypt.VerdictNone},
			{"inline signed+encrypted", postHeader(annFrom) + "Content-Type: text/plain\r\n\r\n" + inlineEnc, senders, mimecrypt.EncPGPInline, mimecrypt.VerdictGood},
			{"inline clear-signed", postHeader(annFrom) + "Content-Type: text/plain\r\n\r\n" + inlineSigned, senders, mimecrypt.EncNone, mimecrypt.VerdictGood},
			{"From not the signer", postHeader(bobFrom) + signed, senders, mimecrypt.EncNone, mimecrypt.VerdictSignerMismatch},
			{"two From fields", postHeader(annFrom) + "From: " + annFrom + "\r\n" + signed, senders, mimecrypt.EncNone, mimecrypt.VerdictSignerMismatch},
			{"unknown signer", postHeader(annFrom) + encryptedMIME(ann, "", signed), bound(bobPub, "bob@subs.test"), mimecrypt.EncPGPMIME, mimecrypt.VerdictUnknownKey},
			{"SHA-1 signature refused", postHeader(bobFrom) + signedMIMEWith(bob, "bob@subs.test", clientEntity, "SHA1"), senders, mimecrypt.EncNone, mimecrypt.VerdictBad},
			{"LF-only delivery", strings.ReplaceAll(postHeader(annFrom)+signed, "\r\n", "\n"), senders, mimecrypt.EncNone, mimecrypt.VerdictGood},
			{"LF-only delivery, signed then encrypted", strings.ReplaceAll(postHeader(annFrom)+encryptedMIME(ann, "", signed), "\r\n", "\n"), senders, mimecrypt.EncPGPMIME, mimecrypt.VerdictGood},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, err := Open([]byte(tt.msg), OpenOptions{ListKeys: openpgp.EntityList{list}, Senders: tt.senders})
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if res.Encryption != tt.enc || res.Verdict != tt.verdict {
					t.Fatalf("got %s/%s (%s), want %s/%s", res.Encryption, res.Verdict, res.Reason, tt.enc, tt.verdict)
				}
				if tt.verdict != mimecrypt.VerdictGood && tt.verdict != mimecrypt.VerdictNone && res.Reason == "" {
					t.Errorf("no reason for the sender")
				}
				if strings.HasPrefix(tt.name, "SHA-1") && !strings.Contains(res.Reason, "SHA-1") {
					t.Errorf("reason %q does not name SHA-1", res.Reason)
				}
				if tt.verdict == mimecrypt.VerdictGood && len(res.SignerAddresses) == 0 {
					t.Errorf("no signer address")
				}
				if tt.enc != mimecrypt.EncNone && !bytes.Contains(res.Message, []byte("Hello list")) {
					t.Errorf("opened message lacks the plaintext: %q", res.Message)
				}
				if lf := !strings.Contains(tt.msg, "\r\n"); lf && bytes.Contains(res.Message, []byte("\r\n")) {
					t.Errorf("LF-only message opened with CRLF in it")
				}
				// The sender's signature inside stays verifiable in the opened message.
				if strings.Contains(tt.name, "signed then encrypted") {
					again, err := Open(res.Message, OpenOptions{Senders: tt.senders})
					if err != nil || again.Verdict != tt.verdict {
						t.Errorf("opened message re-verified: %v %s (%s)", err, again.Verdict, again.Reason)
					}
				}
			})
		}
	})

	t.Run("signer states", func(t *testing.T) {
		g := newGnuPG(t)
		carol := g.genKey("Carol <carol@subs.test>", "cv25519", "0")
		g.genKey("Dave <dave@subs.test>", "cv25519", "1d")
		carolMsg := postHeader("carol@subs.test") + signedMIME(g, "carol@subs.test", clientEntity)
		daveMsg := postHeader("dave@subs.test") + signedMIME(g, "dave@subs.test", clientEntity)
		g.run(nil, "--quick-gen-key", "Erin <erin@subs.test>", "ed25519", "sign", "0")
		g.run(nil, "--quick-add-key", g.fingerprint("erin@subs.test"), "cv25519", "encr", "1d")
		g.revoke(carol)
		keyList := openpgp.EntityList{g.export("carol@subs.test"), g.export("dave@subs.test"), g.export("erin@subs.test")}
		keys := Bound{{Entity: keyList[0], Addresses: []string{"carol@subs.test"}}, {Entity: keyList[1], Addresses: []string{"dave@subs.test"}}, {Entity: keyList[2], Addresses: []string{"erin@subs.test"}}}
		for _, tt := range []struct {
			name string
			msg  string
			now  time.Time
			want mimecrypt.Verdict
		}{
			{"revoked", carolMsg, time.Now(), mimecrypt.VerdictRevoked},
			{"valid before expiry", daveMsg, time.Now(), mimecrypt.VerdictGood},
			{"expired", daveMsg, time.Now().Add(72 * time.Hour), mimecrypt.VerdictExpired},
		} {
			res, err := Open([]byte(tt.msg), OpenOptions{Senders: keys, Now: tt.now})
			if err != nil || res.Verdict != tt.want {
				t.Errorf("%s: %v %s (%s), want %s", tt.name, err, res.Verdict, res.Reason, tt.want)
			}
			if tt.want != mimecrypt.VerdictGood && res.Reason == "" {
				t.Errorf("%s: no reason", tt.name)
			}
		}
		// The same keys as subscribers: no copy for a revoked or expired key.
		later := time.Now().Add(72 * time.Hour)
		for _, tt := range []struct {
			key  *openpgp.Entity
			at   time.Time
			want string
		}{{keyList[0], time.Now(), "revoked"}, {keyList[1], later, "expired"}, {keyList[2], later, "no valid encryption subkey"}} {
			sealed, err := Seal([]byte(clientEntity), list, &packet.Config{Time: func() time.Time { return tt.at }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = sealed.For(tt.key)
			if !errors.Is(err, ErrNoEncryptionKey) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("For(%s key): err = %v", tt.want, err)
			}
		}
		if sealed, _ := Seal([]byte(clientEntity), list, nil); sealed != nil {
			for _, k := range keyList[1:] {
				if _, err := sealed.For(k); err != nil {
					t.Errorf("For(valid key): %v", err)
				}
			}
		}
	})

	t.Run("outgoing", func(t *testing.T) {
		// Three posts one byte apart: the armored data length takes every
		// value modulo 3 (GnuPG 2.2 needs base64 padding, see padForGnuPG).
		var sealed *Sealed
		var want []byte
		decryptAs := func(t *testing.T, g *gnupg, msg []byte) {
			t.Helper()
			out, status, err := g.exec(armoredBlock(t, msg), true, "--decrypt")
			if err != nil || !strings.Contains(status, "DECRYPTION_OKAY") || !strings.Contains(status, "GOODSIG "+listID) {
				t.Fatalf("gpg --decrypt: %v\nstatus:\n%s", err, status)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("gpg plaintext %q, want %q", out, want)
			}
		}
		for pad := 0; pad < 3; pad++ {
			post := []byte(postHeaderless + strings.Repeat("!", pad) + "\n")
			var err error
			if sealed, err = Seal(post, list, nil); err != nil {
				t.Fatal(err)
			}
			want = rawmime.Canonical(post)
			for _, sub := range []struct {
				name string
				g    *gnupg
				pub  *openpgp.Entity
			}{{"cv25519", ann, annPub}, {"rsa3072", bob, bobPub}} {
				t.Run(fmt.Sprintf("%s/%d", sub.name, pad), func(t *testing.T) {
					msg, err := sealed.For(sub.pub)
					if err != nil {
						t.Fatal(err)
					}
					decryptAs(t, sub.g, msg)
				})
			}
		}
		post := []byte(postHeaderless)
		t.Run("batch with hidden recipients", func(t *testing.T) {
			msg, err := sealed.For(annPub, bobPub)
			if err != nil {
				t.Fatal(err)
			}
			decryptAs(t, ann, msg)
			decryptAs(t, bob, msg)
		})
		t.Run("not for another subscriber", func(t *testing.T) {
			msg, err := sealed.For(annPub)
			if err != nil {
				t.Fatal(err)
			}
			if _, status, err := bob.exec(armoredBlock(t, msg), true, "--decrypt"); err == nil || strings.Contains(status, "DECRYPTION_OKAY") {
				t.Errorf("bob decrypted ann's copy:\n%s", status)
			}
		})
		t.Run("SignMIME verified by gpg", func(t *testing.T) {
			signed, err := SignMIME(post, list, nil)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := rawmime.Parse(signed)
			_, params, _ := e.MediaType()
			parts, err := rawmime.SplitMultipart(e.Body, params["boundary"], 2)
			if err != nil || len(parts) != 2 {
				t.Fatalf("split: %v", err)
			}
			sigPart, _ := rawmime.Parse(parts[1])
			dir := t.TempDir()
			data, sig := filepath.Join(dir, "data"), filepath.Join(dir, "sig.asc")
			os.WriteFile(data, parts[0], 0o600)
			os.WriteFile(sig, sigPart.Body, 0o600)
			if _, status, err := ann.exec(nil, true, "--verify", sig, data); err != nil || !strings.Contains(status, "GOODSIG "+listID) {
				t.Fatalf("gpg --verify: %v\n%s", err, status)
			}
		})
	})
}

const postHeaderless = "Content-Type: text/plain; charset=utf-8\n" +
	"Content-Transfer-Encoding: 8bit\n\n" +
	"Grüße an die Liste,\n\nthis post went out signed once and encrypted once.\n"
