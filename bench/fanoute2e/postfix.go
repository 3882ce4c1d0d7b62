package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// postfixInstance is a private Postfix instance (its own configuration and
// queue folders under dir) whose smtpd listens on port and accepts mail for
// the subscribers' domain into its queue, where the discard transport
// drops it: what is timed is Postfix taking each message into its queue
// (cleanup, queue file written and fsynced), as a site's Postfix does
// before it relays. It needs root and an installed Postfix
// (/etc/postfix/master.cf); see /work/shared/INTEROP.md.
type postfixInstance struct{ conf, dir string }

// startPostfix configures and starts the instance.
func startPostfix(dir string) *postfixInstance {
	p := &postfixInstance{conf: filepath.Join(dir, "conf"), dir: dir}
	check(os.Chmod(dir, 0o755)) // Postfix's own processes run as postfix
	for _, d := range []string{p.conf, filepath.Join(dir, "spool"), filepath.Join(dir, "data")} {
		check(os.MkdirAll(d, 0o755))
	}
	for _, f := range []string{"main.cf", "master.cf"} {
		b, err := os.ReadFile("/etc/postfix/" + f)
		check(err)
		check(os.WriteFile(filepath.Join(p.conf, f), b, 0o644))
	}
	run("chown", "postfix", filepath.Join(dir, "data"))
	transport := filepath.Join(p.conf, "transport")
	check(os.WriteFile(transport, []byte("subs.test discard:\n"), 0o644))
	run("postconf", "-c", p.conf, "-e",
		"queue_directory = "+filepath.Join(dir, "spool"),
		"data_directory = "+filepath.Join(dir, "data"),
		"maillog_file_prefixes = /var, /dev/stdout, "+dir,
		"maillog_file = "+filepath.Join(dir, "postfix.log"),
		"inet_interfaces = 127.0.0.1", "inet_protocols = ipv4",
		"myhostname = postfix.bench.test", "mydestination =", "mynetworks = 127.0.0.0/8",
		"alias_maps =", "alias_database =", "relayhost =", "compatibility_level = 3.6",
		"smtpd_tls_security_level = none", "smtp_tls_security_level = none",
		"relay_domains = subs.test", "transport_maps = hash:"+transport,
		"message_size_limit = 0", "smtpd_recipient_limit = 100000",
		"smtpd_client_connection_count_limit = 0", "smtpd_client_message_rate_limit = 0",
		"default_process_limit = 100",
	)
	run("postconf", "-c", p.conf, "-F", "*/*/chroot = n")
	master, err := os.ReadFile(filepath.Join(p.conf, "master.cf"))
	check(err)
	smtpd := regexp.MustCompile(`(?m)^smtp\s+inet`)
	if !smtpd.Match(master) {
		check(fmt.Errorf("no smtp inet service in /etc/postfix/master.cf"))
	}
	check(os.WriteFile(filepath.Join(p.conf, "master.cf"), []byte(smtpd.ReplaceAllString(string(master), port+" inet")), 0o644))
	run("postmap", "-c", p.conf, transport)
	run("postfix", "-c", p.conf, "check")
	run("postfix", "-c", p.conf, "start")
	return p
}

// runningPostfix is the instance startReceiver started, until it is
// stopped (nil for the other receivers).
var runningPostfix *postfixInstance

// receiverIdle waits until the running Postfix instance, if any, has
// delivered everything in its queue.
func receiverIdle() {
	if runningPostfix == nil {
		return
	}
	for start := time.Now(); !runningPostfix.empty(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 10*time.Minute {
			check(fmt.Errorf("the Postfix instance's queue did not empty in 10 minutes"))
		}
	}
}

// empty says whether the instance's queue holds no message.
func (p *postfixInstance) empty() bool {
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold"} {
		n := 0
		filepath.WalkDir(filepath.Join(p.dir, "spool", q), func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		if n > 0 {
			return false
		}
	}
	return true
}

// stop stops the instance.
func (p *postfixInstance) stop() { exec.Command("postfix", "-c", p.conf, "stop").Run() }

func run(name string, args ...string) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		check(fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out))
	}
}
