// Package harness runs the real peers of the end-to-end suites: a private
// Postfix instance (its own config directory, queue and Maildirs, listening on
// a loopback port) piping list mail into the built deliver binary, and the
// built cloister binary as the operator would run it. Tests fail, never skip,
// when a peer is missing: `make test` installs them (test/setup.sh).
package harness

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"cloister/internal/sitetest"
	"cloister/internal/testdirs"
)

// Binaries are the built cloister and deliver.
type Binaries = sitetest.Binaries

// Build compiles cmd/cloister and cmd/deliver into dir (which must be
// readable by the cloister user, since Postfix runs deliver as it).
func Build(t *testing.T, dir string) Binaries {
	t.Helper()
	return BuildTags(t, dir)
}

// BuildTags is Build with build tags (e.g. faultinject, whose binaries kill
// themselves at the crash points queue.CrashAtEnv names).
func BuildTags(t *testing.T, dir string, tags ...string) Binaries {
	t.Helper()
	testdirs.Slow(t, "end-to-end: builds and runs the real binaries")
	b, err := sitetest.Build(dir, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// WorkDir makes a directory for a suite that the cloister and postfix users
// can traverse. It is removed when the test passes and kept (and named in
// the log) when it fails.
func WorkDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cloister-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept the test directory: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// RequireRoot fails the test unless it runs as root with the tools installed.
func RequireRoot(t *testing.T, tools ...string) {
	t.Helper()
	testdirs.Slow(t, "end-to-end: needs root and a private MTA")
	if os.Geteuid() != 0 {
		t.Fatalf("the end-to-end suite runs a private Postfix and needs root (run it through make test)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run test/setup.sh (make test does)", tool)
		}
	}
	if _, err := user.Lookup("cloister"); err != nil {
		t.Fatalf("no cloister user: run test/setup.sh (make test does)")
	}
}

// Run runs a command and fails the test on error, returning stdout.
func Run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, errOut, err := RunErr(env, nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// RunErr runs a command with optional stdin and returns its outputs.
func RunErr(env []string, stdin []byte, name string, args ...string) (string, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// FreePort returns a free loopback TCP port.
func FreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Wait polls cond every 100 ms until it holds or the limit passes.
func Wait(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", limit, what)
}

// Maildir returns the messages in a Maildir's new/ and cur/, oldest first.
func Maildir(dir string) [][]byte {
	var names []string
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range ents {
			names = append(names, filepath.Join(dir, sub, e.Name()))
		}
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// Postfix is a private Postfix instance.
type Postfix struct {
	Dir      string // config, queue, data, log and Maildirs live under it
	Port     int    // its smtpd listens on 127.0.0.1:Port
	Domain   string // the list domain, piped into deliver
	MailBase string // virtual Maildirs: MailBase/<domain>/<local>/
	conf     string
	t        *testing.T
}

// Config is what a Postfix instance is set up with.
type Config struct {
	ListDomain string // piped to deliver
	// Aliases is the output of `cloister aliases --mta postfix` (--style
	// socketmap or transport): its main.cf lines, recipient map and
	// master.cf service are installed as they are.
	Aliases   string
	Mailboxes []string // local virtual mailboxes (user@domain) for subscribers and senders
	Port      int      // smtpd port on 127.0.0.1 (0: a free one)
}

// aliasSections splits `cloister aliases` output at its "# " headers.
func aliasSections(out string) map[string]string {
	sec := map[string]string{}
	cur := ""
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(line, "# ") {
			cur = strings.TrimSpace(line)
			continue
		}
		if strings.TrimSpace(line) != "" {
			sec[cur] += line
		}
	}
	return sec
}

// StartPostfix configures and starts a private instance, and stops it when the test ends.
func StartPostfix(t *testing.T, dir string, c Config) *Postfix {
	t.Helper()
	port := c.Port
	if port == 0 {
		port = FreePort(t)
	}
	p := &Postfix{Dir: dir, Port: port, Domain: c.ListDomain, MailBase: filepath.Join(dir, "mail"), conf: filepath.Join(dir, "postfix"), t: t}
	for _, d := range []string{p.conf, p.MailBase, filepath.Join(dir, "spool"), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"main.cf", "master.cf"} {
		b, err := os.ReadFile("/etc/postfix/" + f)
		if err != nil {
			t.Fatalf("postfix not installed: %v", err)
		}
		os.WriteFile(filepath.Join(p.conf, f), b, 0o644)
	}
	cu, _ := user.Lookup("cloister")
	Run(t, nil, "chown", "postfix", filepath.Join(dir, "data"))
	Run(t, nil, "chown", cu.Uid+":"+cu.Gid, p.MailBase)
	vmail, domains := mailboxMap(c.Mailboxes, "%s %s/%s/\n")
	write := func(name, content string) string {
		path := filepath.Join(p.conf, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sec := aliasSections(c.Aliases)
	masterLine, mainCF := sec["# append to /etc/postfix/master.cf"], sec["# main.cf (postconf -e each line)"]
	if masterLine == "" || mainCF == "" {
		t.Fatalf("cloister aliases output lacks the master.cf line or the main.cf lines:\n%s", c.Aliases)
	}
	vmailbox := write("vmailbox", vmail)
	maps := []string{vmailbox}
	// The main.cf lines of `cloister aliases` are installed as printed; the
	// hash maps of --style transport are written into the private
	// directory and postmapped, as the operator would.
	var mainLines []string
	for _, l := range strings.Split(strings.TrimSpace(mainCF), "\n") {
		if strings.Contains(l, "/etc/postfix/cloister_transport") {
			l = "transport_maps = hash:" + write("cloister_transport", c.ListDomain+" cloister:\n")
			maps = append(maps, filepath.Join(p.conf, "cloister_transport"))
		}
		if strings.Contains(l, "/etc/postfix/cloister_recipients") {
			rcptMap := sec["# /etc/postfix/cloister_recipients (postmap it)"]
			if rcptMap == "" {
				t.Fatalf("cloister aliases output lacks the recipient map:\n%s", c.Aliases)
			}
			l = "relay_recipient_maps = hash:" + write("cloister_recipients", rcptMap)
			maps = append(maps, filepath.Join(p.conf, "cloister_recipients"))
		}
		mainLines = append(mainLines, l)
	}
	pc := func(args ...string) { Run(t, nil, "postconf", append([]string{"-c", p.conf}, args...)...) }
	pc("-e",
		"queue_directory = "+filepath.Join(dir, "spool"),
		"data_directory = "+filepath.Join(dir, "data"),
		"maillog_file_prefixes = /var, /dev/stdout, "+dir,
		"maillog_file = "+filepath.Join(dir, "postfix.log"),
		"inet_interfaces = 127.0.0.1", "inet_protocols = ipv4",
		"myhostname = "+c.ListDomain, "mydestination =", "mynetworks = 127.0.0.0/8",
		"alias_maps =", "alias_database =", "relayhost =", "compatibility_level = 3.6",
		"smtpd_tls_security_level = none", "smtp_tls_security_level = none",
		"virtual_mailbox_domains = "+strings.Join(domains, " "),
		"virtual_mailbox_base = "+p.MailBase,
		"virtual_mailbox_maps = hash:"+vmailbox,
		"virtual_uid_maps = static:"+cu.Uid, "virtual_gid_maps = static:"+cu.Gid, "virtual_minimum_uid = 1",
		"message_size_limit = 52428800", "virtual_mailbox_limit = 0",
		"delay_warning_time = 0", "bounce_queue_lifetime = 1h", "maximal_queue_lifetime = 1h",
		"queue_run_delay = 5s", "minimal_backoff_time = 5s", "maximal_backoff_time = 10s",
	)
	pc(append([]string{"-e"}, mainLines...)...)
	pc("-F", "*/*/chroot = n")
	// The smtpd listener moves to a private port; the pipe transport runs deliver.
	master, _ := os.ReadFile(filepath.Join(p.conf, "master.cf"))
	smtpd := regexp.MustCompile(`(?m)^smtp\s+inet`)
	if !smtpd.Match(master) {
		t.Fatalf("no smtp inet service in master.cf")
	}
	ms := smtpd.ReplaceAllString(string(master), fmt.Sprintf("127.0.0.1:%d inet", p.Port))
	ms += masterLine
	write("master.cf", ms)
	for _, m := range maps {
		Run(t, nil, "postmap", "-c", p.conf, m)
	}
	Run(t, nil, "postfix", "-c", p.conf, "check")
	Run(t, nil, "postfix", "-c", p.conf, "start")
	t.Cleanup(func() {
		RunErr(nil, nil, "postfix", "-c", p.conf, "stop")
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "postfix.log")); err == nil {
				t.Logf("postfix log:\n%s", b)
			}
		}
	})
	Wait(t, 20*time.Second, "postfix smtpd to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.Port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// SMTPAddr is the instance's smtpd address.
func (p *Postfix) SMTPAddr() string { return fmt.Sprintf("127.0.0.1:%d", p.Port) }

// Sendmail submits a message through Postfix's sendmail with the envelope sender.
func (p *Postfix) Sendmail(t *testing.T, from string, msg []byte, to ...string) {
	t.Helper()
	args := append([]string{"-C", p.conf, "-f", from, "-i", "--"}, to...)
	if out, errOut, err := RunErr(nil, msg, "sendmail", args...); err != nil {
		t.Fatalf("sendmail: %v\n%s%s", err, out, errOut)
	}
}

// ConfDir is the instance's private configuration directory (sendmail -C).
func (p *Postfix) ConfDir() string { return p.conf }

// Mailbox returns what a virtual mailbox holds.
func (p *Postfix) Mailbox(addr string) [][]byte {
	local, domain, _ := strings.Cut(addr, "@")
	return Maildir(filepath.Join(p.MailBase, domain, local))
}

// mailboxMap writes one line per mailbox (user@domain), formatted with the
// address, its domain and its local part, and returns the sorted domains:
// the virtual mailbox maps of the Postfix and Exim instances.
func mailboxMap(mailboxes []string, format string) (string, []string) {
	seen := map[string]bool{}
	var b strings.Builder
	for _, mb := range mailboxes {
		local, domain, _ := strings.Cut(mb, "@")
		seen[domain] = true
		fmt.Fprintf(&b, format, mb, domain, local)
	}
	var domains []string
	for d := range seen {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	return b.String(), domains
}

// Init makes a site in state with the built cloister's init (domain
// lists.test, mail to smtpAddr); its commands run the binary as an
// operator runs it.
func Init(t *testing.T, cloister, state, smtpAddr string) *sitetest.CLISite {
	t.Helper()
	return sitetest.Init(t, func(args ...string) (string, error) {
		out, errOut, err := RunErr(nil, nil, cloister, args...)
		if err != nil {
			return out + errOut, err
		}
		return out, nil
	}, state, smtpAddr)
}
