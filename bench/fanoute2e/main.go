// Command fanoute2e measures a fan-out as an operator runs it, for
// bench/fanout-e2e.sh: a site whose list has N subscribers with Curve25519
// keys (made here in Go and imported in bulk through the keyring API, as
// `cloister key import FILE` does, keeping the signature checks; it takes
// seconds where one `cloister key add` process per key takes minutes), a
// 50 KB plaintext post piped into the built deliver binary and moved by the
// incoming, rules and pipeline runners (each its own `cloister runner NAME
// --once` process) into queue/out; then the outgoing runner, as its own
// process, signs it once with the list key and sends one encrypted copy per
// subscriber (or per batch_size subscribers) to a real SMTP server process.
// It prints the outgoing process's wall time, CPU (user + system), CPU per
// 1,000 copies and copies per second, then runs Postfix's smtp-source into
// the same receiver with the same message size, count and recipients per
// message, on as many sessions as the runner opens (smtp_sessions), and
// prints the ratio of the two rates. Each case runs -repeat times; the
// medians are printed. Mode "once" is the runner started for the post
// (`--once`: it unlocks the list key and parses and checks every subscriber
// key first); mode "warm" is a post handed to a long-running outgoing runner
// that has already sent one, as under systemd. With -memory (bench/memory.sh)
// it instead sends one post per arrival kind (-arrive: clear, pgp, inline, smime)
// through every runner and prints each runner's peak RSS (memory.go). With -cpuprofile DIR each
// outgoing runner process writes a CPU profile into DIR (runners.ProfileEnv):
// outgoing-BUILD-RECEIVER-N-BATCH-once-I.pprof for the runs of mode once,
// and ...-warm-I.pprof for the long-running ones (both their posts, the
// first too). -bin takes several builds, comma-separated: they take turns
// on the same site, run after run, for figures side by side.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/bench/benchsite"
	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/keyring"
	"cloister/lists"
	"cloister/runners"
)

const (
	domain = "lists.bench.test"
	list   = "team@" + domain
)

// port is where the receivers listen (-port); sessions is the sites'
// smtp_sessions (-sessions, 0 for the default); chunking sets the sites'
// smtp_chunking (-chunking: BDAT where the receiver offers CHUNKING).
var (
	port       = "127.0.0.1:25251"
	sessions   int
	chunking   bool
	profileDir string
)

func main() {
	ns := flag.String("n", "1000", "subscriber counts, comma-separated")
	batches := flag.String("batch", "1,100", "batch_size values, comma-separated")
	receivers := flag.String("receivers", "smtpsink,smtp-sink", "receivers: smtpsink (go-smtp, discarding), smtp-sink (Postfix's), postfix (a private Postfix instance taking mail into its queue)")
	size := flag.Int("size", 50<<10, "post size in bytes")
	bin := flag.String("bin", "bin", "folder holding the built cloister, deliver and smtpsink binaries; several, comma-separated, take turns on the same site (the first one's smtpsink receives)")
	keep := flag.Bool("keep", false, "keep the sites' folder")
	repeat := flag.Int("repeat", 3, "runs of each case (the medians are printed)")
	warm := flag.Bool("warm", true, "also time posts handed to a long-running outgoing runner")
	source := flag.Bool("source", true, "also run smtp-source into the same receiver, for the ratio")
	flag.StringVar(&port, "port", port, "address the receivers listen on")
	flag.IntVar(&sessions, "sessions", 0, "smtp_sessions of the sites (0: the default)")
	flag.BoolVar(&chunking, "chunking", false, "set smtp_chunking in the sites (BDAT where the receiver offers it)")
	memory := flag.Bool("memory", false, "instead: one post per -arrive kind through every runner, each runner's peak RSS (bench/memory.sh)")
	arrive := flag.String("arrive", "clear,pgp,smime", "with -memory: how the post arrives, comma-separated: clear, pgp (PGP/MIME encrypted and signed), inline (inline PGP encrypted and signed), smime (S/MIME encrypted)")
	flag.StringVar(&memoryLogLevel, "log-level", memoryLogLevel, "with -memory: the runners' log level")
	flag.StringVar(&profileDir, "cpuprofile", "", "folder for the outgoing runner processes' CPU profiles (none when empty)")
	flag.StringVar(&memorySubs, "subs", memorySubs, "with -memory: what the subscribers have, pgp (a key each) or smime (a certificate each)")
	flag.Parse()
	runSourceFlag, postSize = *source, *size

	dir, err := os.MkdirTemp("", "fanout-e2e-")
	check(err)
	if *keep {
		fmt.Println("sites under", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	var bs []bins
	for _, d := range strings.Split(*bin, ",") {
		// The receivers are the first build's, whatever build sends.
		bs = append(bs, bins{name: filepath.Base(d), cloister: abs(d, "cloister"), deliver: abs(d, "deliver"), sink: abs(strings.Split(*bin, ",")[0], "smtpsink")})
	}
	if *memory {
		var counts []int
		for _, nText := range strings.Split(*ns, ",") {
			n, err := strconv.Atoi(nText)
			check(err)
			counts = append(counts, n)
		}
		runMemory(bs[0], dir, counts, strings.Split(*arrive, ","), *size)
		return
	}
	fmt.Printf("%d CPUs; load at start: %s\n", runtime.NumCPU(), benchsite.Loadavg())
	fmt.Printf("post of %d KB; rss_MB is the outgoing process's peak RSS (VmHWM, mode once), x_post that over the post's size\n", *size>>10)
	fmt.Printf("mach_cpu is the CPU the whole machine was busy during the runner's run (mode once) and during smtp-source's\n")
	fmt.Printf("src_copy_s is smtp-source sending one of the copies the runner sent (saved by smtpsink: run it first), ratio_c the ratio to that\n")
	fmt.Printf("%-10s %-9s %-4s %6s %5s | %7s %7s %8s %8s %7s %6s | %7s %7s %8s | %5s | %7s %7s | %7s %7s\n",
		"build", "receiver", "mode", "N", "batch", "wall_s", "cpu_s", "cpu/1k_s", "copies/s", "rss_MB", "x_post", "src_s", "src_cpu", "src_c/s", "ratio",
		"mach_cpu", "src_mach", "src_copy_s", "ratio_c")
	for _, nText := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(nText)
		check(err)
		t0 := time.Now()
		cfgPath := setup(filepath.Join(dir, "n"+nText), n)
		fmt.Printf("  (site with %d keyed subscribers made in %.1fs)\n", n, time.Since(t0).Seconds())
		for _, rcv := range strings.Split(*receivers, ",") {
			for _, bText := range strings.Split(*batches, ",") {
				batch, err := strconv.Atoi(bText)
				check(err)
				runOne(bs, cfgPath, rcv, n, batch, *size, *repeat, *warm)
			}
		}
	}
	fmt.Printf("load at end: %s\n", benchsite.Loadavg())
}

// bins are the binaries of one build (-bin: several builds, comma-separated,
// are run in turn on the same site, for figures side by side).
type bins struct{ name, cloister, deliver, sink string }

// runOne stages a post and sends it with each build's outgoing runner into
// rcv, the builds taking turns, repeat times each; then runs smtp-source
// into a fresh rcv repeat times; and prints one line of medians per build
// and mode.
func runOne(bs []bins, cfgPath, rcv string, n, batch, size, repeat int, warm bool) {
	setBatch(cfgPath, batch)
	type runs struct {
		walls, cpus, wwalls, wcpus, machs []time.Duration
		rss                               int64 // KB, the largest of the runs
	}
	rs := make([]runs, len(bs))
	for i := range repeat {
		for k, b := range bs {
			wall, cpu, rss, mach := runOutgoing(b, cfgPath, rcv, n, batch, size, i)
			rs[k].walls, rs[k].cpus, rs[k].rss = append(rs[k].walls, wall), append(rs[k].cpus, cpu), max(rs[k].rss, rss)
			rs[k].machs = append(rs[k].machs, mach)
		}
	}
	for i := range repeat {
		for k, b := range bs {
			if !warm {
				break
			}
			w, c := runWarm(b, cfgPath, rcv, size, 1, fmt.Sprintf("outgoing-%s-%s-%d-%d-warm-%d.pprof", b.name, rcv, n, batch, i))
			rs[k].wwalls, rs[k].wcpus = append(rs[k].wwalls, w), append(rs[k].wcpus, c)
		}
	}
	src := runSource(bs[0], rcv, n, batch, size, repeat)
	for k, b := range bs {
		line := func(mode string, wall, cpu time.Duration, rssKB int64, mach time.Duration) {
			rate := float64(n) / wall.Seconds()
			mem := "      -      -"
			if rssKB > 0 {
				mem = fmt.Sprintf("%7.1f %6.2f", float64(rssKB)/1024, float64(rssKB)*1024/float64(size))
			}
			srcs := "      -       -        - |     -"
			if src.rate > 0 {
				srcs = fmt.Sprintf("%7.2f %7.2f %8.0f | %5.2f", src.wall.Seconds(), src.cpu.Seconds(), src.rate, rate/src.rate)
			}
			machs := "      -       -"
			if mach > 0 {
				machs = fmt.Sprintf("%7.2f %7.2f", mach.Seconds(), src.mach.Seconds())
			}
			copies := "      -       -"
			if src.copyRate > 0 {
				copies = fmt.Sprintf("%7.2f %7.2f", src.copyWall.Seconds(), rate/src.copyRate)
			}
			fmt.Printf("%-10s %-9s %-4s %6d %5d | %7.2f %7.2f %8.3f %8.0f %s | %s | %s | %s\n",
				b.name, rcv, mode, n, batch, wall.Seconds(), cpu.Seconds(), cpu.Seconds()*1000/float64(n), rate, mem, srcs, machs, copies)
		}
		line("once", median(rs[k].walls), median(rs[k].cpus), rs[k].rss, median(rs[k].machs))
		if warm {
			line("warm", median(rs[k].wwalls), median(rs[k].wcpus), 0, 0)
		}
	}
}

// runOutgoing stages a post and times one `cloister runner outgoing
// --once` of build b sending it into rcv (run i of the case): its wall
// time, CPU and peak RSS (KB). It stops the program when a copy is
// missing, doubled, or left in a queue.
func runOutgoing(b bins, cfgPath, rcv string, n, batch, size, i int) (time.Duration, time.Duration, int64, time.Duration) {
	copies := n
	stage(b, cfgPath, size, true)
	key := [2]int{n, batch}
	save := ""
	if _, ok := copyFiles[key]; !ok && rcv == "smtpsink" {
		save = filepath.Join(filepath.Dir(cfgPath), fmt.Sprintf("copy-%d-%d.eml", n, batch))
	}
	stop := startReceiver(b, rcv, save)
	start, busy := time.Now(), machineBusy()
	cmd := exec.Command(b.cloister, "--config", cfgPath, "--log-level", "warn", "runner", "outgoing", "--once")
	cmd.Stderr = os.Stderr
	cmd.Env = profileEnv(fmt.Sprintf("outgoing-%s-%s-%d-%d-once-%d.pprof", b.name, rcv, n, batch, i))
	check(cmd.Start())
	// The runner's own peak (VmHWM), read while it runs: getrusage's
	// maxrss of a child started by vfork counts this process's memory
	// before the exec too.
	// Every 50 ms: reading /proc every 5 ms took about a second of CPU
	// over a 25 s run into Postfix, CPU that smtp-source's run does not
	// share its 2 cores with. The peak is the keys' and the shared parts'
	// and comes early.
	hwm := watchHWM(cmd, 50*time.Millisecond)
	err := cmd.Wait()
	rss := <-hwm
	check(err)
	wall, busy := time.Since(start), machineBusy()-busy
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	counts := stop()
	if left := entries(cfgPath, "out") + entries(cfgPath, "retry") + entries(cfgPath, "bad"); left != 0 {
		fmt.Fprintf(os.Stderr, "fanoute2e: %d entries left in out, retry or bad after the outgoing runner\n", left)
		os.Exit(1)
	}
	if c, ok := counts["recipients"]; ok {
		if c != int64(copies) || counts["distinct"] != int64(copies) || counts["duplicated"] != 0 || counts["bad"] != 0 {
			fmt.Fprintf(os.Stderr, "fanoute2e: the sink counted %d recipients (%d distinct, %d duplicated, %d commands refused), want %d once each\n",
				c, counts["distinct"], counts["duplicated"], counts["bad"], copies)
			os.Exit(1)
		}
		msgLens[key] = int(counts["bytes"] / counts["messages"])
	}
	if save != "" {
		if _, err := os.Stat(save); err == nil {
			copyFiles[key] = save
		}
	}
	return wall, cpu, rss, busy
}

// runSource runs smtp-source repeat times into a fresh rcv, with messages
// of the size of a copy (as smtpsink counted it, else a guess) and, when
// smtpsink saved one of the copies, with that copy (-F), and returns what
// it measured (zero without -source).
func runSource(b bins, rcv string, n, batch, size, repeat int) source {
	if !runSourceFlag {
		return source{}
	}
	msgs := (n + batch - 1) / batch
	msgLen := size * 4 / 3
	if l, ok := msgLens[[2]int{n, batch}]; ok {
		msgLen = l
	}
	copyFile := copyFiles[[2]int{n, batch}]
	var swalls, scpus, machs, cwalls []time.Duration
	for range repeat {
		// As many sessions as the outgoing runner opens (smtp_sessions).
		args := []string{"-d", "-s", strconv.Itoa(srcSessions()), "-m", strconv.Itoa(msgs), "-r", strconv.Itoa(batch), "-N",
			"-f", "team-bounces@" + domain, "-t", "sub@subs.test"}
		wall, cpu, mach := timeSource(b, rcv, append(args, "-l", strconv.Itoa(msgLen), port))
		swalls, scpus, machs = append(swalls, wall), append(scpus, cpu), append(machs, mach)
		if copyFile != "" {
			wall, _, _ := timeSource(b, rcv, append(args, "-F", copyFile, port))
			cwalls = append(cwalls, wall)
		}
	}
	src := source{wall: median(swalls), cpu: median(scpus), mach: median(machs)}
	src.rate = float64(msgs*batch) / src.wall.Seconds()
	if len(cwalls) > 0 {
		src.copyWall = median(cwalls)
		src.copyRate = float64(msgs*batch) / src.copyWall.Seconds()
	}
	return src
}

// source is what runSource measured: smtp-source's median wall time, CPU,
// rate and machine CPU with generated messages of a copy's size, and its
// median wall time and rate sending one of the copies itself (-F; zero
// when no copy was saved: smtpsink saves one).
type source struct {
	wall, cpu, mach time.Duration
	rate            float64
	copyWall        time.Duration
	copyRate        float64
}

// timeSource runs smtp-source with args into a fresh rcv and returns its
// wall time, its CPU and the machine's busy CPU meanwhile.
func timeSource(b bins, rcv string, args []string) (time.Duration, time.Duration, time.Duration) {
	stop := startReceiver(b, rcv, "")
	defer stop()
	start, busy := time.Now(), machineBusy()
	src := exec.Command("smtp-source", args...)
	src.Stderr = os.Stderr
	check(src.Run())
	return time.Since(start), src.ProcessState.UserTime() + src.ProcessState.SystemTime(), machineBusy() - busy
}

// runWarm starts the outgoing runner as a long-running process and hands
// it repeat+1 posts one after the other; it returns the median wall time
// (from the pipeline's hand-over to queue/out being empty again) and CPU of
// the posts after the first, which find the list key unlocked and the
// subscribers' keys parsed and judged.
func runWarm(b bins, cfgPath, rcv string, size, repeat int, profile string) (time.Duration, time.Duration) {
	stop := startReceiver(b, rcv, "")
	defer stop()
	cmd := exec.Command(b.cloister, "--config", cfgPath, "--log-level", "warn", "runner", "outgoing")
	cmd.Stderr = os.Stderr
	cmd.Env = profileEnv(profile)
	check(cmd.Start())
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var walls, cpus []time.Duration
	for i := range repeat + 1 {
		// A Postfix still delivering the post before (into discard) would
		// take this one's CPU: smtp-source's runs start with an empty queue.
		receiverIdle()
		before := procCPU(cmd.Process.Pid)
		start := stage(b, cfgPath, size, false)
		for entries(cfgPath, "out") > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		wall, cpu := time.Since(start), procCPU(cmd.Process.Pid)-before
		if left := entries(cfgPath, "retry") + entries(cfgPath, "bad"); left != 0 {
			fmt.Fprintf(os.Stderr, "fanoute2e: %d entries in retry or bad after the outgoing runner\n", left)
			os.Exit(1)
		}
		if i > 0 {
			walls, cpus = append(walls, wall), append(cpus, cpu)
		}
	}
	return median(walls), median(cpus)
}

// profileEnv is the environment of an outgoing runner process: this
// process's, and with -cpuprofile the profile file name in that folder.
func profileEnv(name string) []string {
	env := os.Environ()
	if profileDir == "" {
		return env
	}
	return append(env, runners.ProfileEnv+"="+abs(profileDir, name))
}

// watchHWM polls the peak RSS (VmHWM, in KB) of cmd's started process every
// interval until the caller receives from the channel (after cmd.Wait), and
// sends the highest value it read.
func watchHWM(cmd *exec.Cmd, every time.Duration) <-chan int64 {
	hwm := make(chan int64)
	go func() {
		var peak int64
		for {
			if v := vmHWM(cmd.Process.Pid); v > peak {
				peak = v
			}
			select {
			case hwm <- peak:
				return
			case <-time.After(every):
			}
		}
	}()
	return hwm
}

// vmHWM returns a process's peak RSS so far in KB (VmHWM), 0 once it is gone.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// procCPU returns the user + system CPU a process has used so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	// The fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, err := strconv.ParseInt(f[11], 10, 64)
	check(err)
	stime, err := strconv.ParseInt(f[12], 10, 64)
	check(err)
	return clockTicks(utime + stime)
}

// machineBusy returns the CPU time the machine's processors have spent
// other than idle or waiting for I/O since boot (/proc/stat): over a run,
// the sender's, the receiver's (all of Postfix's processes) and the rest.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	check(err)
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 {
			continue // idle, iowait
		}
		n, err := strconv.ParseInt(v, 10, 64)
		check(err)
		busy += n
	}
	return clockTicks(busy)
}

// clockTicks is n of the clock ticks /proc counts CPU time in (USER_HZ,
// 100 on Linux) as a duration.
func clockTicks(n int64) time.Duration {
	const userHZ = 100
	return time.Duration(n) * time.Second / userHZ
}

// median returns the median of ds.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// startReceiver starts an SMTP server process on port and returns what
// stops it (and the counts it printed, for smtpsink).
func startReceiver(b bins, rcv, save string) func() map[string]int64 {
	// Another run's receiver on the port would take this run's mail.
	if c, err := net.Dial("tcp", port); err == nil {
		c.Close()
		check(fmt.Errorf("something listens on %s already (another run?): choose another -port (PORT=)", port))
	}
	if rcv == "postfix" {
		dir, err := os.MkdirTemp("", "fanout-postfix-")
		check(err)
		p := startPostfix(dir)
		waitListen(rcv)
		runningPostfix = p
		return func() map[string]int64 {
			runningPostfix = nil
			p.stop()
			os.RemoveAll(dir)
			return map[string]int64{}
		}
	}
	var cmd *exec.Cmd
	var out bytes.Buffer
	switch rcv {
	case "smtpsink":
		cmd = exec.Command(b.sink, "-listen", port)
		if save != "" {
			cmd.Args = append(cmd.Args, "-save", save)
		}
	case "smtp-sink":
		cmd = exec.Command(smtpSink(), "-u", "nobody", port, "256")
	default:
		fmt.Fprintf(os.Stderr, "fanoute2e: unknown receiver %q\n", rcv)
		os.Exit(2)
	}
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	waitListen(rcv)
	return func() map[string]int64 {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		counts := map[string]int64{}
		f := strings.Fields(out.String())
		for i := 1; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseInt(f[i+1], 10, 64); err == nil {
				counts[f[i]] = v
			}
		}
		return counts
	}
}

// waitListen waits for the receiver to listen on port.
func waitListen(rcv string) {
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", port)
		if err == nil {
			c.Close()
			return
		}
		if i > 2000 {
			check(fmt.Errorf("%s does not listen on %s: %w", rcv, port, err))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// smtpSink finds Postfix's smtp-sink.
func smtpSink() string {
	if p, err := exec.LookPath("smtp-sink"); err == nil {
		return p
	}
	return "/usr/lib/postfix/sbin/smtp-sink"
}

// setup makes a site with a list of n keyed subscribers and returns its
// configuration file.
func setup(dir string, n int) string {
	state, secrets := filepath.Join(dir, "state"), filepath.Join(dir, "secrets")
	for _, d := range []string{state, secrets} {
		check(os.MkdirAll(d, 0o700))
	}
	check(seal.Generate(filepath.Join(secrets, "queue-key")))
	check(os.WriteFile(filepath.Join(secrets, "keyring-passphrase"), []byte("bench passphrase, not for real use\n"), 0o600))
	cfgPath := filepath.Join(state, "cloister.toml")
	sample := config.Sample(state, domain, port)
	sample = regexp.MustCompile(`(?m)^max_message_size_kb = \d+$`).ReplaceAllString(sample, fmt.Sprintf("max_message_size_kb = %d", max(10240, 2*postSize>>10)))
	text := sample + fmt.Sprintf("keyring_passphrase_file = %q\nqueue_key_file = %q\n",
		filepath.Join(secrets, "keyring-passphrase"), filepath.Join(secrets, "queue-key"))
	if sessions > 0 {
		text += fmt.Sprintf("smtp_sessions = %d\n", sessions)
	}
	if chunking {
		text += "smtp_chunking = true\n"
	}
	check(os.WriteFile(cfgPath, []byte(text), 0o640))
	cfg, err := config.Load(cfgPath)
	check(err)
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check(err)
	k, err := keyring.OpenSite(cfg)
	check(err)
	defer k.Close()
	_, err = k.GenerateOpenPGP(list, "team", keyring.AlgoCurve25519)
	check(err)

	// Keys are made on every core; the keyring takes them one transaction each.
	pubs := make([][]byte, n)
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
			for i := range next {
				e, err := openpgp.NewEntity("Subscriber", "", benchsite.Member(i), cfg)
				check(err)
				var pub bytes.Buffer
				check(e.Serialize(&pub))
				pubs[i] = pub.Bytes()
			}
		}()
	}
	wg.Wait()
	// Imported in bulk, as `cloister key import FILE` does: the keyring
	// binds each key to the member its user ID names and keeps the
	// signature checks it made for the runners.
	var keys openpgp.EntityList
	for _, pub := range pubs {
		el, err := openpgp.ReadKeyRing(bytes.NewReader(pub))
		check(err)
		keys = append(keys, el...)
	}
	res, err := k.ImportOpenPGPKeys(keys, nil)
	check(err)
	for _, r := range res {
		if r.Err != nil || len(r.Bound) != 1 {
			check(fmt.Errorf("key import: %+v", r))
		}
	}
	check(benchsite.MakeList(s, list, map[string]string{"pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes", "send": "send.private",
		"max_message_size_kb": strconv.Itoa(max(10240, 2*postSize>>10))}, n))
	return cfgPath
}

// setBatch sets the list's batch_size.
func setBatch(cfgPath string, batch int) {
	cfg, err := config.Load(cfgPath)
	check(err)
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check(err)
	check(s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List(list)
		if err != nil {
			return err
		}
		if err := l.Settings.Set("batch_size", strconv.Itoa(batch)); err != nil {
			return err
		}
		return tx.PutList(l)
	}))
}

var posts int

// srcSessions is the number of sessions smtp-source opens: the sites'
// smtp_sessions, as the outgoing runner does.
func srcSessions() int {
	if sessions > 0 {
		return sessions
	}
	return config.DefaultSMTPSessions
}

// msgLens is the size of a message on the wire for each case (subscribers,
// batch_size), as smtpsink counted it: smtp-source sends messages of that
// size into the receivers that cannot count (smtp-sink, postfix) too, so
// run smtpsink first (the default order) for a like-for-like ratio.
var msgLens = map[[2]int]int{}

// copyFiles is a copy the runner sent in each case (subscribers,
// batch_size), saved by smtpsink in the form smtp-source -F sends: the
// ratio to smtp-source sending that very message (ratio_c) leaves out
// what the receiver spends on the copy's content (its header fields, its
// MIME structure) and keeps what it spends on the sender (the sessions,
// the envelope: smtp-source's sender is one address, a copy's is its
// recipient's own, VERP).
var copyFiles = map[[2]int]string{}

// runSourceFlag is whether smtp-source is run for the ratio (-source);
// postSize is -size (the sites take posts twice as large).
var (
	runSourceFlag = true
	postSize      int
)

// stage pipes a post from the first subscriber into deliver and runs the
// runners before outgoing, each as its own process, so that the post waits
// in queue/out.
// It returns when the post reached queue/out.
func stage(b bins, cfgPath string, size int, expectOut bool) time.Time {
	posts++
	var post bytes.Buffer
	fmt.Fprintf(&post, "From: %s\nTo: %s\nSubject: bench post %d\nMessage-ID: <bench-%d-%d@subs.test>\nDate: %s\nContent-Type: text/plain; charset=utf-8\n\n",
		benchsite.Member(0), list, posts, posts, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z))
	for post.Len() < size {
		post.WriteString("a line of the post to be fanned out, fifty bytes..\n")
	}
	d := exec.Command(b.deliver, list)
	d.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath, "SENDER="+benchsite.Member(0))
	d.Stdin = &post
	d.Stderr = os.Stderr
	check(d.Run())
	for _, r := range []string{"incoming", "rules"} {
		c := exec.Command(b.cloister, "--config", cfgPath, "--log-level", "warn", "runner", r, "--once")
		c.Stderr = os.Stderr
		check(c.Run())
	}
	// The hand-over is when the entry appears in queue/out (a running
	// outgoing runner may take it at once), or the pipeline's exit.
	c := exec.Command(b.cloister, "--config", cfgPath, "--log-level", "warn", "runner", "pipeline", "--once")
	c.Stderr = os.Stderr
	check(c.Start())
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var handover time.Time
	for handover.IsZero() {
		select {
		case err := <-done:
			check(err)
			handover = time.Now()
		case <-time.After(time.Millisecond):
			if entries(cfgPath, "out") > 0 {
				handover = time.Now()
				check(<-done)
			}
		}
	}
	if n := entries(cfgPath, "out"); expectOut && n != 1 {
		fmt.Fprintf(os.Stderr, "fanoute2e: %d entries in queue/out after the pipeline, want 1 (see queue/bad)\n", n)
		os.Exit(1)
	}
	return handover
}

// entries counts the entries of a queue.
func entries(cfgPath, q string) int {
	ents, _ := os.ReadDir(filepath.Join(filepath.Dir(cfgPath), "queue", q))
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".msg") || strings.HasSuffix(e.Name(), ".bak") {
			n++
		}
	}
	return n
}

func abs(dir, name string) string {
	p, err := filepath.Abs(filepath.Join(dir, name))
	check(err)
	return p
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "fanoute2e: %v\n", err)
		os.Exit(1)
	}
}
