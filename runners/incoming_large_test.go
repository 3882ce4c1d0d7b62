package runners

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/rand/v2"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// TestLargeEncryptedPostIncoming: a PGP/MIME post over largePost, signed
// and encrypted by Bob's gpg, takes incoming's large-post path (the list's
// keys unlocked before the post is read, the GC tight while it is opened):
// it is decrypted whole, verified, and waits sealed in rules, its
// plaintext nowhere on disk.
func TestLargeEncryptedPostIncoming(t *testing.T) {
	testdirs.Slow(t, "drives the incoming runner with a 5 MB post from real gpg")
	s, homes := encryptedSite(t)
	const marker = "LARGE-SECRET-MARKER-91c2"
	// Random text, which gpg's compression does not shrink under largePost.
	noise := make([]byte, (largePost+1<<20)*3/4)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	var body bytes.Buffer
	enc := base64.StdEncoding.EncodeToString(noise)
	for i := 0; i < len(enc); i += 76 {
		body.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\n" + marker + "\r\n" + body.String() + "end " + marker + "\r\n")
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Big\nMessage-ID: <big@subs.test>\n",
		inner, true, "bob@subs.test", "team@lists.test")
	if len(post) < largePost {
		t.Fatalf("the post is %d bytes, under largePost (%d)", len(post), largePost)
	}
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))

	l := &Loop{Site: s.Site, Runner: Incoming{}, Slice: queue.All, Once: true}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext of the encrypted post on disk: %v", hits)
	}
	names, _ := s.Queue(queue.Rules).Pending(queue.All)
	if len(names) != 1 {
		t.Fatalf("rules holds %v; bad: %q", names, s.badReasons(t))
	}
	e, _ := s.Queue(queue.Rules).Peek(names[0])
	if e.Meta.Encryption != "pgp-mime" || e.Meta.Verdict != "good" || e.Meta.Sealed == nil {
		t.Fatalf("meta = %+v", e.Meta)
	}
	b, err := e.Body()
	if err != nil {
		t.Fatal(err)
	}
	opened, err := s.Site.OpenBody(e.Meta, b)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := rawmime.Parse(opened)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := ent.MediaType(); mt != "multipart/signed" || !bytes.Contains(rawmime.Canonical(opened), inner[bytes.Index(inner, []byte("\r\n\r\n"))+4:]) {
		// The opened post takes the outer header's line ending (LF here).
		t.Fatalf("the opened post is %s, %d bytes, without the whole plaintext (%d bytes)", mt, len(opened), len(inner))
	}
}
