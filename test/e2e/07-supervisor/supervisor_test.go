// Package supervisor is the end-to-end suite of `cloister runners`, the
// foreground supervisor for sites without systemd (containers, runit, a
// shell):
//
//	cloister runners -> cloister runner incoming, command, ... (one child each)
//	  kill -9 a child -> started again (backoff) -> a post still flows
//	  SIGTERM -> every child stops, the supervisor exits 0
//	  SIGKILL of the supervisor -> the children stop too (no orphans)
//
// The binaries are the built ones, run as an operator would.
package supervisor

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloister/internal/sitetest"
	"cloister/runners"
	"cloister/test/e2e/harness"
)

// logBuffer is the supervisor's output, safe to read while it writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var startedLine = regexp.MustCompile(`msg="runner started" runner=([a-z]+) pid=(\d+) start=(\d+)`)

// children returns, per runner, the pid of its latest start and how many
// times it was started.
func children(log string) (pids map[string]int, starts map[string]int) {
	pids, starts = map[string]int{}, map[string]int{}
	for _, m := range startedLine.FindAllStringSubmatch(log, -1) {
		pids[m[1]], _ = strconv.Atoi(m[2])
		starts[m[1]], _ = strconv.Atoi(m[3])
	}
	return pids, starts
}

// alive tells whether pid is a live process (not gone, not a zombie) whose
// command line is `... runner NAME`.
func alive(pid int, name string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(cmdline) == 0 {
		return false
	}
	return bytes.HasSuffix(cmdline, []byte("\x00runner\x00"+name+"\x00"))
}

func startSupervisor(t *testing.T, cloister, cfgPath string) (*exec.Cmd, *logBuffer, map[string]int) {
	t.Helper()
	out := &logBuffer{}
	sv := exec.Command(cloister, "--config", cfgPath, "runners")
	sv.Stdout, sv.Stderr = out, out
	if err := sv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sv.Process.Kill()
		sv.Wait()
		if t.Failed() {
			t.Logf("supervisor output:\n%s", out)
		}
	})
	var pids map[string]int
	harness.Wait(t, 60*time.Second, "every runner to start", func() bool {
		pids, _ = children(out.String())
		if len(pids) != len(runners.All) {
			return false
		}
		for name, pid := range pids {
			if !alive(pid, name) {
				return false
			}
		}
		return true
	})
	return sv, out, pids
}

func TestSupervisorRestartsAndStops(t *testing.T) {
	dir := t.TempDir()
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	state := filepath.Join(dir, "state")
	site := harness.Init(t, bins.Cloister, state, sink.Addr)
	cfgPath := site.Config
	site.CreateTeam()

	sv, out, pids := startSupervisor(t, bins.Cloister, cfgPath)
	for _, r := range runners.All {
		if pids[r.Name()] == 0 {
			t.Fatalf("no child for runner %s", r.Name())
		}
	}

	t.Run("a killed runner is started again and mail flows", func(t *testing.T) {
		for _, name := range []string{"incoming", "outgoing"} {
			old := pids[name]
			if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			harness.Wait(t, 60*time.Second, name+" to be started again", func() bool {
				p, starts := children(out.String())
				return starts[name] >= 2 && p[name] != old && alive(p[name], name)
			})
		}
		if !strings.Contains(out.String(), `msg="runner died, restarting" runner=incoming`) {
			t.Errorf("the supervisor did not say the runner died")
		}
		post := "From: ann@subs.test\nTo: team@lists.test\nSubject: after the restart\nMessage-ID: <restart@subs.test>\n\nhello\n"
		if o, e, err := harness.RunErr([]string{"CLOISTER_CONFIG=" + cfgPath}, []byte(post), bins.Deliver, "-f", "ann@subs.test", "team@lists.test"); err != nil {
			t.Fatalf("deliver: %v\n%s%s", err, o, e)
		}
		harness.Wait(t, 60*time.Second, "bob to get the post", func() bool {
			box, _ := sink.Mailbox("bob@subs.test")
			for _, m := range box {
				if bytes.Contains(m, []byte("after the restart")) {
					return true
				}
			}
			return false
		})
	})

	t.Run("SIGTERM stops every runner", func(t *testing.T) {
		all, _ := children(out.String())
		if err := sv.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- sv.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the supervisor exited with %v", err)
			}
		case <-time.After(90 * time.Second):
			t.Fatal("the supervisor did not exit after SIGTERM")
		}
		for name, pid := range all {
			if alive(pid, name) {
				t.Errorf("runner %s (pid %d) outlived the supervisor", name, pid)
			}
		}
		if n := strings.Count(out.String(), `msg="runner stopped"`); n != len(runners.All) {
			t.Errorf("%d runners said stopped, want %d", n, len(runners.All))
		}
	})
}

// TestSupervisorKilledTakesItsChildren: a supervisor killed with SIGKILL
// (it cannot forward anything) leaves no runner behind.
func TestSupervisorKilledTakesItsChildren(t *testing.T) {
	dir := t.TempDir()
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	state := filepath.Join(dir, "state")
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", "lists.test", "--smtp", "127.0.0.1:1")
	sv, _, pids := startSupervisor(t, bins.Cloister, filepath.Join(state, "cloister.toml"))
	sv.Process.Kill()
	sv.Wait()
	harness.Wait(t, 60*time.Second, "the runners to stop with their supervisor", func() bool {
		for name, pid := range pids {
			if alive(pid, name) {
				return false
			}
		}
		return true
	})
}
