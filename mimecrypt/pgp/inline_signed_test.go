package pgp

import (
	"bytes"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt"
)

// TestInlineSignedPeers checks that inline-signed posts (an armored PGP
// MESSAGE holding a one-pass signature and literal data, compressed or not)
// as GnuPG, sq and sqop write them get their signature verdict, and stay
// as they came, signature and all.
func TestInlineSignedPeers(t *testing.T) {
	text := []byte("Hello list, inline-signed.\n")
	ann := newGnuPG(t)
	ann.genKey("Ann <ann@subs.test>", "cv25519", "0")
	annPub := ann.export("ann@subs.test")

	dir := t.TempDir()
	peerRun(t, dir, nil, "sq", "key", "generate", "--userid", "<sq@subs.test>", "--export", "sq.key")
	sqKey := readFileT(t, dir, "sq.key")
	sqPub := readKey(t, peerRun(t, dir, sqKey, "sq", "key", "extract-cert"))
	sopKey := peerRun(t, dir, nil, "sqop", "generate-key", "<sop@subs.test>")
	writeFile(t, dir, "sop.key", sopKey)
	sopPub := readKey(t, peerRun(t, dir, sopKey, "sqop", "extract-cert"))

	senders := Bound{
		{Entity: annPub, Addresses: []string{"ann@subs.test"}},
		{Entity: sqPub, Addresses: []string{"sq@subs.test"}},
		{Entity: sopPub, Addresses: []string{"sop@subs.test"}},
	}
	tests := []struct {
		name, from string
		armored    []byte
		senders    Bound
		verdict    mimecrypt.Verdict
	}{
		{"gpg --sign -a", "ann@subs.test", ann.run(text, "--armor", "--sign", "-u", "ann@subs.test"), senders, mimecrypt.VerdictGood},
		{"gpg --sign -a uncompressed", "ann@subs.test", ann.run(text, "--armor", "--sign", "--compress-algo", "none", "-u", "ann@subs.test"), senders, mimecrypt.VerdictGood},
		{"gpg --sign -a --textmode", "ann@subs.test", ann.run(text, "--armor", "--sign", "--textmode", "-u", "ann@subs.test"), senders, mimecrypt.VerdictGood},
		{"sq sign", "sq@subs.test", peerRun(t, dir, text, "sq", "sign", "--signer-key", "sq.key"), senders, mimecrypt.VerdictGood},
		{"sqop inline-sign", "sop@subs.test", peerRun(t, dir, text, "sqop", "inline-sign", "sop.key"), senders, mimecrypt.VerdictGood},
		{"sqop inline-sign --as text", "sop@subs.test", peerRun(t, dir, text, "sqop", "inline-sign", "--as", "text", "sop.key"), senders, mimecrypt.VerdictGood},
		{"From not the signer", "sop@subs.test", peerRun(t, dir, text, "sq", "sign", "--signer-key", "sq.key"), senders, mimecrypt.VerdictSignerMismatch},
		{"unknown signer", "ann@subs.test", ann.run(text, "--armor", "--sign", "-u", "ann@subs.test"), Bound{senders[1]}, mimecrypt.VerdictUnknownKey},
	}
	// A tampered literal: flip one base64 character in the middle of the block.
	tampered := []byte(string(peerRun(t, dir, text, "sqop", "inline-sign", "--no-armor", "sop.key")))
	tampered[len(tampered)/2] ^= 0x01
	tests = append(tests, struct {
		name, from string
		armored    []byte
		senders    Bound
		verdict    mimecrypt.Verdict
	}{"tampered", "sop@subs.test", armorMessage(t, tampered), senders, mimecrypt.VerdictBad})

	list := newKey(t, listAddr, "curve25519", false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := []byte(postHeader(tt.from) + "Content-Type: text/plain\r\n\r\n" + string(tt.armored))
			res, err := Open(msg, OpenOptions{ListKeys: openpgp.EntityList{list}, Senders: tt.senders})
			if err != nil {
				t.Fatalf("Open: %v (%s)", err, res.Reason)
			}
			if res.Encryption != mimecrypt.EncNone || res.Verdict != tt.verdict {
				t.Fatalf("got %s/%s (%s), want none/%s", res.Encryption, res.Verdict, res.Reason, tt.verdict)
			}
			if tt.verdict == mimecrypt.VerdictGood && (res.SignatureID == "" || !strings.EqualFold(res.SignerAddresses[0], tt.from)) {
				t.Errorf("good verdict without signature ID or address: %q %v", res.SignatureID, res.SignerAddresses)
			}
			if !bytes.Equal(res.Message, msg) {
				t.Errorf("the inline-signed message was changed")
			}
		})
	}
}

// armorMessage armors binary OpenPGP data as a PGP MESSAGE.
func armorMessage(t testing.TB, bin []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armorEncode(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bin)
	w.Close()
	return b.Bytes()
}

// TestInlineEncryptedKeepsSignature checks that the sender's signature made
// inside an inline-PGP encryption survives the opening: the opened body is
// a clear-signed block (text-mode signature, text that clear-signing keeps)
// or the armored signed message (binary signature, or trailing whitespace),
// which gpg verifies as the sender's and Open judges good again.
func TestInlineEncryptedKeepsSignature(t *testing.T) {
	list := newKey(t, listAddr, "curve25519", false)
	ann := newGnuPG(t)
	ann.genKey("Ann <ann@subs.test>", "cv25519", "0")
	ann.importKey(list)
	senders := Bound{{Entity: ann.export("ann@subs.test"), Addresses: []string{"ann@subs.test"}}}
	tests := []struct {
		name, text string
		args       []string
		kept       string // the armor line that starts the kept block
	}{
		{"text mode", "Hello list,\n- a dashed line\n\nbye\n", []string{"--textmode"}, beginSigned},
		{"text mode, trailing space", "Hello list, \n", []string{"--textmode"}, beginMessage},
		{"binary", "Hello list, binary.\n", nil, beginMessage},
		{"binary, CRLF", "Hello list,\r\nbinary.\r\n", nil, beginSigned},
		{"text mode, no final newline", "Hello list", []string{"--textmode"}, beginSigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--armor", "--encrypt", "--sign", "-u", "ann@subs.test", "-r", listAddr}, tt.args...)
			ct := ann.run([]byte(tt.text), args...)
			msg := []byte(postHeader("ann@subs.test") + "Content-Type: text/plain\r\n\r\n" + string(ct))
			res, err := Open(msg, OpenOptions{ListKeys: openpgp.EntityList{list}, Senders: senders})
			if err != nil || res.Verdict != mimecrypt.VerdictGood || res.Encryption != mimecrypt.EncPGPInline {
				t.Fatalf("Open: %v %s/%s (%s)", err, res.Encryption, res.Verdict, res.Reason)
			}
			i := bytes.Index(res.Message, []byte("\r\n\r\n"))
			body := res.Message[i+4:]
			if !bytes.HasPrefix(body, []byte(tt.kept)) {
				t.Fatalf("opened body does not start with %s: %q", tt.kept, body)
			}
			out, status, err := ann.exec(body, false, "--decrypt")
			if err != nil || !strings.Contains(status, "GOODSIG") {
				t.Fatalf("gpg does not verify the kept signature: %v\n%s", err, status)
			}
			if got := strings.ReplaceAll(string(out), "\r\n", "\n"); strings.TrimRight(got, "\n") != strings.TrimRight(strings.ReplaceAll(tt.text, "\r\n", "\n"), "\n") {
				t.Errorf("gpg reads %q, sent %q", got, tt.text)
			}
			again, err := Open(res.Message, OpenOptions{Senders: senders})
			if err != nil || again.Verdict != mimecrypt.VerdictGood || again.SignatureID != res.SignatureID {
				t.Errorf("the opened message re-verified: %v %s (%s)", err, again.Verdict, again.Reason)
			}
		})
	}
}
