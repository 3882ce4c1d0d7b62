package runners

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloister/internal/clamd"
	"cloister/internal/clamdtest"
	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// Posts through the runners (incoming, rules with the virus-scan and
// virus-unscanned rules, pipeline, archive, outgoing to the SMTP sink) with
// a real clamd (Debian's clamav-daemon) whose only signature is EICAR's:
//
//	deliver -> in -> incoming (decrypt) -> rules: stream to clamd
//	   -> infected: reject (notice) | hold (moderators) | discard
//	   -> too large to scan: hold
//	   -> clamd down: back in queue/rules until clamd answers
//	   -> clean: pipeline -> archive, outgoing

// virusPost is a post from Bob with the EICAR test string as a base64
// attachment: clamd finds it only by decoding the MIME part.
func virusPost(subject string) string {
	return "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: " + subject + "\nMessage-ID: <v1@subs.test>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nSee the tool attached.\n--b\n" +
		"Content-Type: application/octet-stream; name=tool.com\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte(clamdtest.EICAR)) + "\n--b--\n"
}

// scannedSite is the test site with a clamd of its own named in the config.
func scannedSite(t *testing.T, streamMaxKB int) (*testSite, *clamdtest.Daemon) {
	t.Helper()
	d := clamdtest.Start(t, streamMaxKB)
	s := newTestSite(t)
	s.Config.ClamdSocket = d.Socket
	s.Config.ClamdTimeoutSeconds = 120 // a busy machine, not a hung clamd
	return s, d
}

// nothingDistributed checks that no member got a copy of the post (the
// moderators' held notice, which carries it, aside) and that nothing reached
// the archive.
func nothingDistributed(t *testing.T, s *testSite, marker string) {
	t.Helper()
	for _, r := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
		for _, m := range s.mailbox(t, r) {
			if bytes.Contains(m, []byte(marker)) && !bytes.Contains(m, []byte("Subject: Post to team@lists.test held for moderation")) {
				t.Errorf("%s received the post:\n%s", r, m)
			}
		}
	}
	if hits := grepTree(t, s.Config.ArchiveDir("team@lists.test"), marker); len(hits) != 0 {
		t.Errorf("archived: %v", hits)
	}
	for _, q := range []string{queue.Pipeline, queue.Archive, queue.Out, queue.Bad, queue.Rules} {
		if f := s.files(t, q); len(f) != 0 {
			t.Errorf("queue %s left %v (bad: %q)", q, f, s.badReasons(t))
		}
	}
}

// TestVirusScanCleanPostPasses: a clean post is scanned and distributed.
func TestVirusScanCleanPostPasses(t *testing.T) {
	s, _ := scannedSite(t, 1024)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	if got := oneMessage(t, s, "cat@subs.test"); !bytes.Contains(got, []byte("The minutes are attached.")) {
		t.Fatalf("cat got %q", got)
	}
	if !strings.Contains(s.logs.String(), "result=clean") {
		t.Fatalf("the post was not scanned:\n%s", s.logs)
	}
}

// TestVirusScanInfected: an infected post in clear is never distributed nor
// archived; virus_action decides between a notice to the sender naming the
// signature (reject), the moderators (hold) and silence (discard). With
// virus_scan no the list does not scan.
func TestVirusScanInfected(t *testing.T) {
	testdirs.Slow(t, "drives the runners through the virus scan")
	for _, tc := range []struct{ setting, value string }{
		{"virus_action", "reject"},
		{"virus_action", "hold"},
		{"virus_action", "discard"},
		{"virus_scan", "no"},
	} {
		t.Run(tc.setting+"="+tc.value, func(t *testing.T) {
			s, _ := scannedSite(t, 1024)
			setSetting(t, s, tc.setting, tc.value)
			s.deliver(t, queue.SubPost, "bob@subs.test", virusPost("Tool"))
			s.drain(t)
			held := heldPosts(t, s)
			bob := s.mailbox(t, "bob@subs.test")
			if tc.setting == "virus_scan" {
				if got := oneMessage(t, s, "cat@subs.test"); !bytes.Contains(got, []byte("tool.com")) {
					t.Fatalf("with virus_scan no, cat got %q", got)
				}
				return
			}
			nothingDistributed(t, s, "tool.com")
			switch tc.value {
			case "reject":
				if len(bob) != 1 || !bytes.Contains(bob[0], []byte("Subject: Your post to team@lists.test was rejected")) ||
					!bytes.Contains(bob[0], []byte("virus scanner found "+clamdtest.Signature)) {
					t.Fatalf("bob's notice: %q", bob)
				}
				if len(held) != 0 {
					t.Fatalf("held: %+v", held)
				}
			case "hold":
				if len(held) != 1 || !slices.Contains(held[0].Rules, "virus-scan") || !strings.Contains(held[0].Reason, clamdtest.Signature) {
					t.Fatalf("held: %+v", held)
				}
				if len(bob) != 0 {
					t.Fatalf("bob was told: %q", bob)
				}
			case "discard":
				if len(held) != 0 || len(bob) != 0 || len(s.mailbox(t, "ann@subs.test")) != 0 {
					t.Fatalf("a discarded post left traces: held %+v, bob %q", held, bob)
				}
				if !strings.Contains(s.logs.String(), "rule virus-scan") {
					t.Fatalf("the log does not tell the discard:\n%s", s.logs)
				}
			}
		})
	}
}

// TestVirusScanEncryptedInfected: a post encrypted to the list key with gpg,
// with EICAR inside the encryption, is caught after decryption (the
// ciphertext alone matches no signature). The notice to the sender, the log
// and the state directory carry nothing of the plaintext: not the
// signature's name, the subject or a word of the body.
func TestVirusScanEncryptedInfected(t *testing.T) {
	testdirs.Slow(t, "drives the runners through the virus scan, with real gpg")
	for _, action := range []string{"reject", "reject-clear", "hold"} {
		t.Run(action, func(t *testing.T) {
			d := clamdtest.Start(t, 1024)
			s, homes := encryptedSite(t)
			s.Config.ClamdSocket = d.Socket
			s.Config.ClamdTimeoutSeconds = 120
			setSetting(t, s, "virus_action", strings.TrimSuffix(action, "-clear"))
			const marker = "HIDDEN-WORD-93b1"
			inner := []byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + marker + " see attached\r\n--b\r\n" +
				"Content-Type: application/octet-stream; name=tool.com\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				base64.StdEncoding.EncodeToString([]byte(clamdtest.EICAR)) + "\r\n--b--\r\n")
			header := "From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Secret-Subject-4c2\nMessage-ID: <enc-v@subs.test>\n"
			msg := homes["bob@subs.test"].PGPMIMEEncrypted(header, inner, true, "bob@subs.test", "team@lists.test")
			if action == "reject-clear" {
				// Cat has no key on file: her notice travels in clear.
				cat := gnupg.New(t)
				cat.Import(homes["bob@subs.test"].ExportPublic("team@lists.test"))
				header = strings.ReplaceAll(header, "bob <bob@subs.test>", "Cat <cat@subs.test>")
				msg = cat.PGPMIMEEncrypted(header, inner, false, "", "team@lists.test")
			}
			sender := "bob@subs.test"
			if action == "reject-clear" {
				sender = "cat@subs.test"
			}
			// The mail as it arrives, still encrypted, matches nothing.
			c := &clamd.Client{Network: "unix", Address: d.Socket, Timeout: 2 * time.Minute}
			if r, err := c.Scan(context.Background(), msg); err != nil || r.Infected {
				t.Fatalf("clamd on the ciphertext: %+v, %v", r, err)
			}
			s.deliver(t, queue.SubPost, sender, string(msg))
			s.drain(t)
			nothingDistributed(t, s, marker)
			for _, word := range []string{marker, clamdtest.Signature, "Secret-Subject-4c2", "tool.com", "EICAR"} {
				if hits := grepTree(t, s.Config.StateDir, word); len(hits) != 0 {
					t.Errorf("%q on disk in clear: %v", word, hits)
				}
				// clamd spools the stream in its TemporaryDirectory while it
				// scans: nothing of it is left there after.
				if hits := grepTree(t, filepath.Join(d.Dir), marker); len(hits) != 0 {
					t.Errorf("clamd left the plaintext in %v", hits)
				}
				if strings.Contains(s.logs.String(), word) {
					t.Errorf("%q in the log", word)
				}
			}
			bob := s.mailbox(t, "bob@subs.test")
			held := heldPosts(t, s)
			switch action {
			case "reject":
				// Bob has a key: the notice goes to him encrypted, and
				// says only the rule's fixed words even inside.
				if len(bob) != 1 {
					t.Fatalf("bob's notices: %q", bob)
				}
				pt, status, err := homes["bob@subs.test"].Decrypt(armoredPart(t, bob[0]))
				if err != nil {
					t.Fatalf("bob cannot decrypt the notice: %v\n%s", err, status)
				}
				if !bytes.Contains(pt, []byte("Subject: Your post to team@lists.test was rejected")) || !bytes.Contains(pt, []byte("virus scanner found a virus")) {
					t.Fatalf("bob's notice:\n%s", pt)
				}
				for _, word := range []string{marker, clamdtest.Signature, "Secret-Subject", "tool.com", "EICAR"} {
					if bytes.Contains(bob[0], []byte(word)) || bytes.Contains(pt, []byte(word)) {
						t.Errorf("the notice carries %q:\n%s\n%s", word, bob[0], pt)
					}
				}
			case "reject-clear":
				cat := s.mailbox(t, "cat@subs.test")
				if len(cat) != 1 || !bytes.Contains(cat[0], []byte("Subject: Your post to team@lists.test was rejected")) ||
					!bytes.Contains(cat[0], []byte("virus scanner found a virus")) {
					t.Fatalf("cat's notice: %q", cat)
				}
				for _, word := range []string{marker, clamdtest.Signature, "Secret-Subject", "tool.com", "EICAR"} {
					if bytes.Contains(cat[0], []byte(word)) {
						t.Errorf("the notice in clear carries %q:\n%s", word, cat[0])
					}
				}
			case "hold":
				if len(held) != 1 || !slices.Contains(held[0].Rules, "virus-scan") || strings.Contains(held[0].Reason, clamdtest.Signature) {
					t.Fatalf("held: %+v", held)
				}
			}
		})
	}
}

// TestVirusScanOversized: a post larger than the site's clamd_max_scan_kb is
// not sent to clamd, and one larger than clamd's StreamMaxLength is refused
// by clamd; both are held for the moderators (virus-unscanned), never
// passed on unscanned.
func TestVirusScanOversized(t *testing.T) {
	body := strings.Repeat("A clean line of the long report.\n", 3200) // about 100 KiB
	big := "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Report\nMessage-ID: <big@subs.test>\n\n" + body
	for _, tc := range []struct {
		name          string
		streamMaxKB   int
		maxScanKB     int64
		wantLimitText string
	}{
		{"over clamd_max_scan_kb", 1024, 64, "limit of 64 KiB"},
		{"over clamd's StreamMaxLength", 64, 1024, "more than the virus scanner takes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := scannedSite(t, tc.streamMaxKB)
			s.Config.ClamdMaxScanKB = tc.maxScanKB
			s.deliver(t, queue.SubPost, "bob@subs.test", big)
			s.drain(t)
			nothingDistributed(t, s, "clean line of the long report")
			held := heldPosts(t, s)
			if len(held) != 1 || !slices.Equal(held[0].Rules, []string{"virus-unscanned"}) || !strings.Contains(held[0].Reason, tc.wantLimitText) {
				t.Fatalf("held: %+v", held)
			}
		})
	}
}

// makeDue puts the rules queue's deferred entries back as due now, as if
// their retry time had come, and returns how many there were.
func makeDue(t *testing.T, s *testSite) int {
	t.Helper()
	q := s.Queue(queue.Rules)
	names, err := q.Pending(queue.All)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		e, err := q.Claim(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Put(e, e.Meta, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return len(names)
}

// TestVirusScanClamdDown: with clamd stopped, a post (clean or infected)
// waits in the rules queue, neither distributed nor in bad, however often it
// is tried; once clamd is back it is scanned and delivered (or rejected).
// With clamd_unavailable accept, it passes unscanned with a warning.
func TestVirusScanClamdDown(t *testing.T) {
	testdirs.Slow(t, "drives the runners through the virus scan with clamd down")
	t.Run("defer", func(t *testing.T) {
		s, d := scannedSite(t, 1024)
		d.Stop()
		s.deliver(t, queue.SubPost, "bob@subs.test", post)
		s.deliver(t, queue.SubPost, "cat@subs.test", strings.Replace(virusPost("Tool"), "Bob <bob@subs.test>", "Cat <cat@subs.test>", 1))
		for round := 0; round < 5; round++ {
			s.drain(t)
			// Each new try meets clamd down, and the entries wait again.
			if n := makeDue(t, s); n != 2 {
				t.Fatalf("round %d: rules holds %d entries; bad %q", round, n, s.badReasons(t))
			}
		}
		for _, r := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
			if box := s.mailbox(t, r); len(box) != 0 {
				t.Fatalf("%s received %q while clamd was down", r, box)
			}
		}
		if b := s.badReasons(t); len(b) != 0 {
			t.Fatalf("bad: %q", b)
		}
		if !strings.Contains(s.logs.String(), "post deferred") {
			t.Fatalf("the log does not tell the deferral:\n%s", s.logs)
		}
		// The entry's history tells why it waits, once for the outage.
		names, _ := s.Queue(queue.Rules).Pending(queue.All)
		for _, n := range names {
			e, err := s.Queue(queue.Rules).Peek(n)
			if err != nil {
				t.Fatal(err)
			}
			var notes int
			for _, h := range e.Meta.History {
				if h.Note == virusDeferredNote {
					notes++
				}
			}
			if notes != 1 || e.Meta.Attempts != 0 {
				t.Fatalf("history %+v, attempts %d", e.Meta.History, e.Meta.Attempts)
			}
		}
		d.Restart()
		makeDue(t, s)
		s.drain(t)
		if n := makeDue(t, s); n != 0 {
			t.Fatalf("with clamd back, rules still holds %d entries", n)
		}
		got := s.mailbox(t, "ann@subs.test")
		if len(got) != 1 || !bytes.Contains(got[0], []byte("The minutes are attached.")) {
			t.Fatalf("after clamd came back ann got %q", got)
		}
		notice := s.mailbox(t, "cat@subs.test")
		var sawNotice bool
		for _, m := range notice {
			if bytes.Contains(m, []byte("tool.com")) {
				t.Fatalf("cat received the infected post:\n%s", m)
			}
			sawNotice = sawNotice || bytes.Contains(m, []byte("virus scanner found "+clamdtest.Signature))
		}
		if !sawNotice {
			t.Fatalf("cat got no rejection notice: %q", notice)
		}
	})
	t.Run("accept", func(t *testing.T) {
		s, d := scannedSite(t, 1024)
		s.Config.ClamdUnavailable = "accept"
		d.Stop()
		s.deliver(t, queue.SubPost, "bob@subs.test", post)
		s.drain(t)
		if got := oneMessage(t, s, "cat@subs.test"); !bytes.Contains(got, []byte("The minutes are attached.")) {
			t.Fatalf("cat got %q", got)
		}
		if !strings.Contains(s.logs.String(), "passed unscanned") {
			t.Fatalf("no warning in the log:\n%s", s.logs)
		}
	})
}

// TestVirusScanOwnerMail: mail to LIST-owner is scanned before it is
// forwarded: clean mail reaches the owners, infected mail does not, and its
// sender is told (not with virus_action discard).
func TestVirusScanOwnerMail(t *testing.T) {
	testdirs.Slow(t, "drives the runners through the virus scan")
	for _, action := range []string{"reject", "discard"} {
		t.Run(action, func(t *testing.T) {
			s, _ := scannedSite(t, 1024)
			setSetting(t, s, "virus_action", action)
			s.deliver(t, queue.SubOwner, "dan@else.test", "From: dan@else.test\nSubject: question\nMessage-ID: <q1@else.test>\n\nhi owners\n")
			s.deliver(t, queue.SubOwner, "dan@else.test", strings.Replace(virusPost("Tool"), "Bob <bob@subs.test>", "dan@else.test", 1))
			s.drain(t)
			ann := s.mailbox(t, "ann@subs.test")
			if len(ann) != 1 || !bytes.Contains(ann[0], []byte("hi owners")) {
				t.Fatalf("the owner got %q", ann)
			}
			dan := s.mailbox(t, "dan@else.test")
			switch action {
			case "reject":
				if len(dan) != 1 || !bytes.Contains(dan[0], []byte("was not forwarded: the site's virus scanner found a virus")) {
					t.Fatalf("dan got %q", dan)
				}
			case "discard":
				if len(dan) != 0 {
					t.Fatalf("dan got %q", dan)
				}
			}
			if b := s.badReasons(t); len(b) != 0 {
				t.Fatalf("bad: %q", b)
			}
		})
	}
}
