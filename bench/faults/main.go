// Command faults measures exactly-once delivery under random kills, for
// bench/faults.sh and `make test-faults`: a site whose list has -members
// subscribers (with -encrypted, each with an OpenPGP key made once by gpg and
// every copy encrypted), every runner as its own `cloister runner NAME`
// process restarted whenever it dies (as systemd's Restart=always does),
// -posts posts piped into the built deliver binary while a killer SIGKILLs a
// random runner every -kill-min to -kill-max, and a loopback SMTP sink that
// records every copy it accepts by recipient and Message-ID.
//
// Once every member holds every post (or nothing moved for -idle), the killer
// stops, the runners are stopped with SIGTERM and `cloister runners --once`
// drains what is left. It prints the copies lost and duplicated. A duplicate
// is allowed only for the SMTP transaction in flight when an outgoing runner
// was killed (the MTA said 250, the journal did not record it yet): at most
// one transaction per SMTP session (smtp_sessions of them run at once, each
// of one copy: posts go one recipient per transaction) per kill of an
// outgoing runner. The program exits 1 on any lost copy, any post handed over twice
// (repeated to every member), any duplicate beyond that window, or anything
// left in a queue.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"cloister/internal/config"
)

const (
	domain = "lists.faults.test"
	list   = "team@" + domain
	sender = "s00000@subs.test" // a member
)

var runnerNames = []string{"incoming", "command", "rules", "pipeline", "archive", "outgoing", "retry"}

func main() {
	posts := flag.Int("posts", 1000, "posts to send")
	members := flag.Int("members", 10, "subscribers of the list")
	encrypted := flag.Bool("encrypted", false, "give every subscriber a gpg key and encrypt every copy")
	keys := flag.String("keys", "", "file caching the subscribers' armored public keys made by gpg (default: in the temp dir)")
	bin := flag.String("bin", "bin", "folder holding the built cloister and deliver binaries")
	killMin := flag.Duration("kill-min", 200*time.Millisecond, "shortest wait between two kills")
	killMax := flag.Duration("kill-max", 2*time.Second, "longest wait between two kills")
	idle := flag.Duration("idle", 3*time.Minute, "give up waiting after this long without a new copy")
	parallel := flag.Int("deliver-parallel", 4, "deliver processes at once")
	minKills := flag.Int("min-kills", 1, "fail when fewer kills than this happened (the run proved nothing)")
	keep := flag.Bool("keep", false, "keep the site's folder")
	flag.Parse()

	dir, err := os.MkdirTemp("", "cloister-faults-")
	check(err)
	if *keep {
		fmt.Println("site under", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	cloister, deliver := abs(*bin, "cloister"), abs(*bin, "deliver")
	fmt.Printf("%d CPUs; load at start: %s\n", runtime.NumCPU(), loadavg())

	snk := startSink()
	t0 := time.Now()
	var armored []byte
	if *encrypted {
		if *keys == "" {
			*keys = filepath.Join(os.TempDir(), fmt.Sprintf("cloister-faults-keys-%d.asc", *members))
		}
		armored = gpgKeys(*keys, *members)
	}
	cfgPath := setup(dir, snk.addr, *members, armored)
	fmt.Printf("site: %d subscribers%s, made in %.1fs\n", *members, map[bool]string{true: " with gpg keys, encrypted copies", false: ""}[*encrypted], time.Since(t0).Seconds())

	sup := &supervisor{cloister: cloister, cfg: cfgPath, logDir: filepath.Join(dir, "logs")}
	check(os.MkdirAll(sup.logDir, 0o700))
	for _, n := range runnerNames {
		sup.start(n)
	}
	stopKills := make(chan struct{})
	killsDone := make(chan struct{})
	go func() {
		defer close(killsDone)
		for {
			wait := *killMin + time.Duration(rand.Int64N(int64(*killMax-*killMin)+1))
			select {
			case <-stopKills:
				return
			case <-time.After(wait):
			}
			sup.killRandom()
		}
	}()

	// The MTA: one deliver process per post, a few at once; a temporary
	// failure (75) is retried, as an MTA's queue would.
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range *parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				for try := 0; ; try++ {
					cmd := exec.Command(deliver, "--config", cfgPath, "-f", sender, list)
					cmd.Stdin = strings.NewReader(post(i))
					out, err := cmd.CombinedOutput()
					if err == nil {
						break
					}
					if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 75 || try > 20 {
						fail("deliver post %d: %v %s", i, err, out)
					}
					time.Sleep(time.Second)
				}
			}
		}()
	}
	for i := range *posts {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Printf("%d posts delivered into the queue in %.1fs\n", *posts, time.Since(start).Seconds())

	want := *posts * *members
	last, lastChange := int64(-1), time.Now()
	for {
		got := snk.distinct(*posts)
		if got != last {
			last, lastChange = got, time.Now()
		}
		if got >= int64(want) || time.Since(lastChange) > *idle {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	elapsed := time.Since(start)
	close(stopKills)
	<-killsDone
	sup.stopAll()
	// What a last kill left (a claim, a deferral) is finished by a drain.
	drain := exec.Command(cloister, "--config", cfgPath, "--log-level", "warn", "runners", "--once")
	drain.Stderr = os.Stderr
	check(drain.Run())

	lost, dups, twiceToAll := snk.tally(*posts, *members)
	left := leftInQueues(cloister, cfgPath)
	// Posts go one recipient per transaction (VERP), and the outgoing
	// runner has up to smtp_sessions transactions in flight at once, one per
	// session: that many copies may be repeated per kill.
	cfg, err := config.Load(cfgPath)
	check(err)
	perKill := cfg.SMTPSessions
	window := sup.kills["outgoing"] * perKill
	beyond := max(0, dups-window)
	fmt.Printf("posts %d, subscribers %d, copies wanted %d, copies accepted by the sink %d, in %.1fs\n",
		*posts, *members, want, snk.total.Load(), elapsed.Seconds())
	fmt.Printf("kills %d (%s), restarts %d\n", sup.total(), sup.killSummary(), sup.restarts.Load())
	fmt.Printf("lost %d, duplicated %d (in-flight window: %d outgoing kills x %d sessions = %d; beyond it %d), posts repeated to every member %d, entries left in queues %d\n",
		lost, dups, sup.kills["outgoing"], perKill, window, beyond, twiceToAll, left)
	if *encrypted {
		fmt.Printf("copies not multipart/encrypted %d\n", snk.clear.Load())
	}
	fmt.Printf("load at end: %s\n", loadavg())
	if sup.total() < *minKills {
		fmt.Printf("only %d kills, fewer than -min-kills %d: nothing was proved\n", sup.total(), *minKills)
	}
	if lost != 0 || beyond != 0 || twiceToAll != 0 || left != 0 || *encrypted && snk.clear.Load() != 0 || sup.total() < *minKills {
		fmt.Printf("FAIL: the site is kept under %s (runner logs in %s)\n", dir, sup.logDir)
		os.Exit(1) // without the deferred removal
	}
	fmt.Println("OK")
}

func post(i int) string {
	return fmt.Sprintf("From: %s\nTo: %s\nSubject: fault post %d\nMessage-ID: <fault-%d@subs.test>\nDate: %s\n\nPost %d, sent under random kills.\n",
		sender, list, i, i, time.Now().Format(time.RFC1123Z), i)
}

// leftInQueues counts the entries pending or claimed in every queue, bad
// included (`cloister status --json`).
func leftInQueues(cloister, cfg string) int {
	out, err := exec.Command(cloister, "--config", cfg, "status", "--json").Output()
	check(err)
	var st struct {
		Queues []struct {
			Name             string
			Pending, Claimed int
		}
	}
	check(json.Unmarshal(out, &st))
	n := 0
	for _, q := range st.Queues {
		if q.Pending+q.Claimed != 0 {
			fmt.Printf("queue %s holds %d entries\n", q.Name, q.Pending+q.Claimed)
		}
		n += q.Pending + q.Claimed
	}
	return n
}

func abs(dir, name string) string {
	p, err := filepath.Abs(filepath.Join(dir, name))
	check(err)
	return p
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "faults: "+format+"\n", args...)
	os.Exit(1)
}
