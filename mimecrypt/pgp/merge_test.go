package pgp

import (
	"bytes"
	"net/mail"
	"testing"

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
