// Command deliverbench measures the built deliver binary as the MTA runs it:
// one process per message, fsync on. It prints messages per second, the
// median and 95th percentile wall time per message (process start included),
// and the peak RSS of deliver for one large message. With -floor it runs the
// floor program (bench/enqueuefloor: write, fsync, rename, folder fsync and
// nothing else) in turn with deliver, message for message, into a folder on
// the same file system, and prints the ratio of the medians.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	deliver := flag.String("deliver", "bin/deliver", "deliver binary")
	n := flag.Int("n", 1000, "messages")
	size := flag.Int("size", 10<<10, "message size in bytes")
	bigMB := flag.Int("big", 50, "size of the large message for the RSS measurement, MB")
	floor := flag.String("floor", "", "floor program (bench/enqueuefloor) to compare with")
	flag.Parse()

	dir, err := os.MkdirTemp("", "deliverbench-")
	check(err)
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "cloister.toml")
	check(os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir = %q\ndomain = \"lists.test\"\nmax_message_size_kb = %d\n", dir, (*bigMB+10)<<10)), 0o600))
	check(os.WriteFile(filepath.Join(dir, "lists.idx"), []byte("team@lists.test\n"), 0o644))

	msg := []byte("From: bench@subs.test\nTo: team@lists.test\nSubject: bench\n\n")
	line := []byte("0123456789 the quick brown fox jumps over the lazy dog 0123456789\n")
	for len(msg) < *size {
		msg = append(msg, line...)
	}
	msg = msg[:*size]

	floorDir := filepath.Join(dir, "floor")
	check(os.MkdirAll(floorDir, 0o700))
	times := make([]time.Duration, *n)
	var floors []time.Duration
	var total time.Duration
	for i := 0; i < *n; i++ {
		t0 := time.Now()
		runDeliver(*deliver, cfg, msg)
		times[i] = time.Since(t0)
		total += times[i]
		if *floor != "" { // in turn, so that both see the same load
			t0 = time.Now()
			cmd := exec.Command(*floor, floorDir)
			cmd.Stdin = bytes.NewReader(msg)
			cmd.Stderr = os.Stderr
			check(cmd.Run())
			floors = append(floors, time.Since(t0))
		}
	}
	sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
	fmt.Printf("deliver: %d messages of %d KB in %.2fs: %.0f messages/s, median %.2f ms, p95 %.2f ms per message (process start included)\n",
		*n, *size>>10, total.Seconds(), float64(*n)/total.Seconds(),
		ms(times[len(times)/2]), ms(times[len(times)*95/100]))
	if len(floors) > 0 {
		sort.Slice(floors, func(a, b int) bool { return floors[a] < floors[b] })
		fmt.Printf("floor (write, fsync, rename, folder fsync): median %.2f ms, p95 %.2f ms; deliver/floor median ratio %.2f\n",
			ms(floors[len(floors)/2]), ms(floors[len(floors)*95/100]), float64(times[len(times)/2])/float64(floors[len(floors)/2]))
	}

	// The large message is streamed to a file and deliver reads it from
	// there: a child started while this process held 50 MB would report this
	// process's peak RSS as its own (Linux carries the pre-exec high-water
	// mark over), which would hide deliver's.
	bigPath := filepath.Join(dir, "big.eml")
	f, err := os.Create(bigPath)
	check(err)
	fmt.Fprintf(f, "From: bench@subs.test\nSubject: big\n\n")
	for written := 0; written < *bigMB<<20; written += len(line) {
		f.Write(line)
	}
	check(f.Close())
	rss := runDeliverFile(*deliver, cfg, bigPath)
	fmt.Printf("deliver: peak RSS for a %d MB message: %.1f MB\n", *bigMB, float64(rss)/1024)
}

// runDeliver pipes msg into deliver and returns its peak RSS in KB.
func runDeliver(deliver, cfg string, msg []byte) int64 {
	cmd := exec.Command(deliver, "--config", cfg, "team@lists.test")
	cmd.Stdin = bytes.NewReader(msg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "deliver failed: %v: %s\n", err, stderr.String())
		os.Exit(1)
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

// runDeliverFile is runDeliver with a file as standard input.
func runDeliverFile(deliver, cfg, path string) int64 {
	f, err := os.Open(path)
	check(err)
	defer f.Close()
	cmd := exec.Command(deliver, "--config", cfg, "team@lists.test")
	cmd.Stdin = f
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "deliver failed: %v: %s\n", err, stderr.String())
		os.Exit(1)
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
