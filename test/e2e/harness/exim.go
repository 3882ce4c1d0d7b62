package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// privateExim is where test/setup.sh unpacks Debian's exim4-daemon-light
// when Exim cannot be installed beside Postfix (the packages conflict).
const privateExim = "/opt/cloister-test/exim4/usr/sbin/exim4"

// trustedConfigs lists the configuration files that Debian's Exim may be
// given with -C while keeping root privilege (TRUSTED_CONFIG_LIST).
const trustedConfigs = "/etc/exim4/trusted_configs"

// trustedMu serialises edits of trustedConfigs within this process.
var trustedMu sync.Mutex

// EximBinary returns the Exim 4 binary: $CLOISTER_EXIM, exim4 on the PATH,
// or the private copy test/setup.sh unpacks. It fails the test if none is found.
func EximBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CLOISTER_EXIM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("exim4"); err == nil {
		return p
	}
	if _, err := os.Stat(privateExim); err == nil {
		return privateExim
	}
	t.Fatalf("exim4 is not installed: run test/setup.sh (make test does)")
	return ""
}

// Exim is a private Exim 4 instance.
type Exim struct {
	Dir      string // config, spool, log and Maildirs live under it
	Port     int    // its SMTP daemon listens on 127.0.0.1:Port
	Domain   string // the list domain, piped into deliver
	MailBase string // Maildirs: MailBase/<domain>/<local>/
	bin      string
	conf     string
}

// EximConfig is what an Exim instance is set up with.
type EximConfig struct {
	ListDomain string
	// Aliases is the output of `cloister aliases --mta exim`: its lists file
	// is written where it says (inside the test directory), its router and
	// transport are installed as they are.
	Aliases   string
	Mailboxes []string // local Maildir mailboxes (user@domain) for subscribers and senders
	Port      int      // SMTP port on 127.0.0.1 (0: a free one)
}

// eximSnippet splits `cloister aliases --mta exim` at its "# --- ... ---"
// markers into the lists file (its path and content), the router and the
// transport.
func eximSnippet(t *testing.T, out string) (listsPath, lists, router, transport string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^# --- lists file: (\S+) ---\n`).FindStringSubmatchIndex(out)
	if m == nil {
		t.Fatalf("cloister aliases --mta exim: no lists file:\n%s", out)
	}
	listsPath = out[m[2]:m[3]]
	rest := out[m[1]:]
	lists, rest, ok := strings.Cut(rest, "# --- router ---\n")
	if !ok {
		t.Fatalf("cloister aliases --mta exim: no router:\n%s", out)
	}
	router, transport, ok = strings.Cut(rest, "# --- transport ---\n")
	if !ok {
		t.Fatalf("cloister aliases --mta exim: no transport:\n%s", out)
	}
	return listsPath, lists, router, transport
}

// StartExim configures and starts a private instance that delivers the list
// domain through the Cloister router and transport and the mailbox domains
// to Maildirs owned by the cloister user, and stops it when the test ends.
func StartExim(t *testing.T, dir string, c EximConfig) *Exim {
	t.Helper()
	port := c.Port
	if port == 0 {
		port = FreePort(t)
	}
	x := &Exim{Dir: dir, Port: port, Domain: c.ListDomain, MailBase: filepath.Join(dir, "mail"), bin: EximBinary(t)}
	root := filepath.Join(dir, "exim")
	x.conf = filepath.Join(root, "exim.conf")
	eu, err := user.Lookup("Debian-exim")
	if err != nil {
		t.Fatalf("no Debian-exim user: run test/setup.sh (make test does)")
	}
	cu, _ := user.Lookup("cloister")
	for _, d := range []string{root, filepath.Join(root, "spool"), filepath.Join(root, "log"), x.MailBase} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	Run(t, nil, "chown", eu.Uid+":"+eu.Gid, filepath.Join(root, "spool"), filepath.Join(root, "log"))
	Run(t, nil, "chown", cu.Uid+":"+cu.Gid, x.MailBase)

	boxes, domains := mailboxMap(c.Mailboxes, "%s: %s/%s\n")
	mailboxes := filepath.Join(root, "mailboxes")
	if err := os.WriteFile(mailboxes, []byte(boxes), 0o644); err != nil {
		t.Fatal(err)
	}
	listsPath, lists, router, transport := eximSnippet(t, c.Aliases)
	if !strings.HasPrefix(listsPath, dir+"/") {
		t.Fatalf("the Exim lists file %s is outside the test directory (give cloister aliases --exim-lists)", listsPath)
	}
	if err := os.WriteFile(listsPath, []byte(lists), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`# Private Exim for the Cloister end-to-end suite.
exim_path = %[1]s
keep_environment =
tls_advertise_hosts =
primary_hostname = %[2]s
qualify_domain = %[2]s
domainlist list_domains = %[2]s
domainlist mailbox_domains = %[3]s
spool_directory = %[4]s/spool
log_file_path = %[4]s/log/%%slog
daemon_smtp_ports = %[5]d
local_interfaces = 127.0.0.1
never_users = root
host_lookup =
rfc1413_hosts =
message_size_limit = 50M
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  accept domains = +list_domains : +mailbox_domains
         verify = recipient
  deny   message = relay not permitted

begin routers

%[6]s
mailboxes:
  driver = accept
  domains = +mailbox_domains
  condition = ${lookup{$local_part@$domain}lsearch{%[7]s}{yes}{no}}
  address_data = ${lookup{$local_part@$domain}lsearch{%[7]s}}
  transport = maildir

begin transports

%[8]s
maildir:
  driver = appendfile
  directory = %[9]s/$address_data
  maildir_format
  message_prefix =
  message_suffix =
  create_directory
  delivery_date_add
  envelope_to_add
  return_path_add
  user = cloister

begin retry

*  *  F,1h,2s
`, x.bin, c.ListDomain, strings.Join(domains, " : "), root, port, router, mailboxes, transport, x.MailBase)
	if err := os.WriteFile(x.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	trust(t, x.conf)
	if out, errOut, err := RunErr(nil, nil, x.bin, "-C", x.conf, "-bV"); err != nil {
		t.Fatalf("exim -bV: %v\n%s%s", err, out, errOut)
	}
	daemon := exec.Command(x.bin, "-C", x.conf, "-bd", "-q2s", "-oP", filepath.Join(root, "exim.pid"))
	// The daemon forks and detaches; its output goes to a file, not a pipe
	// that would keep this call waiting.
	startLog, err := os.Create(filepath.Join(root, "start.log"))
	if err != nil {
		t.Fatal(err)
	}
	daemon.Stdout, daemon.Stderr = startLog, startLog
	err = daemon.Run()
	startLog.Close()
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(root, "start.log"))
		t.Fatalf("start exim: %v\n%s", err, b)
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(root, "exim.pid")); err == nil {
			var pid int
			fmt.Sscan(string(b), &pid)
			if pid > 0 {
				RunErr(nil, nil, "kill", fmt.Sprint(pid))
			}
		}
		if t.Failed() {
			t.Logf("exim log:\n%s", x.Log())
		}
	})
	Wait(t, 20*time.Second, "exim to listen", func() bool {
		c, err := net.Dial("tcp", x.SMTPAddr())
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return x
}

// trust adds conf to Exim's trusted configurations for the test's duration:
// without it Debian's Exim drops root privilege for -C and cannot run the
// pipe as the cloister user.
func trust(t *testing.T, conf string) {
	t.Helper()
	trustedMu.Lock()
	defer trustedMu.Unlock()
	f, err := os.OpenFile(trustedConfigs, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("exim trusted configs: %v (run test/setup.sh)", err)
	}
	fmt.Fprintln(f, conf)
	f.Close()
	t.Cleanup(func() {
		trustedMu.Lock()
		defer trustedMu.Unlock()
		b, err := os.ReadFile(trustedConfigs)
		if err != nil {
			return
		}
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" && l != conf {
				keep = append(keep, l)
			}
		}
		out := strings.Join(keep, "\n")
		if out != "" {
			out += "\n"
		}
		os.WriteFile(trustedConfigs, []byte(out), 0o644)
	})
}

// SMTPAddr is the instance's SMTP address.
func (x *Exim) SMTPAddr() string { return fmt.Sprintf("127.0.0.1:%d", x.Port) }

// Sendmail submits a message through exim's sendmail interface with the
// envelope sender.
func (x *Exim) Sendmail(t *testing.T, from string, msg []byte, to ...string) {
	t.Helper()
	args := append([]string{"-C", x.conf, "-f", from, "-i", "--"}, to...)
	if out, errOut, err := RunErr(nil, msg, x.bin, args...); err != nil {
		t.Fatalf("exim sendmail: %v\n%s%s", err, out, errOut)
	}
}

// Mailbox returns what a mailbox holds.
func (x *Exim) Mailbox(addr string) [][]byte {
	local, domain, _ := strings.Cut(addr, "@")
	return Maildir(filepath.Join(x.MailBase, domain, local))
}

// Log returns the instance's main and reject logs.
func (x *Exim) Log() string {
	var b strings.Builder
	for _, name := range []string{"mainlog", "rejectlog", "paniclog"} {
		if data, err := os.ReadFile(filepath.Join(x.Dir, "exim", "log", name)); err == nil {
			fmt.Fprintf(&b, "== %s\n%s", name, data)
		}
	}
	return b.String()
}
