package queue

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloister/internal/testdirs"
)

// crashPointChild moves every entry of queue a to b (named after its id, as
// a runner's hand-over is) and of b to both c and d (named after the time
// they are written, so that a second copy would be a second file), putting
// each entry of a back once first. Downstream queues go first, as
// independent runners would after a restart, so that a claim redone upstream
// would meet a copy already consumed downstream. With QUEUE_CRASH_AT=point:n
// the process SIGKILLs itself at the nth time it reaches the point, recovery
// included. With QUEUE_CRASH_PROTOCOL=handover it hands over the way the
// loop did before the ledger (Handover, then Finish).
func crashPointChild(root string) error {
	if at := os.Getenv("QUEUE_CRASH_AT"); at != "" {
		point, ns, _ := strings.Cut(at, ":")
		n, _ := strconv.Atoi(ns)
		seen := 0
		FaultHook = func(p string) error {
			if p == point {
				if seen++; seen == n {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					time.Sleep(time.Minute)
				}
			}
			return nil
		}
	}
	old := os.Getenv("QUEUE_CRASH_PROTOCOL") == "handover"
	qs := map[string]*Queue{}
	for _, n := range []string{"a", "b", "c", "d", Bad} {
		qs[n], _ = Open(root, n)
	}
	move := func(from *Queue, e *Entry, outs []Output) error {
		if !old {
			return from.Commit(e, outs)
		}
		for _, o := range outs {
			if _, err := o.Queue.EnqueueAt(o.Meta, o.Body, 0, o.NotBefore); err != nil {
				return err
			}
		}
		return from.Finish(e)
	}
	for _, name := range []string{"b", "a"} {
		if _, _, err := qs[name].Recover(All, qs[Bad], 1000); err != nil {
			return err
		}
	}
	for moved := true; moved; {
		moved = false
		for _, name := range []string{"b", "a"} {
			ok, err := crashPointRound(qs, name, old, move)
			if err != nil {
				return err
			}
			moved = moved || ok
		}
	}
	return nil
}

// crashPointRound moves the ready entries of one queue and reports whether
// there were any.
func crashPointRound(qs map[string]*Queue, name string, old bool, move func(*Queue, *Entry, []Output) error) (bool, error) {
	{
		from := qs[name]
		names, err := from.Ready(All, time.Now().Add(time.Hour))
		if err != nil {
			return false, err
		}
		for _, n := range names {
			e, err := from.Claim(n)
			if err == ErrGone {
				continue
			}
			if err != nil {
				return false, err
			}
			body, err := e.Body()
			if err != nil {
				return false, err
			}
			m := e.Meta.Clone()
			m.AddStage(from.Name, "")
			var outs []Output
			switch {
			case name == "a" && len(e.Meta.History) == 0:
				if old {
					err = from.Put(e, m, time.Now())
				} else {
					err = from.Commit(e, []Output{{Queue: from, Meta: m, Body: strings.NewReader(string(body)), NotBefore: time.Now()}})
				}
				if err != nil {
					return false, err
				}
				continue
			case name == "a":
				outs = []Output{{Queue: qs["b"], Meta: m, Body: strings.NewReader(string(body))}}
			default:
				now := time.Now()
				outs = []Output{
					{Queue: qs["c"], Meta: m.Clone(), Body: strings.NewReader(string(body)), NotBefore: now},
					{Queue: qs["d"], Meta: m.Clone(), Body: strings.NewReader(string(body)), NotBefore: now},
				}
			}
			if err := move(from, e, outs); err != nil {
				return false, err
			}
		}
		return len(names) > 0, nil
	}
}

// TestCrashPoints kills a process moving entries through two hand-overs
// (one of them to two queues) with SIGKILL at every named point of the
// queue's writes and of the hand-over protocol, several times at different
// occurrences, recovery included, then lets it finish: every entry must be
// in c and in d exactly once, and nothing may be left anywhere else (no
// claim, ledger, staged or temp file).
func TestCrashPoints(t *testing.T) {
	testdirs.Slow(t, "SIGKILLs a process at every crash point")
	points := []string{PointCreate, PointWrite, PointSync, PointRename, PointSyncDir, PointRemove,
		PointStaged, PointCommitted, PointPublished, PointFinished}
	protocol := os.Getenv("QUEUE_CRASH_PROTOCOL")
	const n = 12
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			root := t.TempDir()
			a, _ := Open(root, "a")
			for i := 0; i < n; i++ {
				if _, err := a.EnqueueBytes(&Meta{List: "l@x"}, []byte(fmt.Sprintf("entry %04d\n", i))); err != nil {
					t.Fatal(err)
				}
			}
			run := func(at string) error {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "QUEUE_CRASHPOINT_CHILD="+root, "QUEUE_CRASH_AT="+at,
					"QUEUE_CRASH_PROTOCOL="+protocol)
				out, err := cmd.CombinedOutput()
				if err != nil && !strings.Contains(err.Error(), "killed") {
					t.Fatalf("child (crash at %s): %v\n%s", at, err, out)
				}
				return err
			}
			kills := 0
			for _, k := range []int{1, 4, 9, 2, 17} {
				if run(fmt.Sprintf("%s:%d", point, k)) != nil {
					kills++
				}
			}
			if kills == 0 {
				t.Fatalf("no child reached %s", point)
			}
			if err := run(""); err != nil {
				t.Fatalf("final run: %v", err)
			}
			for _, name := range []string{"a", "b", Bad} {
				q, _ := Open(root, name)
				if got := files(t, q); len(got) != 0 {
					t.Fatalf("%d kills: queue %s left %v", kills, name, got)
				}
			}
			for _, name := range []string{"c", "d"} {
				q, _ := Open(root, name)
				seen := map[string]int{}
				for _, f := range files(t, q) {
					if !strings.HasSuffix(f, ".msg") || strings.HasPrefix(f, ".") {
						t.Fatalf("%d kills: unexpected file %s in %s", kills, f, name)
					}
					body, err := os.ReadFile(q.Dir + "/" + f)
					if err != nil {
						t.Fatal(err)
					}
					seen[string(body[len(body)-11:])]++
				}
				for key, c := range seen {
					if c != 1 {
						t.Errorf("%d kills: %q is in %s %d times", kills, key, name, c)
					}
				}
				if len(seen) != n {
					t.Errorf("%d kills: %s holds %d distinct entries, want %d", kills, name, len(seen), n)
				}
			}
		})
	}
}
