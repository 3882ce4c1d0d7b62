//go:build faultinject

package queue

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// A binary built with -tags faultinject kills itself with SIGKILL at the
// crash points CrashAtEnv names, so that tests can run the real runner
// processes and stop them dead between two durable steps.
func init() {
	spec := os.Getenv(CrashAtEnv)
	if spec == "" {
		return
	}
	at, err := ParseCrashAt(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(78)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	FaultHook = func(point string) error {
		mu.Lock()
		seen[point]++
		hit := seen[point] == at[point]
		mu.Unlock()
		if hit {
			fmt.Fprintf(os.Stderr, "faultinject: SIGKILL at %s:%d\n", point, at[point])
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute) // the signal is delivered before this returns
		}
		return nil
	}
}
