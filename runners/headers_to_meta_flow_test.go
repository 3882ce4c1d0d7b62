package runners

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// TestHeadersToMetaEncrypted: with headers_to_meta, Bob's signed and
// encrypted post reaches Ann with the pseudo-headers inside the encryption
// (who signed, that it arrived encrypted) and none outside, and Bob's own
// signature on the post that follows still verifies with gpg.
func TestHeadersToMetaEncrypted(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	setSetting(t, s, "headers_to_meta", "from sig enc")
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nThe plan stands.\r\n")
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Plan\nMessage-ID: <plan@subs.test>\n",
		inner, true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	box := s.mailbox(t, "ann@subs.test")
	if len(box) != 1 {
		t.Fatalf("ann received %d messages; bad %q", len(box), s.badReasons(t))
	}
	if bytes.Contains(box[0], []byte("Sig:")) || bytes.Contains(box[0], []byte("Enc:")) {
		t.Fatalf("pseudo-headers outside the encryption:\n%s", box[0])
	}
	pt, status, err := homes["ann@subs.test"].Decrypt(armoredPart(t, box[0]))
	if err != nil {
		t.Fatalf("ann cannot decrypt: %v\n%s", err, status)
	}
	ent, err := rawmime.Parse(pt)
	if err != nil {
		t.Fatal(err)
	}
	mt, params, _ := ent.MediaType()
	parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
	if mt != "multipart/mixed" || err != nil || len(parts) != 2 {
		t.Fatalf("decrypted copy (%s, %v):\n%s", mt, err, pt)
	}
	meta, _ := rawmime.Parse(parts[0])
	for _, want := range []string{"From: bob <bob@subs.test>", "Sig: Good signature from ", "(bob@subs.test)", "Enc: Encrypted (OpenPGP/MIME)"} {
		if !bytes.Contains(meta.Body, []byte(want)) {
			t.Errorf("pseudo-headers lack %q:\n%s", want, meta.Body)
		}
	}
	fpr := strings.ToUpper(homes["bob@subs.test"].Fingerprint("bob@subs.test"))
	if !bytes.Contains(bytes.ToUpper(meta.Body), []byte(fpr)) {
		t.Errorf("Sig does not name bob's fingerprint %s:\n%s", fpr, meta.Body)
	}
	// Bob's signature on the second part, as a client checks it.
	signed, _ := rawmime.Parse(parts[1])
	smt, sparams, _ := signed.MediaType()
	sparts, err := rawmime.SplitMultipart(signed.Body, sparams["boundary"], 10)
	if smt != "multipart/signed" || err != nil || len(sparts) != 2 {
		t.Fatalf("second part (%s, %v):\n%s", smt, err, parts[1])
	}
	sig, _ := rawmime.Parse(sparts[1])
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "signed"), rawmime.Canonical(sparts[0]), 0o600)
	os.WriteFile(filepath.Join(dir, "sig.asc"), sig.Body, 0o600)
	homes["ann@subs.test"].Import(s.mem.ExportFor(t, "bob@subs.test"))
	if _, status, err := homes["ann@subs.test"].Exec(nil, "--verify", filepath.Join(dir, "sig.asc"), filepath.Join(dir, "signed")); err != nil || !strings.Contains(status, "GOODSIG") {
		t.Fatalf("bob's signature does not verify after the pseudo-headers: %v\n%s", err, status)
	}
}
