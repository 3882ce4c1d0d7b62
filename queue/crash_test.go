package queue

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloister/internal/testdirs"
)

// crashChild moves every entry of queue a to b and of b to c, recovering
// claims first, as a runner would. The crash test kills it at random moments.
func crashChild(root string) error {
	a, _ := Open(root, "a")
	b, _ := Open(root, "b")
	c, _ := Open(root, "c")
	bad, _ := Open(root, Bad)
	for _, q := range []*Queue{a, b} {
		if _, _, err := q.Recover(All, bad, 1000); err != nil {
			return err
		}
	}
	for _, hop := range [][2]*Queue{{a, b}, {b, c}} {
		from, to := hop[0], hop[1]
		names, err := from.Ready(All, time.Now().Add(time.Hour))
		if err != nil {
			return err
		}
		for _, n := range names {
			e, err := from.Claim(n)
			if err == ErrGone {
				continue
			}
			if err != nil {
				return err
			}
			r, err := e.BodyReader()
			if err != nil {
				return err
			}
			m := e.Meta.Clone()
			m.AddStage(from.Name, "")
			err = from.Commit(e, []Output{{Queue: to, Meta: m, Body: r}})
			r.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	if root := os.Getenv("QUEUE_CRASHPOINT_CHILD"); root != "" {
		if err := crashPointChild(root); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if root := os.Getenv("QUEUE_CRASH_CHILD"); root != "" {
		if err := crashChild(root); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCrashKill9 kills a child process that moves 1,000 entries through two
// hand-overs with SIGKILL at random moments, several rounds, then lets it
// finish: every entry must end in the last queue exactly once, and nothing may
// be left anywhere else.
func TestCrashKill9(t *testing.T) {
	testdirs.Slow(t, "SIGKILLs writer processes many times")
	root := t.TempDir()
	a, _ := Open(root, "a")
	const n = 1000
	for i := 0; i < n; i++ {
		if _, err := a.EnqueueBytes(&Meta{List: "l@x"}, []byte(fmt.Sprintf("entry %04d\n", i))); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	kills := 0
	for round := 0; round < 8; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "QUEUE_CRASH_CHILD="+root)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(5+rng.Intn(60)) * time.Millisecond)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			kills++
		}
		cmd.Wait()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "QUEUE_CRASH_CHILD="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	t.Logf("%d kills", kills)

	for _, name := range []string{"a", "b", Bad} {
		q, _ := Open(root, name)
		if got := files(t, q); len(got) != 0 {
			t.Fatalf("queue %s left %d files: %v", name, len(got), got[:min(len(got), 5)])
		}
	}
	c, _ := Open(root, "c")
	names := files(t, c)
	seen := map[string]bool{}
	for _, f := range names {
		if !strings.HasSuffix(f, ".msg") {
			t.Fatalf("unexpected file %s in c", f)
		}
		e, err := c.Peek(strings.TrimSuffix(f, ".msg"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := os.ReadFile(c.Dir + "/" + f)
		key := string(body[len(body)-11:])
		if seen[key] {
			t.Fatalf("%q delivered twice (%s)", key, e.Meta.ID)
		}
		seen[key] = true
	}
	if len(seen) != n {
		t.Fatalf("c holds %d distinct entries, want %d", len(seen), n)
	}
}
