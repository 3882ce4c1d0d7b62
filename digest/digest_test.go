package digest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cloister/lists"
	"cloister/mailmsg"
)

// testPost is the nth test post, about 1.5 KB.
func testPost(n int) string {
	return fmt.Sprintf("From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Topic %02d\nDate: Mon, 2 Nov 2026 10:%02d:00 +0000\n\nPOST-%02d-BODY\n%s\n",
		n, n, n, strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 25))
}

// TestHeader: a digest's header, in both forms, is the list's traffic
// written by notices' renderer: these fields in this order (List-Post and
// List-Unsubscribe, no Auto-Submitted), the subject and addresses as the
// list's.
func TestHeader(t *testing.T) {
	l, err := lists.NewList("team@lists.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, subject string }{
		{"mime", "team Digest, Vol 1, Issue 3"},
		{"plain", "team Digest V1 #3"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			l.Settings.DigestFormat = tc.format
			m, err := mailmsg.Parse(Build(l, State{Volume: 1, Issue: 3}, [][]byte{[]byte(testPost(1))}, time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range m.Fields {
				names = append(names, f.Name)
			}
			want := "From To Reply-To Subject Date Message-ID Precedence X-Loop List-Id List-Post List-Unsubscribe " +
				"MIME-Version Content-Type"
			if tc.format == "plain" {
				want += " Content-Transfer-Encoding"
			}
			if got := strings.Join(names, " "); got != want {
				t.Errorf("fields %s\nwant   %s", got, want)
			}
			for field, want := range map[string]string{"From": "team-request@lists.test", "To": "team@lists.test",
				"Reply-To": "team@lists.test", "Subject": tc.subject, "List-Post": "<mailto:team@lists.test>",
				"List-Unsubscribe": "<mailto:team-leave@lists.test>", "List-Id": "<team.lists.test>"} {
				if got := m.Get(field); got != want {
					t.Errorf("%s: %q, want %q", field, got, want)
				}
			}
		})
	}
}

// TestPlainDigest: the RFC 1153 form of 20 posts, one with an attachment,
// one quoted-printable and one with a separator line in its body.
func TestPlainDigest(t *testing.T) {
	l, err := lists.NewList("team@lists.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l.Settings.DigestFormat = "plain"
	var posts [][]byte
	for i := 1; i <= 20; i++ {
		posts = append(posts, []byte(testPost(i)))
	}
	posts[4] = []byte("From: ann@subs.test\nSubject: =?utf-8?q?Caf=C3=A9?=\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 au lait\n--b\nContent-Type: application/pdf; name=\"agenda.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n")
	posts[7] = []byte("From: cat@subs.test\r\nSubject: Dashes\r\n\r\nabove\r\n" + rfc1153Sep + "\r\nbelow\r\n")
	d := string(Build(l, State{Volume: 2, Issue: 7}, posts, time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)))
	for _, want := range []string{
		"Subject: team Digest V2 #7\n", "Content-Type: text/plain; charset=utf-8\n",
		"team Digest\t\tMon, 2 Nov 2026\t\tVolume 2 : Issue 7\n\nToday's Topics:\n\n  Topic 01 (Bob)\n",
		"\n  Café (ann@subs.test)\n", "\n" + rfc1153Head + "\n\nDate: Mon, 2 Nov 2026 10:01:00 +0000\nFrom: Bob <bob@subs.test>\n",
		"Subject: Café\n\nCafé au lait\n[a application/pdf part (agenda.pdf) is not included in the plain digest]\n",
		"above\n " + rfc1153Sep + "\nbelow\n",
		"\n" + rfc1153Sep + "\n\nEnd of team Digest V2 #7\n************************\n",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("plain digest lacks %q", want)
		}
	}
	if got := strings.Count(d, "\n"+rfc1153Sep+"\n"); got != 20 {
		t.Errorf("%d separators, want 20 (19 between posts, 1 at the end)\n%s", got, d)
	}
	if strings.Contains(d, "JVBERi0") || strings.Contains(d, "\r") {
		t.Errorf("attachment or CR in the plain digest")
	}
}

// TestDigestDue: size, count and period each make a digest due.
func TestDigestDue(t *testing.T) {
	st := lists.DefaultSettings() // 30 KiB, 24 hours
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	posts := func(n int, size int64) []Post {
		var out []Post
		for i := range n {
			out = append(out, Post{Size: size, At: t0.Add(time.Duration(i) * time.Minute)})
		}
		return out
	}
	for _, c := range []struct {
		name  string
		posts []Post
		now   time.Time
		due   bool
	}{
		{"small and young", posts(3, 1000), t0.Add(time.Hour), false},
		{"size reached", posts(31, 1024), t0.Add(time.Hour), true},
		{"period reached", posts(1, 10), t0.Add(24 * time.Hour), true},
		{"just before the period", posts(1, 10), t0.Add(24*time.Hour - time.Second), false},
		{"too many posts", posts(MaxPosts, 1), t0, true},
	} {
		due, at := Due(st, c.posts, c.now)
		if due != c.due || !at.Equal(t0.Add(24*time.Hour)) {
			t.Errorf("%s: due %v at %v", c.name, due, at)
		}
	}
}
