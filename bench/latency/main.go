// Command latency measures, for bench/latency.sh, how long a post to a small
// list takes from deliver's exit to the SMTP hand-off when the runners are
// idle: a site whose list has -members subscribers with Curve25519 keys
// (posts signed and encrypted, one copy each), `cloister runners` running
// as under systemd, bench/smtpsink (a fast discarding SMTP server)
// stamping each message it accepts. Each post is piped into the built deliver binary after the
// runners have been idle for -idle; its latency is from deliver's exit to
// the stamp of the last of its copies. It prints p50, p90, p99 and the
// maximum over -n posts, and the machine's load.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/bench/benchsite"
	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/keyring"
)

const (
	domain = "lists.bench.test"
	list   = "team@" + domain
	port   = "127.0.0.1:25252"
)

func main() {
	n := flag.Int("n", 100, "posts")
	members := flag.Int("members", 10, "subscribers (each with a Curve25519 key)")
	bin := flag.String("bin", "bin", "folder holding the built cloister, deliver and smtpsink binaries")
	idle := flag.Duration("idle", 300*time.Millisecond, "pause before each post, so that the runners are idle")
	flag.Parse()

	dir, err := os.MkdirTemp("", "latency-")
	check(err)
	defer os.RemoveAll(dir)
	cloister, deliver, sink := abs(*bin, "cloister"), abs(*bin, "deliver"), abs(*bin, "smtpsink")
	cfgPath := setup(dir, *members)

	sk := exec.Command(sink, "-listen", port, "-stamps")
	out, err := sk.StdoutPipe()
	check(err)
	sk.Stderr = os.Stderr
	check(sk.Start())
	defer func() { sk.Process.Signal(syscall.SIGTERM); sk.Wait() }()
	waitListen()
	stamps := make(chan time.Time, 1024)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "stamp" {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				rc, _ := strconv.Atoi(f[2])
				for range rc {
					stamps <- time.Unix(0, ns)
				}
			}
		}
	}()

	var logs bytes.Buffer
	rn := exec.Command(cloister, "--config", cfgPath, "--log-level", "warn", "runners")
	rn.Stderr = &logs
	check(rn.Start())
	defer func() { rn.Process.Signal(syscall.SIGTERM); rn.Wait() }()

	fmt.Printf("load at start: %s\n", benchsite.Loadavg())
	var lat []time.Duration
	for i := range *n + 1 { // the first post warms the runners up and is not counted
		time.Sleep(*idle)
		exit := post(deliver, cfgPath, i)
		var last time.Time
		for range *members {
			select {
			case t := <-stamps:
				last = t
			case <-time.After(30 * time.Second):
				fmt.Fprintf(os.Stderr, "latency: post %d not handed to the sink in 30 s; runners' log:\n%s", i, logs.String())
				os.Exit(1)
			}
		}
		if i > 0 {
			lat = append(lat, last.Sub(exit))
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("%d posts to %d keyed members, idle %v before each: deliver exit -> last copy at the sink: p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n",
		len(lat), *members, *idle, ms(q(0.50)), ms(q(0.90)), ms(q(0.99)), ms(lat[len(lat)-1]))
	fmt.Printf("load at end: %s\n", benchsite.Loadavg())
	if w := strings.Count(logs.String(), "level=WARN"); w > 0 {
		fmt.Printf("runners logged %d warnings:\n%s", w, logs.String())
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// post pipes one post into deliver and returns the time it exited.
func post(deliver, cfgPath string, i int) time.Time {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\nTo: %s\nSubject: latency %d\nMessage-ID: <lat-%d-%d@subs.test>\nDate: %s\n\nPost %d.\n",
		benchsite.Member(0), list, i, i, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z), i)
	d := exec.Command(deliver, list)
	d.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath, "SENDER="+benchsite.Member(0))
	d.Stdin = &b
	d.Stderr = os.Stderr
	check(d.Run())
	return time.Now()
}

func waitListen() {
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", port)
		if err == nil {
			c.Close()
			return
		}
		if i > 200 {
			check(fmt.Errorf("smtpsink does not listen on %s: %w", port, err))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setup makes a site with a list of n keyed subscribers (signed and
// encrypted distribution) and returns its configuration file.
func setup(dir string, n int) string {
	state, secrets := filepath.Join(dir, "state"), filepath.Join(dir, "secrets")
	for _, d := range []string{state, secrets} {
		check(os.MkdirAll(d, 0o700))
	}
	check(seal.Generate(filepath.Join(secrets, "queue-key")))
	check(os.WriteFile(filepath.Join(secrets, "keyring-passphrase"), []byte("bench passphrase, not for real use\n"), 0o600))
	cfgPath := filepath.Join(state, "cloister.toml")
	text := config.Sample(state, domain, port) + fmt.Sprintf("keyring_passphrase_file = %q\nqueue_key_file = %q\n",
		filepath.Join(secrets, "keyring-passphrase"), filepath.Join(secrets, "queue-key"))
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
	pcfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	for i := range n {
		e, err := openpgp.NewEntity("Subscriber", "", benchsite.Member(i), pcfg)
		check(err)
		var pub bytes.Buffer
		check(e.Serialize(&pub))
		_, err = k.AddOpenPGP(benchsite.Member(i), pub.Bytes(), false)
		check(err)
	}
	check(benchsite.MakeList(s, list, map[string]string{"pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes", "send": "send.private", "batch_size": "1"}, n))
	return cfgPath
}

func abs(dir, name string) string {
	p, err := filepath.Abs(filepath.Join(dir, name))
	check(err)
	return p
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "latency: %v\n", err)
		os.Exit(1)
	}
}
