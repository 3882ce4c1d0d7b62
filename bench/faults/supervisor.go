package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// supervisor runs each runner as its own process and restarts it when it
// dies.
type supervisor struct {
	cloister, cfg, logDir string
	mu                    sync.Mutex
	procs                 map[string]*exec.Cmd
	kills                 map[string]int
	killedPIDs            map[int]bool // processes the killer signalled
	restarts              atomic.Int64
	stopping              bool
	wg                    sync.WaitGroup
}

func (s *supervisor) start(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.procs == nil {
		s.procs, s.kills, s.killedPIDs = map[string]*exec.Cmd{}, map[string]int{}, map[int]bool{}
	}
	s.startLocked(name)
}

func (s *supervisor) startLocked(name string) {
	logf, err := os.OpenFile(filepath.Join(s.logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	check(err)
	cmd := exec.Command(s.cloister, "--config", s.cfg, "--log-level", "warn", "runner", name)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	s.procs[name] = cmd
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		killed := s.killedPIDs[cmd.Process.Pid]
		delete(s.killedPIDs, cmd.Process.Pid)
		if s.stopping {
			if err != nil && !killed { // the killer's last kill may come just before the stop
				fmt.Fprintf(os.Stderr, "runner %s did not stop cleanly: %v (see %s)\n", name, err, logf.Name())
			}
			return
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			fmt.Fprintf(os.Stderr, "runner %s exited by itself: %v (see %s)\n", name, err, logf.Name())
		}
		s.restarts.Add(1)
		s.startLocked(name)
	}()
}

func (s *supervisor) killRandom() {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := runnerNames[rand.IntN(len(runnerNames))]
	if p := s.procs[name]; p != nil && p.Process.Signal(syscall.SIGKILL) == nil {
		s.kills[name]++
		s.killedPIDs[p.Process.Pid] = true
	}
}

func (s *supervisor) stopAll() {
	s.mu.Lock()
	s.stopping = true
	for _, p := range s.procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *supervisor) total() int {
	n := 0
	for _, k := range s.kills {
		n += k
	}
	return n
}

func (s *supervisor) killSummary() string {
	var parts []string
	for _, n := range runnerNames {
		parts = append(parts, fmt.Sprintf("%s %d", n, s.kills[n]))
	}
	return strings.Join(parts, ", ")
}
