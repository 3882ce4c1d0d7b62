package runners

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	osexec "os/exec"

	"cloister/internal/config"
	"cloister/internal/site"
	"cloister/internal/testdirs"
	"cloister/moderation"
	"cloister/queue"
)

// decideChild opens the site described by spec (state dir, SMTP address,
// queue key file, point:n, held post id, decision, separated by newlines)
// and makes the decision (approve, reject, discard) on the held post,
// SIGKILLing itself the nth time it reaches the queue's fault point.
func decideChild(spec string) error {
	f := strings.Split(spec, "\n")
	if len(f) != 6 {
		return fmt.Errorf("bad decide child spec %q", spec)
	}
	cfg, err := config.Parse([]byte("state_dir = \"" + f[0] + "\"\ndomain = \"lists.test\"\nsmtp_addr = \"" + f[1] + "\"\n"))
	if err != nil {
		return err
	}
	cfg.QueueKeyFile = f[2]
	point, ns, _ := strings.Cut(f[3], ":")
	n, _ := strconv.Atoi(ns)
	seen := 0
	queue.FaultHook = func(p string) error {
		if p == point {
			if seen++; seen == n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				time.Sleep(time.Minute)
			}
		}
		return nil
	}
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	return decide(s, f[5], f[4])
}

// decide makes a moderator's decision on a held post.
func decide(s *site.Site, decision, id string) error {
	switch decision {
	case "approve":
		return moderation.Approve(s, id, "moderator")
	case "reject":
		return moderation.Reject(s, id, "", "moderator")
	case "discard":
		return moderation.Discard(s, id, "moderator")
	}
	return fmt.Errorf("unknown decision %q", decision)
}

// TestApproveKilledAfterCommitPoint: a moderator's approve is SIGKILLed at
// each point of the hand-over after its commit point (the ledger written;
// outputs published; the claim removed or not), and the moderator approves
// again: the post is distributed to every member exactly once, the held
// queue is left empty and the held record gone.
func TestApproveKilledAfterCommitPoint(t *testing.T) {
	testdirs.Slow(t, "SIGKILLs a moderation decision at each point after its commit point")
	for _, point := range []string{queue.PointCommitted, queue.PointPublished, queue.PointRemove, queue.PointFinished} {
		t.Run(point, func(t *testing.T) {
			s := newTestSite(t)
			setSetting(t, s, "send", "send.editorkey")
			s.deliver(t, queue.SubPost, "bob@subs.test", post)
			s.drain(t)
			held := heldPosts(t, s)
			if len(held) != 1 {
				t.Fatalf("held = %+v", held)
			}
			cmd := osexec.Command(os.Args[0], "-test.run=^$")
			spec := strings.Join([]string{s.Config.StateDir, s.Config.SMTPAddr, s.Config.QueueKeyFile, point + ":1", held[0].ID, "approve"}, "\n")
			cmd.Env = append(os.Environ(), "RUNNERS_DECIDE_CHILD="+spec)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the approving process was not killed at %s: %v\n%s", point, err, out)
			}
			// The moderator, seeing no result, approves again; the runners run.
			if err := moderation.Approve(s.Site, held[0].ID, "moderator"); err != nil && !errors.Is(err, moderation.ErrHeldDecided) {
				t.Fatalf("approve again after a kill at %s: %v", point, err)
			}
			if err := Drain(context.Background(), s.Site); err != nil {
				t.Fatal(err)
			}
			for _, rcpt := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
				n := 0
				for _, m := range s.mailbox(t, rcpt) {
					if strings.Contains(string(m), "\nSubject: [team] Minutes\n") {
						n++
					}
				}
				if n != 1 {
					for _, m := range s.mailbox(t, rcpt) {
						t.Logf("%s: %.300s", rcpt, m)
					}
					t.Errorf("kill at %s: %s got the post %d times", point, rcpt, n)
				}
			}
			if r := s.badReasons(t); len(r) != 0 {
				t.Errorf("bad = %q", r)
			}
			for _, q := range append(queue.Names, queue.Held) {
				if f := s.files(t, q); len(f) != 0 {
					t.Errorf("queue %s left %v", q, f)
				}
			}
			if h := heldPosts(t, s); len(h) != 0 {
				t.Errorf("held records left: %+v", h)
			}
		})
	}
}

// TestModerationKilledAtEachPoint: a moderator's decision (approve, reject,
// discard) is SIGKILLed at a point of its hand-over, before or after its
// commit point, and a moderator then decides again (the same decision, or
// another one). Killed before the commit point, the first decision did not
// happen: its claim is recovered and the second decision is carried out.
// Killed after it, the first decision stands and the second is told so
// (moderation.ErrHeldDecided). Either way the post reaches the members once or not at
// all, the sender gets at most one rejection notice, and the held queue and
// records are left empty.
func TestModerationKilledAtEachPoint(t *testing.T) {
	testdirs.Slow(t, "SIGKILLs a moderation decision at every point")
	tests := []struct {
		first, point, second string
		want                 string // what stands: approve, reject or discard
	}{
		{"approve", queue.PointCreate, "approve", "approve"},
		{"approve", queue.PointStaged, "approve", "approve"},
		{"approve", queue.PointStaged, "reject", "reject"},
		{"approve", queue.PointCreate, "discard", "discard"},
		{"approve", queue.PointCommitted, "reject", "approve"},
		{"approve", queue.PointPublished, "discard", "approve"},
		{"reject", queue.PointCreate, "reject", "reject"},
		{"reject", queue.PointStaged, "approve", "approve"},
		{"reject", queue.PointCommitted, "reject", "reject"},
		{"reject", queue.PointPublished, "approve", "reject"},
		{"reject", queue.PointRemove, "reject", "reject"},
		{"reject", queue.PointFinished, "approve", "reject"},
		{"discard", queue.PointRemove, "discard", "discard"},
		{"discard", queue.PointRemove, "approve", "approve"},
	}
	for _, tt := range tests {
		t.Run(tt.first+"-at-"+tt.point+"-then-"+tt.second, func(t *testing.T) {
			s := newTestSite(t)
			setSetting(t, s, "send", "send.editorkey")
			s.deliver(t, queue.SubPost, "bob@subs.test", post)
			s.drain(t)
			held := heldPosts(t, s)
			if len(held) != 1 {
				t.Fatalf("held = %+v", held)
			}
			cmd := osexec.Command(os.Args[0], "-test.run=^$")
			spec := strings.Join([]string{s.Config.StateDir, s.Config.SMTPAddr, s.Config.QueueKeyFile, tt.point + ":1", held[0].ID, tt.first}, "\n")
			cmd.Env = append(os.Environ(), "RUNNERS_DECIDE_CHILD="+spec)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the %s was not killed at %s: %v\n%s", tt.first, tt.point, err, out)
			}
			err = decide(s.Site, tt.second, held[0].ID)
			committed := tt.point != queue.PointCreate && tt.point != queue.PointStaged &&
				!(tt.first == "discard" && tt.point == queue.PointRemove) // Discard's one step is the removal
			if !committed && err != nil {
				t.Fatalf("%s after a %s killed at %s: %v", tt.second, tt.first, tt.point, err)
			}
			if committed && !errors.Is(err, moderation.ErrHeldDecided) {
				t.Fatalf("%s after a %s killed at %s (committed): %v, want ErrHeldDecided", tt.second, tt.first, tt.point, err)
			}
			if err := Drain(context.Background(), s.Site); err != nil {
				t.Fatal(err)
			}
			wantPosts, wantRejections := 0, 0
			switch tt.want {
			case "approve":
				wantPosts = 1
			case "reject":
				wantRejections = 1
			}
			for _, rcpt := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
				posts, rejections := 0, 0
				for _, m := range s.mailbox(t, rcpt) {
					if strings.Contains(string(m), "\nSubject: [team] Minutes\n") {
						posts++
					}
					if strings.Contains(string(m), "was rejected") {
						rejections++
					}
				}
				if posts != wantPosts {
					t.Errorf("%s got the post %d times, want %d", rcpt, posts, wantPosts)
				}
				if rcpt == "bob@subs.test" && rejections != wantRejections {
					t.Errorf("the sender got %d rejection notices, want %d", rejections, wantRejections)
				}
			}
			if r := s.badReasons(t); len(r) != 0 {
				t.Errorf("bad = %q", r)
			}
			for _, q := range append(queue.Names, queue.Held) {
				if f := s.files(t, q); len(f) != 0 {
					t.Errorf("queue %s left %v", q, f)
				}
			}
			if h := heldPosts(t, s); len(h) != 0 {
				t.Errorf("held records left: %+v", h)
			}
		})
	}
}
