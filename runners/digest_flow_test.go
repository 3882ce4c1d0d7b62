package runners

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"

	"cloister/digest"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// digestPost is the nth test post, about 1.5 KB.
func digestPost(n int) string {
	return fmt.Sprintf("From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Topic %02d\nDate: Mon, 2 Nov 2026 10:%02d:00 +0000\n\nPOST-%02d-BODY\n%s\n",
		n, n, n, strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 25))
}

func (s *testSite) setDelivery(t *testing.T, addr string, d lists.Delivery) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		m, err := tx.Member("team@lists.test", addr)
		if err != nil {
			return err
		}
		m.Delivery = d
		return tx.PutMember("team@lists.test", m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (s *testSite) pendingDigest(t *testing.T) (n int, size int64) {
	t.Helper()
	ps, err := digest.Waiting(digest.Dir(s.Config.StateDir, "team@lists.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		size += p.Size
	}
	return len(ps), size
}

// TestDigestOf20Posts: cat takes digests. Nineteen posts wait (a timer for
// the period sits in the digest queue); the twentieth reaches the size and
// cat gets one MIME digest holding the 20 posts, and no post by itself.
func TestDigestOf20Posts(t *testing.T) {
	testdirs.Slow(t, "drives the runners through many mails")
	s := newTestSite(t)
	s.setDelivery(t, "cat@subs.test", lists.DeliveryDigest)
	s.setList(t, map[string]string{"digest_size_kb": "10240"})
	for i := 1; i <= 19; i++ {
		s.deliver(t, queue.SubPost, "bob@subs.test", digestPost(i))
	}
	s.drain(t)
	n, size := s.pendingDigest(t)
	if n != 19 || len(s.mailbox(t, "cat@subs.test")) != 0 || len(s.mailbox(t, "bob@subs.test")) != 19 {
		t.Fatalf("pending %d, cat %d, bob %d", n, len(s.mailbox(t, "cat@subs.test")), len(s.mailbox(t, "bob@subs.test")))
	}
	timers, _ := s.Queue(digestQueue).Pending(queue.All)
	if len(timers) != 1 {
		t.Fatalf("digest queue holds %v", timers)
	}
	if ready, _ := s.Queue(digestQueue).Ready(queue.All, time.Now().Add(23*time.Hour)); len(ready) != 0 {
		t.Fatalf("timer due before the period: %v", ready)
	}
	if ready, _ := s.Queue(digestQueue).Ready(queue.All, time.Now().Add(25*time.Hour)); len(ready) != 1 {
		t.Fatalf("timer not due after the period: %v", ready)
	}
	s.setList(t, map[string]string{"digest_size_kb": fmt.Sprint(size/1024 + 1)})
	s.deliver(t, queue.SubPost, "bob@subs.test", digestPost(20))
	s.drain(t)
	box := s.mailbox(t, "cat@subs.test")
	if len(box) != 1 {
		t.Fatalf("cat got %d messages", len(box))
	}
	d := box[0]
	if !bytes.Contains(d, []byte("Subject: team Digest, Vol 1, Issue 1")) {
		t.Fatalf("digest header:\n%s", d[:min(len(d), 800)])
	}
	posts := mimeDigestPosts(t, d)
	if len(posts) != 20 {
		t.Fatalf("digest holds %d posts", len(posts))
	}
	for i, p := range posts {
		if !strings.Contains(p, fmt.Sprintf("Subject: [team] Topic %02d", i+1)) || !strings.Contains(p, fmt.Sprintf("POST-%02d-BODY", i+1)) {
			t.Fatalf("post %d:\n%s", i+1, p)
		}
		if !bytes.Contains(d, []byte(fmt.Sprintf("%3d. [team] Topic %02d (Bob)", i+1, i+1))) {
			t.Fatalf("contents lack post %d", i+1)
		}
	}
	if n, _ := s.pendingDigest(t); n != 0 {
		t.Fatalf("%d posts still wait", n)
	}
	// The next digest is issue 2.
	s.setList(t, map[string]string{"digest_size_kb": "1"})
	s.deliver(t, queue.SubPost, "bob@subs.test", digestPost(21))
	s.drain(t)
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 2 || !bytes.Contains(box[1], []byte("Issue 2")) {
		t.Fatalf("second digest: %d messages", len(box))
	}
}

// mimeDigestPosts reads a MIME digest: multipart/mixed with a text part and
// a multipart/digest whose parts are the posts.
func mimeDigestPosts(t *testing.T, d []byte) []string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(d))
	if err != nil {
		t.Fatal(err)
	}
	mr := e.MultipartReader()
	if mr == nil {
		t.Fatal("digest is not multipart")
	}
	var out []string
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		mt, _, _ := p.Header.ContentType()
		if i == 0 && mt != "text/plain" || i == 1 && mt != "multipart/digest" || i > 1 {
			t.Fatalf("part %d is %s", i, mt)
		}
		if i == 1 {
			dr := p.MultipartReader()
			for {
				q, err := dr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if q.Header.Get("Content-Type") != "" {
					t.Fatalf("digest part with its own type %q", q.Header.Get("Content-Type"))
				}
				b, _ := io.ReadAll(q.Body)
				out = append(out, string(b))
			}
		}
	}
	return out
}

// TestDigestEncryptedList: a post that arrived encrypted waits sealed, and
// the digest goes out encrypted to the digest member's key.
func TestDigestEncryptedList(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	s.setDelivery(t, "bob@subs.test", lists.DeliveryDigest)
	s.setList(t, map[string]string{"digest_size_kb": "10240"})
	const marker = "DIGEST-SECRET-90be"
	inner := []byte("Content-Type: text/plain; charset=utf-8\n\nCode " + marker + "\n")
	post := homes["ann@subs.test"].PGPMIMEEncrypted("From: ann <ann@subs.test>\nTo: team@lists.test\nSubject: Code\n",
		inner, true, "ann@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "ann@subs.test", string(post))
	s.drain(t)
	if n, _ := s.pendingDigest(t); n != 1 {
		t.Fatalf("%d posts wait", n)
	}
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	s.setList(t, map[string]string{"digest_size_kb": "1"})
	s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\nTo: team@lists.test\nSubject: Clear\n\n"+strings.Repeat("x", 1100)+"\n")
	s.drain(t)
	var digest []byte
	for _, m := range s.mailbox(t, "bob@subs.test") {
		if bytes.Contains(m, []byte("multipart/encrypted")) && !bytes.Contains(m, []byte("Subject: [team]")) {
			digest = m
		}
	}
	if digest == nil || bytes.Contains(digest, []byte(marker)) {
		t.Fatalf("bob's mail: %q", s.mailbox(t, "bob@subs.test"))
	}
	pt, status, err := homes["bob@subs.test"].Decrypt(armoredPart(t, digest))
	if err != nil {
		t.Fatalf("bob cannot decrypt the digest: %v\n%s", err, status)
	}
	if !bytes.Contains(pt, []byte(marker)) || !bytes.Contains(pt, []byte("team Digest, Vol 1, Issue 1")) || !bytes.Contains(pt, []byte("multipart/digest")) {
		t.Fatalf("decrypted digest:\n%s", pt)
	}
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
}
