package runners

import (
	"bytes"
	"testing"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// exePost carries a Windows program named as a PDF, declared as one.
const exePost = "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Invoice\nMessage-ID: <inv@subs.test>\n" +
	"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nThe invoice.\n--b\n" +
	"Content-Type: application/pdf; name=\"invoice.pdf.exe\"\nContent-Disposition: attachment; filename=\"invoice.pdf.exe\"\n" +
	"Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA//8AALgAAAAA\n--b--\n"

// TestContentFilterDeniedExtension: through the runners, an attachment whose
// file name ends in a denied extension is removed whatever its declared
// type, and the members are told; in a post signed inside its encryption
// (which cannot be edited) it gets the post rejected.
func TestContentFilterDeniedExtension(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	t.Run("clear", func(t *testing.T) {
		s := newTestSite(t)
		setSetting(t, s, "content_filter", "!.exe !.scr")
		s.deliver(t, queue.SubPost, "bob@subs.test", exePost)
		s.drain(t)
		got := oneMessage(t, s, "cat@subs.test")
		if bytes.Contains(got, []byte("TVqQAAMAAAAEAAAA")) || !bytes.Contains(got, []byte("application/pdf, invoice.pdf.exe")) ||
			!bytes.Contains(got, []byte("The invoice.")) {
			t.Fatalf("cat got:\n%s", got)
		}
	})
	t.Run("encrypted and signed", func(t *testing.T) {
		s, homes := encryptedSite(t)
		setSetting(t, s, "content_filter", "!.exe")
		inner := []byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe invoice.\r\n--b\r\n" +
			"Content-Type: application/pdf; name=\"invoice.pdf.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAA\r\n--b--\r\n")
		msg := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Invoice\nMessage-ID: <inv2@subs.test>\n",
			inner, true, "bob@subs.test", "team@lists.test")
		s.deliver(t, queue.SubPost, "bob@subs.test", string(msg))
		s.drain(t)
		if box := s.mailbox(t, "ann@subs.test"); len(box) != 0 {
			t.Fatalf("ann received %d messages", len(box))
		}
		bob := s.mailbox(t, "bob@subs.test")
		if len(bob) != 1 {
			t.Fatalf("bob got %d messages", len(bob))
		}
		pt, _, err := homes["bob@subs.test"].Decrypt(armoredPart(t, bob[0]))
		if err != nil || !bytes.Contains(pt, []byte("was not distributed")) || !bytes.Contains(pt, []byte("content-filter")) {
			t.Fatalf("bob's notice: %v\n%s", err, pt)
		}
	})
}
