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
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/emersion/go-smtp"

	"cloister/config"
	"cloister/keyring"
	"cloister/lists"
	"cloister/seal"
	"cloister/site"
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

// sink is a loopback SMTP server that counts the copies it accepts by
// recipient and the post's Message-ID (every copy keeps it, encrypted or not).
type sink struct {
	addr  string
	mu    sync.Mutex
	seen  map[string]map[int]int // recipient -> post -> copies
	total atomic.Int64
	clear atomic.Int64 // copies that are not multipart/encrypted
}

func startSink() *sink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	s := &sink{addr: ln.Addr().String(), seen: map[string]map[int]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }))
	srv.Domain = "sink.faults.test"
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 10000
	srv.ErrorLog = log.New(io.Discard, "", 0) // a killed runner's connection resets
	go srv.Serve(ln)
	return s
}

type session struct {
	sink  *sink
	rcpts []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { s.rcpts = nil; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, strings.ToLower(to))
	return nil
}
func (s *session) Reset()        { s.rcpts = nil }
func (s *session) Logout() error { return nil }

// Data reads the header for the post's number and counts one copy per
// recipient once the whole message is in (the 250 follows).
func (s *session) Data(r io.Reader) error {
	br := bufio.NewReader(r)
	n := -1
	encrypted := false
	for {
		line, err := br.ReadString('\n')
		l := strings.TrimRight(line, "\r\n")
		lower := strings.ToLower(l)
		if l == "" {
			break
		} else if strings.HasPrefix(lower, "message-id:") {
			fmt.Sscanf(strings.TrimSpace(l[len("message-id:"):]), "<fault-%d@", &n)
		} else if strings.HasPrefix(lower, "content-type:") && strings.Contains(lower, "multipart/encrypted") {
			encrypted = true
		}
		if err != nil {
			break
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	if !encrypted {
		s.sink.clear.Add(int64(len(s.rcpts)))
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	for _, rc := range s.rcpts {
		if s.sink.seen[rc] == nil {
			s.sink.seen[rc] = map[int]int{}
		}
		s.sink.seen[rc][n]++
		s.sink.total.Add(1)
	}
	return nil
}

// distinct counts the (recipient, post) pairs served at least once.
func (s *sink) distinct(posts int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, byPost := range s.seen {
		for p := range byPost {
			if p >= 0 && p < posts {
				n++
			}
		}
	}
	return n
}

// tally returns the copies lost and duplicated, and how many posts every
// member got more than once (a hand-over done twice).
func (s *sink) tally(posts, members int) (lost, dups, twiceToAll int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repeatedTo := make([]int, posts)
	for i := range members {
		byPost := s.seen[member(i)]
		for p := range posts {
			switch c := byPost[p]; {
			case c == 0:
				lost++
			case c > 1:
				dups += c - 1
				repeatedTo[p]++
			}
		}
	}
	for _, n := range repeatedTo {
		if n == members && members > 1 {
			twiceToAll++
		}
	}
	return lost, dups, twiceToAll
}

// supervisor runs each runner as its own process and restarts it when it
// dies.
type supervisor struct {
	cloister, cfg, logDir string
	mu                    sync.Mutex
	procs                 map[string]*exec.Cmd
	kills                 map[string]int
	restarts              atomic.Int64
	stopping              bool
	wg                    sync.WaitGroup
}

func (s *supervisor) start(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.procs == nil {
		s.procs, s.kills = map[string]*exec.Cmd{}, map[string]int{}
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
		if s.stopping {
			if err != nil {
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

// gpgKeys returns n subscribers' armored public keys, made by gpg in one
// batch run the first time and cached in path.
func gpgKeys(path string, n int) []byte {
	if b, err := os.ReadFile(path); err == nil {
		if el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b)); err == nil && len(el) == n {
			return b
		}
	}
	home, err := os.MkdirTemp("", "cloister-faults-gnupg-")
	check(err)
	defer os.RemoveAll(home)
	var params strings.Builder
	for i := range n {
		fmt.Fprintf(&params, "%%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\nName-Real: Subscriber %d\nName-Email: %s\nExpire-Date: 0\n%%commit\n", i, member(i))
	}
	t0 := time.Now()
	gen := exec.Command("gpg", "--homedir", home, "--batch", "--gen-key")
	gen.Stdin = strings.NewReader(params.String())
	if out, err := gen.CombinedOutput(); err != nil {
		fail("gpg --gen-key: %v\n%s", err, out)
	}
	exp := exec.Command("gpg", "--homedir", home, "--batch", "--armor", "--export")
	out, err := exp.Output()
	check(err)
	check(os.WriteFile(path, out, 0o600))
	fmt.Printf("made %d subscriber keys with gpg in %.1fs (cached in %s)\n", n, time.Since(t0).Seconds(), path)
	return out
}

// setup writes the site's config and secrets under dir and creates the list
// with its members (and, with keys, the list key and the members' keys).
func setup(dir, smtpAddr string, n int, armored []byte) string {
	state, secrets := filepath.Join(dir, "state"), filepath.Join(dir, "secrets")
	for _, d := range []string{state, secrets} {
		check(os.MkdirAll(d, 0o700))
	}
	check(seal.Generate(filepath.Join(secrets, "queue-key")))
	check(os.WriteFile(filepath.Join(secrets, "keyring-passphrase"), []byte("bench passphrase, not for real use\n"), 0o600))
	cfgPath := filepath.Join(state, "cloister.toml")
	text := config.Sample(state, domain, smtpAddr) + fmt.Sprintf("keyring_passphrase_file = %q\nqueue_key_file = %q\n",
		filepath.Join(secrets, "keyring-passphrase"), filepath.Join(secrets, "queue-key"))
	check(os.WriteFile(cfgPath, []byte(text), 0o640))
	cfg, err := config.Load(cfgPath)
	check(err)
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check(err)
	settings := map[string]string{"send": "send.private"}
	if armored != nil {
		k, err := keyring.OpenSite(cfg)
		check(err)
		_, err = k.GenerateOpenPGP(list, "team", keyring.AlgoCurve25519)
		check(err)
		el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
		check(err)
		for _, e := range el {
			var pub bytes.Buffer
			check(e.Serialize(&pub))
			addr := ""
			for _, id := range e.Identities {
				addr = id.UserId.Email
			}
			_, err := k.AddOpenPGP(addr, pub.Bytes(), false)
			check(err)
		}
		k.Close()
		settings["pgp_distrib_encrypt"] = "force"
		settings["pgp_distrib_sign"] = "yes"
	}
	check(s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList(list, time.Now())
		if err != nil {
			return err
		}
		for name, v := range settings {
			if err := l.Settings.Set(name, v); err != nil {
				return err
			}
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for i := range n {
			if err := tx.AddMember(list, &lists.Member{Address: member(i), Roles: []lists.Role{lists.RoleMember}}); err != nil {
				return err
			}
		}
		return nil
	}))
	return cfgPath
}

func member(i int) string { return fmt.Sprintf("s%05d@subs.test", i) }

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
