// Package multiprocess runs every runner as its own process, as systemd
// would, against one state directory, while deliver processes queue posts and
// CLI commands write to the list store at the same time:
//
//	deliver x40 -> queue/in -> [incoming] -> [rules] -> [pipeline] -> [archive]
//	                                                             \-> [outgoing] -> SMTP sink
//	cloister member add / list set, concurrently
//
// Every post must reach every member, no process may hit a lock time-out, and
// every runner must stop cleanly on SIGTERM.
package multiprocess

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloister/internal/sitetest"
	"cloister/test/e2e/harness"
)

func TestEveryRunnerItsOwnProcess(t *testing.T) {
	dir := harness.WorkDir(t)
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(state, "cloister.toml")
	env := []string{"CLOISTER_CONFIG=" + cfg}
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", "lists.test", "--smtp", sink.Addr)
	harness.Run(t, env, bins.Cloister, "list", "create", "team", "--owner", "ann@subs.test")
	members := []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"}
	for _, m := range members[1:] {
		harness.Run(t, env, bins.Cloister, "member", "add", "team", m)
	}

	type proc struct {
		name string
		cmd  *exec.Cmd
		log  *bytes.Buffer
	}
	var procs []*proc
	for _, r := range []string{"incoming", "command", "rules", "pipeline", "archive", "outgoing", "retry"} {
		p := &proc{name: r, log: &bytes.Buffer{}}
		p.cmd = exec.Command(bins.Cloister, "runner", r)
		p.cmd.Env = append(os.Environ(), env...)
		p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		for _, p := range procs {
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("runner %s did not stop cleanly: %v\n%s", p.name, err, p.log)
			}
		}
	}
	defer stop()

	const posts = 40
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the MTA, one deliver process per post
		defer wg.Done()
		for i := 0; i < posts; i++ {
			msg := fmt.Sprintf("From: bob@subs.test\nTo: team@lists.test\nSubject: post %d\n\nbody %d\n", i, i)
			if _, errOut, err := harness.RunErr(env, []byte(msg), bins.Deliver, "-f", "bob@subs.test", "team@lists.test"); err != nil {
				t.Errorf("deliver: %v %s", err, errOut)
			}
		}
	}()
	go func() { // an operator, writing to the list store meanwhile
		defer wg.Done()
		for i := 0; i < 20; i++ {
			if _, errOut, err := harness.RunErr(env, nil, bins.Cloister, "member", "add", "team", fmt.Sprintf("extra%02d@subs.test", i), "--no-delivery"); err != nil {
				t.Errorf("member add: %v %s", err, errOut)
			}
			if _, errOut, err := harness.RunErr(env, nil, bins.Cloister, "list", "set", "team", "max_recipients", fmt.Sprint(10+i)); err != nil {
				t.Errorf("list set: %v %s", err, errOut)
			}
		}
	}()
	wg.Wait()
	harness.Wait(t, 90*time.Second, "every member to receive every post", func() bool {
		for _, m := range members {
			if box, _ := sink.Mailbox(m); len(box) < posts {
				return false
			}
		}
		return true
	})
	stop()
	for _, m := range members {
		if box, _ := sink.Mailbox(m); len(box) != posts {
			t.Errorf("%s received %d posts, want %d", m, len(box), posts)
		}
	}
	for _, p := range procs {
		if s := strings.ToLower(p.log.String()); strings.Contains(s, "timeout") || strings.Contains(s, "level=error") {
			t.Errorf("runner %s logged errors:\n%s", p.name, p.log)
		}
	}
	out := harness.Run(t, env, bins.Cloister, "status", "--json")
	var st struct {
		Queues []struct {
			Name             string
			Pending, Claimed int
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	for _, q := range st.Queues {
		if q.Pending+q.Claimed != 0 {
			t.Errorf("queue %s holds %d entries", q.Name, q.Pending+q.Claimed)
		}
	}
}
