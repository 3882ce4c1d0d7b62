package runners

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestProtectedFromMustBeTheSigner: ann, a member, signs with her own bound
// key a post whose outer From is her address but whose protected header
// fields (inside the signature, RFC 9788, as Thunderbird shows them) say
// From: bob. A reader whose client shows the protected From would see a
// list-relayed post by bob, authenticated by ann's signature. In every
// form (multipart/signed; multipart/signed inside the encryption; signed
// and encrypted in one OpenPGP message) the post must not be distributed as
// authenticated; the same post with a protected From naming ann still is.
// Through the runners with gpg.
func TestProtectedFromMustBeTheSigner(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	for _, form := range []string{"signed", "signed inside encrypted", "signed and encrypted"} {
		t.Run(form, func(t *testing.T) {
			s, _, homes := identitySite(t)
			ann := homes["ann@subs.test"]
			for _, c := range []struct {
				protectedFrom, marker string
				want                  bool
			}{
				{"Bob <bob@subs.test>", "ANN-AS-BOB-51c", false},
				{"Ann <ANN@subs.test>", "ANN-HERSELF-51c", true},
			} {
				header := fmt.Sprintf("From: ann@subs.test\nTo: team@lists.test\nSubject: ...\nDate: %s\nMessage-ID: <%d.%d@subs.test>\n",
					time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), mailSeq.Add(1))
				inner := []byte("Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\nFrom: " + c.protectedFrom +
					"\r\nTo: team@lists.test\r\nSubject: Budget\r\n\r\n" + c.marker + "\r\n")
				var mail []byte
				switch form {
				case "signed":
					mail = ann.PGPMIMESigned(header, inner, "ann@subs.test")
				case "signed inside encrypted":
					signed := ann.PGPMIMESigned("", inner, "ann@subs.test")
					mail = ann.PGPMIMEEncrypted(header, signed, false, "", "team@lists.test")
				default:
					mail = ann.PGPMIMEEncrypted(header, inner, true, "ann@subs.test", "team@lists.test")
				}
				s.deliver(t, queue.SubPost, "ann@subs.test", string(mail))
				s.drain(t)
				got := false
				for _, m := range s.mailbox(t, "bob@subs.test") {
					text := m
					if pt, _, err := homes["bob@subs.test"].Decrypt(m); err == nil {
						text = pt
					}
					got = got || bytes.Contains(text, []byte(c.marker))
				}
				if got != c.want {
					t.Errorf("protected From %q: bob received the post: %v, want %v; bad: %q", c.protectedFrom, got, c.want, s.badReasons(t))
				}
			}
		})
	}
}

// TestSMIMEProtectedFromMustBeTheSigner is TestProtectedFromMustBeTheSigner
// for S/MIME, with openssl, on a list whose posts need smime
// authentication: signed, and signed inside the encryption (AES-GCM).
func TestSMIMEProtectedFromMustBeTheSigner(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	p := newSMIMEParty(t)
	ann, bob := p.leaves["ann@subs.test"], p.leaves["bob@subs.test"]
	for _, encrypt := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypt), func(t *testing.T) {
			s := p.site(t, map[string]string{"send": "send.private_smime"})
			for _, c := range []struct {
				protectedFrom, marker string
				want                  bool
			}{
				{"Bob <bob@subs.test>", "ANN-AS-BOB-62d", false},
				{"Ann <ANN@subs.test>", "ANN-HERSELF-62d", true},
			} {
				inner := []byte("Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\nFrom: " + c.protectedFrom +
					"\r\nTo: team@lists.test\r\nSubject: Budget\r\n\r\n" + c.marker + "\r\n")
				body := p.ca.Run(inner, "cms", "-sign", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
				if encrypt {
					body = p.ca.Run(body, "cms", "-encrypt", "-aes-256-gcm", p.list.Cert)
				}
				s.deliver(t, queue.SubPost, "ann@subs.test", fmt.Sprintf("From: ann@subs.test\nTo: team@lists.test\nSubject: ...\n"+
					"Message-ID: <%d@subs.test>\n%s", mailSeq.Add(1), body))
				s.drain(t)
				got := false
				for _, m := range s.mailbox(t, "bob@subs.test") {
					text := m
					if pt, err := testca.Decrypt(m, bob); err == nil {
						text = pt
					}
					got = got || bytes.Contains(text, []byte(c.marker))
				}
				if got != c.want {
					t.Errorf("protected From %q: bob received the post: %v, want %v; bad: %q", c.protectedFrom, got, c.want, s.badReasons(t))
				}
			}
		})
	}
}
