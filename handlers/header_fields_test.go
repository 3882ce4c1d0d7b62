package handlers

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"cloister/mailmsg"
)

// injected decodes to a line break, a Bcc field, an empty line and a body.
const (
	injectedSubject = "=?utf-8?q?hi=0D=0ABcc:_victim@x.test=0D=0A=0D=0AINJECTED?="
	injectedName    = "=?utf-8?q?Bob=0D=0ABcc=3A_victim=40x.test=0D=0A=0D=0AINJECTED?="
)

// checkFields fails unless raw reads as a message without a Bcc field and
// whose named fields decode (RFC 2047) to text without a control character.
func checkFields(t *testing.T, raw []byte, names ...string) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, raw)
	}
	if _, ok := msg.Header["Bcc"]; ok {
		t.Fatalf("Bcc field in:\n%s", raw)
	}
	dec := &mime.WordDecoder{}
	for _, n := range names {
		for _, v := range msg.Header[n] {
			d, err := dec.DecodeHeader(v)
			if err != nil {
				t.Fatalf("%s %q: %v", n, v, err)
			}
			if mailmsg.CleanValue(d) != strings.TrimSpace(d) {
				t.Fatalf("%s decodes to %q, with control characters", n, d)
			}
		}
	}
	return msg
}

// TestMungedFromDisplayNameIsOneLine: a DMARC-munged From built from a
// display name whose decoded text holds CRLF and a Bcc field carries the
// name as one line of text.
func TestMungedFromDisplayNameIsOneLine(t *testing.T) {
	strict := map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=reject"}}
	raw := "From: " + injectedName + " <bob@example.org>\nTo: " + testList + "\nSubject: x\n\nbody\n"
	ctx := newTestContext(t, []byte(raw), caseConfig{Settings: []byte(`{"dmarc_mitigation": "munge_from"}`), DNS: strict})
	if err := (DMARC{}).Process(ctx); err != nil {
		t.Fatal(err)
	}
	msg := checkFields(t, ctx.Msg.Bytes(), "From")
	a, err := mailmsg.ParseAddressList(msg.Header.Get("From"))
	if err != nil || len(a) != 1 || !strings.HasPrefix(a[0].Name, "Bob Bcc: victim@x.test INJECTED via ") {
		t.Fatalf("From %q: %v %v", msg.Header.Get("From"), a, err)
	}
}

// TestSubjectPrefixDecodedCRLF: the prefixed Subject of a post whose
// Subject decodes to CRLF and a Bcc field is one field of one line.
func TestSubjectPrefixDecodedCRLF(t *testing.T) {
	raw := "From: bob@example.org\nTo: " + testList + "\nSubject: " + injectedSubject + "\n\nbody\n"
	ctx := newTestContext(t, []byte(raw), caseConfig{Settings: []byte(`{"subject_prefix": "[team]"}`)})
	if err := (SubjectPrefix{}).Process(ctx); err != nil {
		t.Fatal(err)
	}
	msg := checkFields(t, ctx.Msg.Bytes(), "Subject")
	if d, _ := (&mime.WordDecoder{}).DecodeHeader(msg.Header.Get("Subject")); d != "[team] hi Bcc: victim@x.test INJECTED" {
		t.Fatalf("Subject decodes to %q", d)
	}
}

// TestProtectedHeaderCopiesAreOneLine: fields copied inside the encryption
// (and their HP-Outer records) from outer fields holding a bare CR or a NUL
// are one field each.
func TestProtectedHeaderCopiesAreOneLine(t *testing.T) {
	outer, err := mailmsg.Parse([]byte("From: bob@example.org\nTo: " + testList + "\nSubject: hi\rBcc: victim@x.test\nMessage-ID: <m1@example.org>\x00\rBcc: v2@x.test\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := ProtectHeaders([]byte("Content-Type: text/plain\n\nbody\n"), outer)
	if err != nil {
		t.Fatal(err)
	}
	msg := checkFields(t, inner, "Subject", "Message-Id", "Hp-Outer")
	if got := msg.Header.Get("Subject"); got != "hi Bcc: victim@x.test" {
		t.Fatalf("inner Subject %q", got)
	}
	if bytes.ContainsAny(inner, "\r\x00") {
		t.Fatalf("control characters in the protected part:\n%q", inner)
	}
}
