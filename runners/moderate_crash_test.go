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

	"cloister/config"
	"cloister/queue"
	"cloister/site"
)

// approveChild opens the site described by spec (state dir, SMTP address,
// queue key file, point:n, held post id, separated by newlines) and
// approves the held post, SIGKILLing itself the nth time it reaches the
// queue's fault point.
func approveChild(spec string) error {
	f := strings.Split(spec, "\n")
	if len(f) != 5 {
		return fmt.Errorf("bad approve child spec %q", spec)
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
	return Approve(s, f[4], "moderator")
}

// TestApproveKilledAfterCommitPoint: a moderator's approve is SIGKILLed at
// each point of the hand-over after its commit point (the ledger written;
// outputs published; the claim removed or not), and the moderator approves
// again: the post is distributed to every member exactly once, the held
// queue is left empty and the held record gone.
func TestApproveKilledAfterCommitPoint(t *testing.T) {
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
			spec := strings.Join([]string{s.Config.StateDir, s.Config.SMTPAddr, s.Config.QueueKeyFile, point + ":1", held[0].ID}, "\n")
			cmd.Env = append(os.Environ(), "RUNNERS_APPROVE_CHILD="+spec)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the approving process was not killed at %s: %v\n%s", point, err, out)
			}
			// The moderator, seeing no result, approves again; the runners run.
			if err := Approve(s.Site, held[0].ID, "moderator"); err != nil && !errors.Is(err, ErrHeldDecided) {
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
