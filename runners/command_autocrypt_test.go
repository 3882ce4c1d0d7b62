package runners

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// autocryptHeader is the Autocrypt header an Autocrypt client (Delta Chat)
// writes for addr and its armored public key, folded.
func autocryptHeader(t *testing.T, addr string, armored []byte) string {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(blk.Body)
	if err != nil {
		t.Fatal(err)
	}
	kd := base64.StdEncoding.EncodeToString(bin)
	var b strings.Builder
	b.WriteString("Autocrypt: addr=" + addr + "; prefer-encrypt=mutual; keydata=")
	for len(kd) > 0 {
		n := min(len(kd), 72)
		b.WriteString("\n " + kd[:n])
		kd = kd[n:]
	}
	return b.String() + "\n"
}

// TestCommandKeySetAutocrypt: a key offered only in the Autocrypt header of
// a key set mail (as Delta Chat sends it) gets the challenge encrypted to
// it, and is bound when the answer is signed with it. A header naming
// another address than the sender, or with an unknown critical attribute,
// is not taken.
func TestCommandKeySetAutocrypt(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	dan := homes["dan@else.test"]
	pub := dan.ExportPublic("dan@else.test")

	// Not taken: addr is not the sender's, or a critical attribute is unknown.
	for _, hdr := range []string{
		autocryptHeader(t, "other@else.test", pub),
		strings.Replace(autocryptHeader(t, "dan@else.test", pub), "prefer-encrypt=mutual", "future-critical=1", 1),
	} {
		s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n"+hdr+"\nkey set\n")
		s.drain(t)
		if r := lastMail(t, s, "dan@else.test"); strings.Contains(r, "Confirm: register") || !strings.Contains(r, "attach the public key") {
			t.Fatalf("header %q taken; reply:\n%s", hdr, r)
		}
	}

	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n"+autocryptHeader(t, "dan@else.test", pub)+"\nkey set\n")
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: register the OpenPGP key") {
			tok = tokenIn(t, decryptReply(t, dan, string(m)))
		}
	}
	if tok == "" {
		t.Fatalf("no challenge for the Autocrypt key; reply:\n%s", lastMail(t, s, "dan@else.test"))
	}
	signed := string(dan.PGPMIMESigned("From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n", []byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test"))
	s.deliverConfirm(t, tok, "dan@else.test", signed)
	s.drain(t)
	if _, ok := keys.subs["dan@else.test"]; !ok {
		t.Fatalf("the Autocrypt key was not registered; reply:\n%s", lastMail(t, s, "dan@else.test"))
	}
}
