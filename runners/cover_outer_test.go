package runners

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"cloister/distribute"
	"cloister/internal/testdirs"
	"cloister/mailmsg"
	"cloister/queue"
)

// outerHeader returns the header fields of a copy as "name: value" lines,
// names lower-cased, in order, without the values that differ from copy to
// copy: Message-ID, Date (the time of sending, in UTC) and the MIME boundary
// of the Content-Type (random).
func outerHeader(t *testing.T, msg []byte) (fields []string, id, date string) {
	t.Helper()
	m, err := mailmsg.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Fields {
		switch n := strings.ToLower(f.Name); n {
		case "message-id":
			id = f.Value()
		case "date":
			date = f.Value()
		case "content-type":
			v, _, _ := strings.Cut(f.Value(), "boundary=")
			fields = append(fields, n+": "+v+"boundary=...")
		default:
			fields = append(fields, n+": "+strings.Join(strings.Fields(f.Value()), " "))
		}
	}
	return fields, id, date
}

// TestCoverRealCopyLooksLikeDummy: with cover_traffic on, the encrypted copy
// of a real post (with an author's name, Cc, Reply-To, threading fields and
// a User-Agent) and a dummy to the same subscriber carry the same outer
// header fields with the same values, in the same order, except Message-ID
// (which differs), Date (the time of sending, in UTC on both) and the
// random MIME boundary; the author's name and address are nowhere in
// clear; and gpg, decrypting the real copy, finds the author's From, the
// Subject, Cc, In-Reply-To and User-Agent inside, as protected header fields.
func TestCoverRealCopyLooksLikeDummy(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := coverSite(t, "1")
	if err := (Cover{}).Schedule(s.Site, time.Now().Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nMeet at the usual place.\r\n")
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: Robert Author <bob@subs.test>\nTo: team@lists.test\n"+
		"Cc: cat@subs.test\nReply-To: Robert Author <bob@subs.test>\nSubject: Meeting point\n"+
		"Date: Wed, 02 Dec 2026 01:00:00 +0100\nMessage-ID: <meeting@subs.test>\n"+
		"In-Reply-To: <earlier@subs.test>\nReferences: <earlier@subs.test>\nUser-Agent: Authormail 1.0\n",
		inner, true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	for _, addr := range []string{"ann@subs.test", "bob@subs.test"} {
		var real, dummy []byte
		var realPT []byte
		for _, msg := range s.mailbox(t, addr) {
			pt := openCopy(t, homes[addr], msg)
			ent, err := mailmsg.Parse(pt)
			if err != nil {
				t.Fatal(err)
			}
			if ent.Get(distribute.CoverField) == "1" {
				dummy = msg
			} else {
				real, realPT = msg, pt
			}
		}
		if real == nil || dummy == nil {
			continue // the dummy went to the other subscriber
		}
		rf, rid, rdate := outerHeader(t, real)
		df, did, ddate := outerHeader(t, dummy)
		if strings.Join(rf, "\n") != strings.Join(df, "\n") {
			t.Errorf("outer headers differ:\nreal:\n%s\n\ndummy:\n%s", strings.Join(rf, "\n"), strings.Join(df, "\n"))
		}
		if rid == "" || rid == did {
			t.Errorf("Message-IDs %q and %q should be present and differ", rid, did)
		}
		if _, err := time.Parse(time.RFC1123Z, rdate); err != nil || !strings.HasSuffix(rdate, "+0000") || !strings.HasSuffix(ddate, "+0000") {
			t.Errorf("Dates %q and %q, want both in UTC (%v)", rdate, ddate, err)
		}
		head, _, _ := bytes.Cut(real, []byte("-----BEGIN PGP MESSAGE-----"))
		for _, leak := range []string{"bob@subs.test", "Robert", "Meeting", "earlier@", "meeting@", "Authormail", "+0100", "cat@subs.test"} {
			if bytes.Contains(head, []byte(leak)) {
				t.Errorf("%q in clear on the real copy:\n%s", leak, head)
			}
		}
		ent, err := mailmsg.Parse(realPT)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{"From": "Robert Author <bob@subs.test>", "Cc": "cat@subs.test",
			"Subject": "Meeting point", "In-Reply-To": "<earlier@subs.test>", "Message-ID": "<meeting@subs.test>",
			"User-Agent": "Authormail 1.0"} {
			if got := ent.Get(name); !strings.Contains(got, want) {
				t.Errorf("inside the encryption %s is %q, want %q", name, got, want)
			}
		}
		if got := ent.Values("HP-Outer"); !strings.Contains(strings.Join(got, "\n"), "From: team@lists.test") {
			t.Errorf("HP-Outer %q does not show the list's From", got)
		}
		return
	}
	t.Fatal("no subscriber received both a real copy and a dummy")
}
