package pgp

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mailmsg/rawmime"
)

// TestMergeProtectedSubjectIsOneField: a protected Subject inside the
// encryption that holds a bare CR (or a NUL) is copied out as one field, so
// that it cannot become a line break, and a Bcc field, in the opened post.
func TestMergeProtectedSubjectIsOneField(t *testing.T) {
	for _, tc := range []struct{ name, subject, want string }{
		{"bare CR", "Subject: hi\rBcc: victim@x.test\r\n", "hi Bcc: victim@x.test"},
		{"NUL", "Subject: hi\x00there\r\n", "hi there"},
		{"folded, kept as written", "Subject: a long\r\n subject\r\n", "a long subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top, err := rawmime.Parse([]byte("From: bob@example.org\r\nSubject: ...\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			inner, err := rawmime.Parse([]byte("Content-Type: text/plain; protected-headers=\"v1\"\r\n" + tc.subject + "\r\nbody\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			out := merge(top, inner)
			head, _, _ := bytes.Cut(out, []byte("\r\n\r\n"))
			if bytes.ContainsAny(head, "\x00") || bytes.Contains(bytes.ReplaceAll(head, []byte("\r\n"), nil), []byte("\r")) {
				t.Fatalf("control characters in the opened header:\n%q", head)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := msg.Header["Bcc"]; ok || len(msg.Header["Subject"]) != 1 || msg.Header.Get("Subject") != tc.want {
				t.Fatalf("opened header %v, want one Subject %q", msg.Header, tc.want)
			}
		})
	}
}

// TestMergePartsKeptSignature: the opened message written from
// keepSignature's pieces at once is the one merge wrote from the
// multipart/signed entity those pieces make (its body converted whole), for a decrypted entity in CRLF
// or with bare LFs, under an outer header in CRLF or LF, protected Subject
// included.
func TestMergePartsKeptSignature(t *testing.T) {
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	for _, plain := range []string{
		"Content-Type: text/plain; protected-headers=\"v1\"\r\nSubject: inside\r\n\r\nline one\r\nline two\r\n",
		"Content-Type: text/plain; protected-headers=\"v1\"\nSubject: inside\n\nline one\nline two\r\nline three\n",
	} {
		for _, nl := range []string{"\r\n", "\n"} {
			top, err := rawmime.Parse([]byte("From: ann@subs.test" + nl + "Subject: ..." + nl +
				"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b" + nl + nl))
			if err != nil {
				t.Fatal(err)
			}
			var sigBin bytes.Buffer
			if err := openpgp.DetachSignWithParams(&sigBin, []*openpgp.Entity{ann}, strings.NewReader(plain), &openpgp.SignParams{TextSig: true}); err != nil {
				t.Fatal(err)
			}
			p, err := packet.Read(&sigBin)
			if err != nil {
				t.Fatal(err)
			}
			k, ok := keepSignature([]byte(plain), p.(*packet.Signature))
			if !ok {
				t.Fatal("signature not kept")
			}
			got := mergeParts(top, k.signed, k.header, k.body...)
			wrapped := bytes.Join(append([][]byte{k.header.Raw}, k.body...), nil)
			inner, err := rawmime.Parse(wrapped)
			if err != nil {
				t.Fatal(err)
			}
			// The reference converts the body whole first (withLineEnding, as
			// merge did), leaving nothing for the writer to convert.
			if want := mergeParts(top, inner, inner, withLineEnding(inner.Body, lineEnding(top.Header))); !bytes.Equal(got, want) {
				t.Errorf("plain %q, line ending %q: written from the pieces\n%q\nwant\n%q", plain[len(plain)-12:], nl, got, want)
			}
			if !bytes.Contains(got, []byte("Subject: inside"+nl)) || !bytes.Contains(got, []byte("multipart/signed")) {
				t.Errorf("no protected Subject or multipart/signed in\n%q", got)
			}
		}
	}
}

// TestWriteLineEnding: the writer gives what withLineEnding returns, for
// either line ending, bare LFs, CRLFs and lone CRs anywhere.
func TestWriteLineEnding(t *testing.T) {
	for _, in := range []string{"", "\n", "\r\n", "\r", "a\nb", "a\r\nb\r\n", "\na\n\nb", "a\r\r\nb\n\r", "mixed\r\nand\nbare\n\r\n"} {
		for _, nl := range []string{"\r\n", "\n"} {
			var b bytes.Buffer
			writeLineEnding(&b, []byte(in), nl)
			if want := withLineEnding([]byte(in), nl); !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%q with %q: wrote %q, want %q", in, nl, b.Bytes(), want)
			}
		}
	}
}
