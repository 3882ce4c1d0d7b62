package lists

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloister/internal/testdirs"
)

// childEnv tells a re-executed test binary to act as one worker process of
// TestManyProcesses: "DBPATH|ID|MILLISECONDS".
const childEnv = "CLOISTER_LISTS_CHILD"

const sharedList = "shared@lists.example.test"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(childMain(spec))
	}
	os.Exit(m.Run())
}

// childMain interleaves Updates and Views on one database for a while, like a
// runner process, then prints how many members it added and its longest
// wait. Any error (a lock time-out above all) exits 1.
func childMain(spec string) int {
	parts := strings.Split(spec, "|")
	if len(parts) != 3 {
		fmt.Fprintf(os.Stderr, "bad %s=%q\n", childEnv, spec)
		return 2
	}
	ms, _ := strconv.Atoi(parts[2])
	s := &Store{Path: parts[0], Timeout: DefaultTimeout, Now: time.Now}
	n, longest, err := work(s, "child"+parts[1], time.Duration(ms)*time.Millisecond)
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s after %d writes: %v\n", parts[1], n, err)
		return 1
	}
	fmt.Printf("wrote %d longest %d\n", n, longest.Microseconds())
	return 0
}

// work adds members named after who, checks after each write that it reads
// back in a separate View, and mixes in token use and whole-roster walks.
func work(s *Store, who string, d time.Duration) (n int, longest time.Duration, err error) {
	timed := func(f func(func(*Tx) error) error, fn func(*Tx) error) error {
		start := time.Now()
		err := f(fn)
		longest = max(longest, time.Since(start))
		return err
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		addr := fmt.Sprintf("%s-%d@subs.test", who, n)
		var tok string
		err := timed(s.Update, func(tx *Tx) error {
			if err := tx.AddMember(sharedList, &Member{Address: addr}); err != nil {
				return err
			}
			t := &Token{List: sharedList, Address: addr, Action: "subscribe"}
			if err := tx.NewToken(t, time.Hour); err != nil {
				return err
			}
			tok = t.Value
			return nil
		})
		if err != nil {
			return n, longest, fmt.Errorf("update: %w", err)
		}
		n++
		err = timed(s.View, func(tx *Tx) error {
			if _, err := tx.Member(sharedList, addr); err != nil {
				return err
			}
			if n%10 == 0 {
				mine := 0
				if err := tx.ForEachMember(sharedList, func(m *Member) error {
					if strings.HasPrefix(m.Address, who+"-") {
						mine++
					}
					return nil
				}); err != nil {
					return err
				}
				if mine != n {
					return fmt.Errorf("roster holds %d of my %d members", mine, n)
				}
			}
			return nil
		})
		if err != nil {
			return n, longest, fmt.Errorf("view: %w", err)
		}
		if n%3 == 0 {
			err = timed(s.Update, func(tx *Tx) error {
				_, err := tx.UseToken(tok)
				return err
			})
			if err != nil {
				return n, longest, fmt.Errorf("use token: %w", err)
			}
		}
	}
	return n, longest, nil
}

// TestManyProcesses runs four worker processes plus this one (which also
// creates and deletes lists, rewriting lists.idx, as the CLI does) against
// one database for two seconds, and checks that no unit of work timed out and
// every write is there.
func TestManyProcesses(t *testing.T) {
	testdirs.Slow(t, "starts many writer processes")
	const children = 4
	const d = 2 * time.Second
	s, err := Open(filepath.Join(t.TempDir(), "cloister.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.IndexPath = filepath.Join(filepath.Dir(s.Path), "lists.idx")
	createList(t, s, sharedList)

	type result struct {
		out     bytes.Buffer
		errOut  bytes.Buffer
		waitErr error
	}
	results := make([]*result, children)
	var wg sync.WaitGroup
	for i := range children {
		r := &result{}
		results[i] = r
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|%d", childEnv, s.Path, i, d.Milliseconds()))
		cmd.Stdout, cmd.Stderr = &r.out, &r.errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { r.waitErr = cmd.Wait() })
	}

	// This process: its own members, plus lists created and deleted.
	var parentN int
	var parentLongest time.Duration
	var created []string
	parentErr := make(chan error, 1)
	go func() {
		var err error
		parentN, parentLongest, err = work(s, "parent", d/2)
		if err != nil {
			parentErr <- err
			return
		}
		for i := 0; i < 20; i++ {
			addr := fmt.Sprintf("extra%02d@lists.example.test", i)
			err := s.Update(func(tx *Tx) error {
				l, err := NewList(addr, tx.Now())
				if err != nil {
					return err
				}
				if err := tx.CreateList(l); err != nil {
					return err
				}
				if i%4 == 3 { // delete every fourth earlier one
					return tx.DeleteList(fmt.Sprintf("extra%02d@lists.example.test", i-1))
				}
				return nil
			})
			if err != nil {
				parentErr <- err
				return
			}
			created = append(created, addr)
			if i%4 == 3 {
				created = slices.DeleteFunc(created, func(a string) bool {
					return a == fmt.Sprintf("extra%02d@lists.example.test", i-1)
				})
			}
		}
		parentErr <- nil
	}()
	if err := <-parentErr; err != nil {
		t.Errorf("parent: %v", err)
	}
	wg.Wait()

	wrote := map[string]int{"parent": parentN}
	t.Logf("parent: %d writes, longest unit of work %v", parentN, parentLongest)
	for i, r := range results {
		if r.waitErr != nil {
			t.Errorf("child %d: %v: %s", i, r.waitErr, r.errOut.String())
			continue
		}
		var n, longestUS int
		if _, err := fmt.Sscanf(r.out.String(), "wrote %d longest %d", &n, &longestUS); err != nil {
			t.Errorf("child %d output %q: %v", i, r.out.String(), err)
			continue
		}
		if n == 0 {
			t.Errorf("child %d wrote nothing", i)
		}
		wrote["child"+strconv.Itoa(i)] = n
		t.Logf("child %d: %d writes, longest unit of work %v", i, n, time.Duration(longestUS)*time.Microsecond)
	}
	if t.Failed() {
		return
	}
	// Fairness, by counts: with bbolt's polled lock alone, some workers got
	// one write in while others got hundreds; the kernel-queued sidecar
	// lock keeps them within a small factor of each other.
	mean := 0
	for i := range children {
		mean += wrote["child"+strconv.Itoa(i)]
	}
	mean /= children
	for i := range children {
		if n := wrote["child"+strconv.Itoa(i)]; n*10 < mean {
			t.Errorf("child %d starved: %d writes, mean %d", i, n, mean)
		}
	}

	// Every write is there, and nothing else.
	err = s.View(func(tx *Tx) error {
		total := 0
		for who, n := range wrote {
			for j := range n {
				if _, err := tx.Member(sharedList, fmt.Sprintf("%s-%d@subs.test", who, j)); err != nil {
					return fmt.Errorf("%s's write %d: %w", who, j, err)
				}
			}
			total += n
		}
		if got, err := tx.CountMembers(sharedList); err != nil || got != total {
			return fmt.Errorf("roster holds %d members, %d were written (%v)", got, total, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(append(slices.Sorted(slices.Values(created)), sharedList), "\n") + "\n"
	idx, err := os.ReadFile(s.IndexPath)
	if err != nil || string(idx) != want {
		t.Fatalf("lists.idx = %q, %v; want %q", idx, err, want)
	}
}
