package runners

import (
	"bytes"
	"mime"
	"net/mail"
	"os"
	"sort"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/moderation"
	"cloister/notices"
	"cloister/queue"
)

// The attacks below put CR and LF into the header fields of Cloister's own
// mail from every source a sender controls: an RFC 2047 Subject whose
// decoded text holds CRLF, "Bcc: victim" and an empty line before a fake
// body; a display name doing the same; a Message-ID with a bare CR. Every
// message the SMTP sink receives must be well formed: only the fields
// Cloister writes, no Bcc field, no line of the fake body, no control
// character in any field, and no recipient but those expected.

// injectedSubject decodes to "hi\r\nBcc: victim@x.test\r\n\r\nINJECTED-BODY".
const injectedSubject = "=?utf-8?q?hi=0D=0ABcc:_victim@x.test=0D=0A=0D=0AINJECTED-BODY?="

// injectedName is a display name that decodes to the same attack.
const injectedName = "=?utf-8?q?Bob=0D=0ABcc=3A_victim=40x.test=0D=0A=0D=0AINJECTED-BODY?="

// ownFields are the header fields Cloister's own mail may carry (and the
// Return-Path the sink adds).
var ownFields = map[string]bool{
	"Return-Path": true, "From": true, "To": true, "Reply-To": true, "Subject": true, "Date": true,
	"Message-Id": true, "In-Reply-To": true, "Auto-Submitted": true, "Precedence": true, "X-Loop": true,
	"List-Id": true, "List-Post": true, "List-Unsubscribe": true, "Mime-Version": true, "Content-Type": true,
	"Content-Transfer-Encoding": true, "Content-Disposition": true, "Content-Description": true,
	"Autocrypt": true, "Openpgp": true,
}

// sinkRecipients returns every envelope recipient the sink delivered to.
func sinkRecipients(t *testing.T, s *testSite) []string {
	t.Helper()
	ents, err := os.ReadDir(s.sink.Dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// checkNoInjection fails unless raw (a message as the sink stored it) has
// no Bcc field, no line of the injected body, no control character in a
// header line, and, when own is set, only the fields of ownFields, each of
// From, To, Subject, Date and Message-ID once, and values that decode
// (RFC 2047) without a control character.
func checkNoInjection(t *testing.T, who string, raw []byte, own bool) {
	t.Helper()
	for _, line := range strings.Split(string(raw), "\n") {
		l := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(strings.ToLower(l), "bcc:") || strings.HasPrefix(l, "INJECTED-BODY") {
			t.Fatalf("%s: injected line %q in:\n%s", who, line, raw)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: does not parse: %v\n%s", who, err, raw)
	}
	if _, ok := msg.Header["Bcc"]; ok {
		t.Fatalf("%s: Bcc field in:\n%s", who, raw)
	}
	head, _, _ := bytes.Cut(raw, []byte("\n\n"))
	for _, c := range head {
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			t.Fatalf("%s: control character %#x in the header:\n%q", who, c, head)
		}
	}
	if !own {
		return
	}
	for name := range msg.Header {
		if !ownFields[name] {
			t.Errorf("%s: unexpected field %s in:\n%s", who, name, raw)
		}
	}
	for _, name := range []string{"From", "To", "Subject", "Date", "Message-Id"} {
		if n := len(msg.Header[name]); n != 1 {
			t.Errorf("%s: %d %s fields in:\n%s", who, n, name, raw)
		}
	}
	dec := mime.WordDecoder{}
	for name, vals := range msg.Header {
		for _, v := range vals {
			d, err := dec.DecodeHeader(v)
			if err != nil {
				d = v
			}
			if mailmsg.CleanValue(d) != strings.TrimSpace(d) {
				t.Errorf("%s: %s decodes to %q, with control characters", who, name, d)
			}
		}
	}
	for _, name := range []string{"From", "To", "Reply-To"} {
		if v := msg.Header.Get(name); v != "" {
			if _, err := mailmsg.ParseAddressList(v); err != nil {
				t.Errorf("%s: %s %q does not parse: %v", who, name, v, err)
			}
		}
	}
}

// checkAllMail checks every message in the sink and that the envelope
// recipients are exactly want.
func checkAllMail(t *testing.T, s *testSite, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := sinkRecipients(t, s); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("envelope recipients %q, want %q", got, want)
	}
	for _, rcpt := range want {
		box := s.mailbox(t, rcpt)
		if len(box) == 0 {
			t.Fatalf("%s got nothing", rcpt)
		}
		for _, m := range box {
			checkNoInjection(t, rcpt, m, true)
		}
	}
}

// TestHeaderInjectionRequestReply: a command mail to LIST-request whose
// Subject, From display name and Message-ID carry CR and LF gets a reply
// with one Subject, one To, no Bcc and no injected body, to the sender only.
func TestHeaderInjectionRequestReply(t *testing.T) {
	for _, tc := range []struct{ name, from, subject, msgid string }{
		{"subject", "bob@subs.test", injectedSubject, "<c1@subs.test>"},
		{"display name", injectedName + " <bob@subs.test>", "commands", "<c2@subs.test>"},
		{"message id with a bare CR", "bob@subs.test", "commands", "<c3@subs.test>\rBcc: victim@x.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			s.deliver(t, queue.SubRequest, "bob@subs.test", "From: "+tc.from+"\nTo: team-request@lists.test\nSubject: "+tc.subject+
				"\nMessage-ID: "+tc.msgid+"\n\nhelp\n")
			s.drain(t)
			checkAllMail(t, s, "bob@subs.test")
			if r := s.badReasons(t); len(r) != 0 {
				t.Fatalf("bad: %q", r)
			}
		})
	}
}

// TestHeaderInjectionHeldPost: a post held for the moderators (send.editorkey)
// and one held for the sender's confirmation (send.private_key), both with
// the injected Subject and display name: the moderator's notice and the
// confirmation request are well formed and go only to their recipients.
func TestHeaderInjectionHeldPost(t *testing.T) {
	for _, tc := range []struct{ scenario, sender, to string }{
		{"send.editorkey", "eve@else.test", "ann@subs.test"},
		{"send.private_key", "bob@subs.test", "bob@subs.test"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			s := newTestSite(t)
			setSetting(t, s, "send", tc.scenario)
			s.deliver(t, queue.SubPost, tc.sender, "From: "+injectedName+" <"+tc.sender+">\nTo: team@lists.test\nSubject: "+injectedSubject+
				"\nMessage-ID: <p1@else.test>\n\npost body\n")
			s.drain(t)
			checkAllMail(t, s, tc.to)
		})
	}
}

// TestHeaderInjectionRejectedPost: a post from an outsider rejected by the
// scenario, and a held post rejected by a moderator, with the injected
// Subject: each rejection notice is well formed and goes to the sender.
func TestHeaderInjectionRejectedPost(t *testing.T) {
	t.Run("by the scenario", func(t *testing.T) {
		s := newTestSite(t)
		s.deliver(t, queue.SubPost, "eve@else.test", "From: "+injectedName+" <eve@else.test>\nTo: team@lists.test\nSubject: "+injectedSubject+
			"\nMessage-ID: <p1@else.test>\n\npost body\n")
		s.drain(t)
		checkAllMail(t, s, "eve@else.test")
	})
	t.Run("by a moderator", func(t *testing.T) {
		s := newTestSite(t)
		setSetting(t, s, "send", "send.editorkey")
		s.deliver(t, queue.SubPost, "eve@else.test", "From: eve@else.test\nTo: team@lists.test\nSubject: "+injectedSubject+
			"\nMessage-ID: <p1@else.test>\n\npost body\n")
		s.drain(t)
		if err := moderation.Reject(s.Site, heldPosts(t, s)[0].ID, "no", "ann@subs.test"); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		checkAllMail(t, s, "ann@subs.test", "eve@else.test")
	})
}

// TestHeaderInjectionResend: a member's signed post with a resend order and
// the injected Subject: the resend report to the members and the copy to
// the outsider are well formed, and nobody else gets mail.
func TestHeaderInjectionResend(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _, bob, _, _ := fetchSite(t)
	inner := "Content-Type: text/plain\r\n\r\nresend dan@outside.test\r\n\r\nPlease look at this.\r\n"
	post := bob.PGPMIMESigned("From: "+injectedName+" <bob@subs.test>\nTo: team@lists.test\nSubject: "+injectedSubject+"\n", []byte(inner), "bob@subs.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	want := []string{"ann@subs.test", "bob@subs.test", "cat@subs.test", "dan@outside.test"}
	if got := sinkRecipients(t, s); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("envelope recipients %q, want %q", got, want)
	}
	reports := 0
	for _, rcpt := range want {
		for _, m := range s.mailbox(t, rcpt) {
			// The report is the list's own mail; the copies carry the
			// post's own Subject field, which is not rewritten.
			report := bytes.Contains(m, []byte("asked the list to resend"))
			if report {
				reports++
			}
			checkNoInjection(t, rcpt, m, report)
		}
	}
	if reports != 2 {
		t.Fatalf("%d resend reports, want one per member but the sender", reports)
	}
}

// TestHeaderInjectionDigest: a post with the injected Subject and display
// name reaches a digest, MIME and RFC 1153 (which copies the post's From and
// Subject into its text, where a reader bursts them into messages), with
// and without a subject prefix (whose handler rewrites the Subject first):
// the digest is well formed and its text has no injected line; only the
// members get mail.
func TestHeaderInjectionDigest(t *testing.T) {
	for _, tc := range []struct{ format, prefix string }{
		{"mime", "[team]"}, {"plain", "[team]"}, {"mime", ""}, {"plain", ""},
	} {
		t.Run(tc.format+" prefix "+tc.prefix, func(t *testing.T) {
			s := newTestSite(t)
			s.setDelivery(t, "cat@subs.test", lists.DeliveryDigest)
			s.setList(t, map[string]string{"digest_size_kb": "1", "digest_format": tc.format, "subject_prefix": tc.prefix})
			post := "From: " + injectedName + " <bob@subs.test>\nTo: team@lists.test\nSubject: " + injectedSubject +
				"\nMessage-ID: <d1@subs.test>\n\n" + strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 25)
			s.deliver(t, queue.SubPost, "bob@subs.test", post)
			s.drain(t)
			want := []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"}
			if got := sinkRecipients(t, s); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("envelope recipients %q, want %q", got, want)
			}
			box := s.mailbox(t, "cat@subs.test")
			if len(box) != 1 || !bytes.Contains(box[0], []byte("Digest")) {
				t.Fatalf("cat got %d messages, want the digest", len(box))
			}
			checkNoInjection(t, "cat@subs.test", box[0], true)
			for _, rcpt := range want[:2] {
				for _, m := range s.mailbox(t, rcpt) {
					checkNoInjection(t, rcpt, m, false)
				}
			}
		})
	}
}

// TestHeaderInjectionProtectedSubject: an encrypted post whose protected
// Subject (inside the encryption) holds a bare CR, a Bcc field and a NUL,
// under a placeholder outer Subject: each member's copy, once decrypted with
// their own gpg, carries the Subject as one field of text, and neither the
// copy nor the protected part has an injected field or control character;
// the member without a key gets a well-formed notice.
func TestHeaderInjectionProtectedSubject(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	inner := "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\nSubject: hi\rBcc: victim@x.test\x00there\r\n\r\nbody\r\n"
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: ...\n",
		[]byte(inner), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	if got := sinkRecipients(t, s); strings.Join(got, " ") != "ann@subs.test bob@subs.test cat@subs.test" {
		t.Fatalf("envelope recipients %q", got)
	}
	for _, m := range s.mailbox(t, "cat@subs.test") { // no key: a notice without the post
		checkNoInjection(t, "cat@subs.test", m, true)
	}
	for _, rcpt := range []string{"ann@subs.test", "bob@subs.test"} {
		box := s.mailbox(t, rcpt)
		if len(box) != 1 {
			t.Fatalf("%s got %d messages", rcpt, len(box))
		}
		checkNoInjection(t, rcpt, box[0], false)
		pt, _, err := homes[rcpt].Decrypt(armoredPart(t, box[0]))
		if err != nil {
			t.Fatal(err)
		}
		pt = bytes.ReplaceAll(pt, []byte("\r\n"), []byte("\n"))
		checkNoInjection(t, rcpt+" (decrypted)", pt, false)
		msg, err := mail.ReadMessage(bytes.NewReader(pt))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header["Subject"]; len(got) != 1 || !strings.HasSuffix(got[0], "hi Bcc: victim@x.test there") {
			t.Fatalf("%s: protected Subject %q in:\n%s", rcpt, got, pt)
		}
	}
}

// TestRenderTemplateSubjectIsOneLine: a template's Subject line showing a
// field that holds CR and LF renders as one line, and the body starts where
// the template's own blank line says, not where the field's line break does.
func TestRenderTemplateSubjectIsOneLine(t *testing.T) {
	dirs := []string{t.TempDir()}
	writeTemplate(t, dirs[0]+"/en/reject.tmpl", "Subject: Re {{.Subject}}\n\nBODY {{.List}}\n")
	subject, body, err := notices.RenderTemplate(dirs, "en", "reject", map[string]any{
		"Subject": "hi\r\nBcc: victim@x.test\r\n\r\nINJECTED-BODY", "List": "team@lists.test"})
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Re hi Bcc: victim@x.test INJECTED-BODY" || body != "BODY team@lists.test\n" {
		t.Fatalf("subject %q, body %q", subject, body)
	}
	writeTemplate(t, dirs[0]+"/en/held.tmpl", "Subject: {{if .X}}\nx{{end}}\n\nbody\n")
	if _, _, err := notices.RenderTemplate(dirs, "en", "held", map[string]any{"X": true}); err == nil {
		t.Fatal("an action running past the Subject line was accepted")
	}
}
