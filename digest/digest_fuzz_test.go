package digest

import (
	"bytes"
	"testing"
	"time"

	"cloister/lists"
)

// FuzzBuildDigest: any post (the sender controls its MIME structure) makes
// a digest in both forms without a panic, and the MIME digest's boundaries
// occur in no post.
func FuzzBuildDigest(f *testing.F) {
	f.Add([]byte(testPost(1)))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; boundary=b\n\n--b\n\nx\n--b--\n--a--\n"))
	f.Add([]byte("Subject: =?x-unknown?q?abc?=\nContent-Type: text/plain; charset=x-unknown\nContent-Transfer-Encoding: base64\n\n!!!\n"))
	l, err := lists.NewList("team@lists.test", time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, post []byte) {
		posts := [][]byte{post, []byte(testPost(2))}
		for _, format := range []string{"mime", "plain"} {
			l.Settings.DigestFormat = format
			d := Build(l, State{Volume: 1, Issue: 1}, posts, time.Unix(0, 0))
			if !bytes.Contains(d, []byte("team Digest")) {
				t.Fatalf("%s digest without its title", format)
			}
		}
	})
}
