package runners

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	osexec "os/exec"

	"cloister/internal/boltfile"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// startLoop runs r's loop (not Once) until the returned function stops it and
// returns Run's error. Waits for temporary conditions are short.
func startLoop(t *testing.T, s *testSite, r Runner, ready func()) (stop func() error, returned func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{Site: s.Site, Runner: r, Slice: queue.All, Poll: 20 * time.Millisecond, TempBackoff: 5 * time.Millisecond, Ready: ready}
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	var finished atomic.Bool
	stop = func() error {
		cancel()
		err := <-done
		finished.Store(true)
		return err
	}
	returned = func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
			return finished.Load()
		}
	}
	t.Cleanup(func() { cancel() })
	return stop, returned
}

// eventually waits for cond, failing the test if it does not come (the
// bound is generous: the machine may be busy; no test asserts a duration).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// diskFull makes every queue write that takes space (creating, writing and
// fsyncing a file) fail with ENOSPC while the returned flag is set; renames
// and removals go on, as they do on a full disk.
func diskFull(t *testing.T) *atomic.Bool {
	var full atomic.Bool
	queue.FaultHook = func(p string) error {
		if full.Load() && (p == queue.PointCreate || p == queue.PointWrite || p == queue.PointSync) {
			return &os.PathError{Op: p, Path: "queue", Err: syscall.ENOSPC}
		}
		return nil
	}
	t.Cleanup(func() { queue.FaultHook = nil })
	return &full
}

// deliveredOnce checks that every member got the post exactly once and that
// nothing is left in any queue (no claim, ledger, staged or temp file) or in
// bad.
func (s *testSite) deliveredOnce(t *testing.T) {
	t.Helper()
	for _, rcpt := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
		if n := len(s.mailbox(t, rcpt)); n != 1 {
			t.Errorf("%s got the post %d times", rcpt, n)
		}
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Errorf("bad = %q", r)
	}
	for _, q := range queue.Names {
		if f := s.files(t, q); len(f) != 0 {
			t.Errorf("queue %s left %v", q, f)
		}
	}
}

func (s *testSite) count(t *testing.T, q string) int {
	t.Helper()
	names, err := s.Queue(q).Pending(queue.All)
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

// TestAttemptsResetAcrossStages: a post whose runner is killed once in each
// of three stages (max_attempts is 3) was interrupted, not failing: it is
// delivered, not parked in bad.
func TestAttemptsResetAcrossStages(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	for _, r := range []Runner{Incoming{}, Rules{}, Pipeline{}} {
		q := s.Queue(r.Queue())
		names, _ := q.Pending(queue.All)
		if len(names) != 1 {
			t.Fatalf("%s holds %v; bad %q", q.Name, names, s.badReasons(t))
		}
		if _, err := q.Claim(names[0]); err != nil { // the runner is killed holding it
			t.Fatal(err)
		}
		l := &Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true} // and restarted
		if err := l.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	s.drain(t)
	s.deliveredOnce(t)
}

// TestDrainRecoversClaims: `cloister runners --once` (Drain) recovers the
// claims a killed runner left, as each runner does at start.
func TestDrainRecoversClaims(t *testing.T) {
	s := newTestSite(t)
	name := s.deliver(t, queue.SubPost, "bob@subs.test", post)
	if _, err := s.Queue(queue.In).Claim(name); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	s.deliveredOnce(t)
}

// TestLockTimeoutIsNotAnAttempt: another process holds the database lock
// for longer than the lock time-out, again and again; the post waits and
// goes through once the lock is free, instead of ending in bad.
func TestLockTimeoutIsNotAnAttempt(t *testing.T) {
	s := newTestSite(t)
	s.Lists.Timeout = 20 * time.Millisecond
	lock, err := boltfile.Lock(boltfile.LockPath(s.Lists.Path), true, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	before := Waits.Load()
	stop, _ := startLoop(t, s, Incoming{}, nil)
	eventually(t, "more lock time-outs than max_attempts", func() bool {
		return Waits.Load()-before > int64(2*s.Config.MaxAttempts) || len(s.badReasons(t)) > 0
	})
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad = %q while the lock was held", r)
	}
	lock.Close()
	eventually(t, "the post in rules", func() bool { return s.count(t, queue.Rules) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	s.deliveredOnce(t)
}

// TestDiskFullThenSpaceReturns: every queue write fails with ENOSPC while a
// runner works; it keeps its claim and waits, and once space returns it goes
// on by itself (no restart); nothing is half-written, counted or lost.
func TestDiskFullThenSpaceReturns(t *testing.T) {
	s := newTestSite(t)
	full := diskFull(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	full.Store(true)
	before := Waits.Load()
	stop, returned := startLoop(t, s, Incoming{}, nil)
	eventually(t, "waits on the full disk", func() bool {
		return Waits.Load()-before > int64(2*s.Config.MaxAttempts) || len(s.badReasons(t)) > 0 || returned()
	})
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad = %q while the disk was full", r)
	}
	if returned() {
		t.Fatal("the loop stopped on a full disk")
	}
	if n := s.count(t, queue.Rules); n != 0 {
		t.Fatalf("rules holds %d entries while the disk is full", n)
	}
	full.Store(false)
	eventually(t, "the post in rules", func() bool { return s.count(t, queue.Rules) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Queue(queue.Rules).Pending(queue.All)
	if m, _ := s.Queue(queue.Rules).Peek(e[0]); m.Meta.Attempts != 0 {
		t.Fatalf("attempts = %d after a full disk", m.Meta.Attempts)
	}
	s.drain(t)
	s.deliveredOnce(t)
}

// TestRunnerStartedOnFullDiskWaits: a runner started on a full disk with a
// claim to recover says it is ready (systemd must not kill it), waits with a
// warning instead of exiting, and recovers and works once space returns.
func TestRunnerStartedOnFullDiskWaits(t *testing.T) {
	s := newTestSite(t)
	full := diskFull(t)
	name := s.deliver(t, queue.SubPost, "bob@subs.test", post)
	if _, err := s.Queue(queue.In).Claim(name); err != nil { // left by a killed runner
		t.Fatal(err)
	}
	full.Store(true)
	var ready atomic.Bool
	before := Waits.Load()
	stop, returned := startLoop(t, s, Incoming{}, func() { ready.Store(true) })
	eventually(t, "waits on the full disk", func() bool { return Waits.Load()-before > 3 || returned() })
	if returned() {
		t.Fatal("the runner exited on a full disk")
	}
	if !ready.Load() {
		t.Fatal("the waiting runner did not report ready")
	}
	if !strings.Contains(s.logs.String(), "waiting for a temporary condition to clear") {
		t.Fatalf("no warning logged:\n%s", s.logs)
	}
	full.Store(false)
	eventually(t, "the post in rules", func() bool { return s.count(t, queue.Rules) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	s.deliveredOnce(t)
}

// TestTmpfsFullThenSpaceReturns fills a real 2 MB tmpfs under the queues
// until writes fail with ENOSPC, runs the runners while it is full, then
// frees the space: they resume by themselves and the post is delivered once.
func TestTmpfsFullThenSpaceReturns(t *testing.T) {
	testdirs.Slow(t, "needs root: mounts a tmpfs")
	s := newTestSite(t)
	root := filepath.Dir(s.Queue(queue.In).Dir)
	if out, err := runCmd("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", root); err != nil {
		t.Fatalf("mount tmpfs (the test needs root): %v %s", err, out)
	}
	t.Cleanup(func() { runCmd("umount", "-l", root) })
	for _, n := range append(queue.Names, queue.Held) {
		if err := os.MkdirAll(s.Queue(n).Dir, 0o770); err != nil {
			t.Fatal(err)
		}
	}
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	filler := filepath.Join(root, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !strings.Contains(err.Error(), "no space") {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	before := Waits.Load()
	var stops []func() error
	var running []func() bool
	for _, r := range []Runner{Incoming{}, Rules{}, Pipeline{}, Archive{}, Outgoing{}} {
		stop, returned := startLoop(t, s, r, nil)
		stops = append(stops, stop)
		running = append(running, returned)
	}
	eventually(t, "waits on the full tmpfs", func() bool {
		for _, returned := range running {
			if returned() {
				return true
			}
		}
		return Waits.Load()-before > 3
	})
	if n := s.count(t, queue.Rules) + s.count(t, queue.Out); n != 0 {
		t.Fatalf("%d entries moved on while the tmpfs was full", n)
	}
	for _, returned := range running {
		if returned() {
			t.Fatal("a runner stopped on the full tmpfs")
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the post delivered", func() bool { return len(s.mailbox(t, "cat@subs.test")) == 1 })
	eventually(t, "every queue empty", func() bool {
		for _, q := range queue.Names {
			if len(s.files(t, q)) != 0 {
				return false
			}
		}
		return true
	})
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	s.deliveredOnce(t)
}

func runCmd(name string, args ...string) ([]byte, error) {
	return osexec.Command(name, args...).CombinedOutput()
}

// TestKillAtEachHandOverPoint runs the runners as a child process and
// SIGKILLs it at each point of the hand-over protocol (and of the queue's
// writes), at several occurrences across the stages (incoming, rules,
// pipeline, archive, outgoing), then lets a last child finish: every post is
// delivered to every member exactly once, and nothing is left behind.
func TestKillAtEachHandOverPoint(t *testing.T) {
	testdirs.Slow(t, "SIGKILLs runner processes at every hand-over point")
	points := []string{queue.PointStaged, queue.PointCommitted, queue.PointPublished, queue.PointRemove,
		queue.PointFinished, queue.PointRename, queue.PointSyncDir}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			s := newTestSite(t)
			const posts = 3
			for i := 0; i < posts; i++ {
				msg := strings.Replace(post, "Subject: Minutes", fmt.Sprintf("Subject: Minutes %d", i), 1)
				msg = strings.Replace(msg, "<m1@", fmt.Sprintf("<m%d-%s@", i, point), 1)
				s.deliver(t, queue.SubPost, "bob@subs.test", msg)
			}
			run := func(at string) bool {
				cmd := osexec.Command(os.Args[0], "-test.run=^$")
				spec := strings.Join([]string{s.Config.StateDir, s.Config.SMTPAddr, s.Config.QueueKeyFile, at}, "\n")
				cmd.Env = append(os.Environ(), "RUNNERS_KILL_CHILD="+spec)
				out, err := cmd.CombinedOutput()
				if err != nil && !strings.Contains(err.Error(), "killed") {
					t.Fatalf("child (kill at %s): %v\n%s", at, err, out)
				}
				return err != nil
			}
			kills := 0
			for _, k := range []int{2, 5, 9, 14} {
				if run(fmt.Sprintf("%s:%d", point, k)) {
					kills++
				}
			}
			if kills == 0 {
				t.Fatalf("no child reached %s", point)
			}
			run("")
			for _, rcpt := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
				got := map[string]int{}
				for _, m := range s.mailbox(t, rcpt) {
					for i := 0; i < posts; i++ {
						if strings.Contains(string(m), fmt.Sprintf("Minutes %d\r\n", i)) || strings.Contains(string(m), fmt.Sprintf("Minutes %d\n", i)) {
							got[fmt.Sprint(i)]++
						}
					}
				}
				for i := 0; i < posts; i++ {
					if c := got[fmt.Sprint(i)]; c != 1 {
						t.Errorf("%d kills at %s: %s got post %d %d times", kills, point, rcpt, i, c)
					}
				}
			}
			if r := s.badReasons(t); len(r) != 0 {
				t.Errorf("bad = %q", r)
			}
			for _, q := range queue.Names {
				if f := s.files(t, q); len(f) != 0 {
					t.Errorf("queue %s left %v", q, f)
				}
			}
		})
	}
}

// TestRandomKillsDeliverExactlyOnce delivers posts through the runners as a
// child process killed with SIGKILL at random moments, then lets a last one
// finish: no post is lost, no post is sent twice to every member (a second
// fan-out), and copies are repeated at most once per kill (the SMTP
// transaction in flight when the process died, which the MTA may have
// accepted before the journal recorded it). RUNNERS_KILL_POSTS sets the
// number of posts (default 30).
func TestRandomKillsDeliverExactlyOnce(t *testing.T) {
	testdirs.Slow(t, "SIGKILLs runner processes at random, many posts")
	posts := 30
	if n, err := strconv.Atoi(os.Getenv("RUNNERS_KILL_POSTS")); err == nil && n > 0 {
		posts = n
	}
	s := newTestSite(t)
	for i := 0; i < posts; i++ {
		msg := strings.Replace(post, "Subject: Minutes", fmt.Sprintf("Subject: Minutes %d.", i), 1)
		msg = strings.Replace(msg, "<m1@", fmt.Sprintf("<m%d-random@", i), 1)
		s.deliver(t, queue.SubPost, "bob@subs.test", msg)
	}
	spec := strings.Join([]string{s.Config.StateDir, s.Config.SMTPAddr, s.Config.QueueKeyFile, ""}, "\n")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for round := 0; round < 3+posts/5; round++ {
		cmd := osexec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "RUNNERS_KILL_CHILD="+spec)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			kills++
		}
		if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "killed") {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
	}
	cmd := osexec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUNNERS_KILL_CHILD="+spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	// A copy repeated to one member is the transaction in flight; a post
	// repeated to every member is a second fan-out: a hand-over done twice.
	lost, repeated := 0, 0
	twiceToAll := map[int]int{}
	for _, rcpt := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
		got := map[int]int{}
		for _, m := range s.mailbox(t, rcpt) {
			for i := 0; i < posts; i++ {
				if strings.Contains(string(m), fmt.Sprintf("Minutes %d.", i)) {
					got[i]++
				}
			}
		}
		for i := 0; i < posts; i++ {
			switch c := got[i]; {
			case c == 0:
				lost++
			case c > 1:
				repeated += c - 1
				twiceToAll[i]++
			}
		}
	}
	fanouts := 0
	for _, n := range twiceToAll {
		if n == 3 {
			fanouts++
		}
	}
	t.Logf("%d posts to 3 members, %d kills: %d copies lost, %d repeated, %d posts sent twice to everyone", posts, kills, lost, repeated, fanouts)
	if lost != 0 || repeated > kills || fanouts != 0 {
		t.Fatalf("%d copies lost, %d repeated with %d kills, %d posts sent twice to everyone", lost, repeated, kills, fanouts)
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Errorf("bad = %q", r)
	}
	for _, q := range queue.Names {
		if f := s.files(t, q); len(f) != 0 {
			t.Errorf("queue %s left %v", q, f)
		}
	}
}

// TestOnceOnFullDiskStops: `--once` on a full disk stops with the error
// instead of waiting, gives its claim back untouched (no attempt counted),
// and a later run delivers the post once.
func TestOnceOnFullDiskStops(t *testing.T) {
	s := newTestSite(t)
	full := diskFull(t)
	name := s.deliver(t, queue.SubPost, "bob@subs.test", post)
	full.Store(true)
	err := Drain(context.Background(), s.Site)
	full.Store(false)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("drain on a full disk: %v, want ENOSPC", err)
	}
	if got := s.files(t, queue.In); len(got) != 1 || got[0] != name+".msg" {
		t.Fatalf("in holds %v, want the entry given back as it was", got)
	}
	if e, _ := s.Queue(queue.In).Peek(name); e.Meta.Attempts != 0 {
		t.Fatalf("attempts = %d", e.Meta.Attempts)
	}
	s.drain(t)
	s.deliveredOnce(t)
}

func TestTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"full disk", fmt.Errorf("hand over: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), true},
		{"quota", &os.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, true},
		{"I/O error", fmt.Errorf("read entry: %w", &os.PathError{Op: "read", Path: "x", Err: syscall.EIO}), true},
		{"lock time-out", fmt.Errorf("load list: %w", boltfile.ErrLockTimeout), true},
		{"permission", &os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, false},
		{"unknown", errors.New("store unavailable"), false},
		{"permanent", Permanent("no space left on device"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Temporary(tt.err); got != tt.want {
				t.Fatalf("Temporary(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
