package handlers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestAnonymousLeaksNothing runs the default pipeline of an anonymous list
// (with strip_original_signature on) and searches the whole output for the
// author's addresses, name and IP addresses.
func TestAnonymousLeaksNothing(t *testing.T) {
	raw, err := os.ReadFile("testdata/anonymous/with-strip.eml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := caseConfig{
		Settings: []byte(`{"anonymous": true, "strip_original_signature": true, "footer": "list footer", "reply_to": "sender", "dmarc_mitigation": "munge_from"}`),
		Meta:     &queue.Meta{List: testList, Subaddress: queue.SubPost, Sender: "bounce-alice@example.org", From: "alice@example.org"},
		DNS:      map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=reject"}},
	}
	ctx := newTestContext(t, raw, cfg)
	if _, err := Run(DefaultPipeline(), ctx); err != nil {
		t.Fatal(err)
	}
	out := strings.ToLower(string(ctx.Msg.Bytes()))
	for _, secret := range []string{"alice@example.org", "alice.private@example.net", "alice example", "198.51.100.23", "192.0.2.45", "bounce-alice", "<m2@example.org>", "<m1@example.org>", "thunderbird", "example org"} {
		if strings.Contains(out, secret) {
			t.Errorf("anonymous output contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"from: \"team discussion\" <team@lists.example.test>", "reply-to: \"team discussion\" <team@lists.example.test>", "i think the salaries are too low.", "list footer"} {
		if !strings.Contains(out, want) {
			t.Errorf("anonymous output lacks %q:\n%s", want, out)
		}
	}
}

// TestAnonymousCorpus runs real client messages through an anonymous list:
// no header of the output may name the author's address.
func TestAnonymousCorpus(t *testing.T) {
	corpus := testdirs.Corpus(t)
	for _, rel := range []string{
		"thunderbird-openpgp/msgs/unsigned-unencrypted-from-bob-to-alice.eml",
		"thunderbird-openpgp/msgs/signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted.eml",
		"deltachat/msgs/thunderbird_with_autocrypt_unencrypted.eml",
	} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpus, rel))
			if err != nil {
				t.Fatal(err)
			}
			ctx := newTestContext(t, raw, caseConfig{Settings: []byte(`{"anonymous": true, "strip_original_signature": true}`)})
			author, err := ctx.Msg.FromAddress()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Run(DefaultPipeline(), ctx); err != nil {
				t.Fatal(err)
			}
			head := bytes.ToLower(ctx.Msg.HeaderBytes())
			if bytes.Contains(head, []byte(author)) {
				t.Errorf("header still names %s:\n%s", author, head)
			}
			if bytes.Contains(bytes.ToLower(ctx.Msg.Body), []byte("-----begin pgp signature")) {
				t.Errorf("the author's signature is still in the body")
			}
		})
	}
}

// TestAnonymousOpaqueSMIME: an anonymous list removes an opaque S/MIME
// signature (Outlook's default form, kept by the S/MIME reader when it is
// good) and distributes the signed content, where it used to refuse it.
func TestAnonymousOpaqueSMIME(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testdirs.Corpus(t), "thunderbird-smime/msgs/alice.sig.SHA256.opaque.eml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := newTestContext(t, raw, caseConfig{Settings: []byte(`{"anonymous": true}`)})
	if _, err := Run(DefaultPipeline(), ctx); err != nil {
		t.Fatal(err)
	}
	out := append(ctx.Msg.HeaderBytes(), ctx.Msg.Body...)
	if bytes.Contains(bytes.ToLower(out), []byte("pkcs7")) || bytes.Contains(bytes.ToLower(out), []byte("alice@")) {
		t.Fatalf("signature or author left:\n%s", out)
	}
	if !bytes.Contains(ctx.Msg.Body, []byte("This is a test message from Alice to Bob.")) {
		t.Fatalf("content lost:\n%s", out)
	}
}
