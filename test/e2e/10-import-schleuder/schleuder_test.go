// Package importschleuder is the end-to-end suite of moving a list from a
// real Schleuder (Debian's package) to Cloister:
//
//	schleuder install, Schleuder::ListBuilder + List#subscribe (gpg-made keys)
//	  -> db.sqlite + lists/DOMAIN/NAME (Schleuder's own list key, RSA)
//	  -> cloister import schleuder LISTDIR --db db.sqlite
//	  -> a post signed by the admin and encrypted to the imported list key
//	  -> deliver -> runners -> each subscriber's copy, opened with their own gpg
//
// Schleuder runs from a private configuration (SCHLEUDER_CONFIG) in the
// test's directory; nothing of a system Schleuder is touched.
package importschleuder

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/sitetest"
	"cloister/internal/testdirs"
	"cloister/test/e2e/harness"
)

const list = "team@lists.example.test"

func TestImportSchleuderList(t *testing.T) {
	testdirs.Slow(t, "end-to-end: a real Schleuder list")
	for _, tool := range []string{"schleuder", "ruby", "sqlite3", "gpg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run test/setup.sh (make test does)", tool)
		}
	}
	dir := harness.WorkDir(t)
	ann, bob, carol := gnupg.New(t), gnupg.New(t), gnupg.New(t)
	ann.GenKey("Ann <ann@subs.test>", "future-default")
	bob.GenKey("Bob <bob@subs.test>", "future-default")
	carol.GenKey("Carol <carol@subs.test>", "future-default")
	os.WriteFile(filepath.Join(dir, "ann.asc"), ann.ExportPublic("ann@subs.test"), 0o644)
	os.WriteFile(filepath.Join(dir, "bob.asc"), bob.ExportPublic("bob@subs.test"), 0o644)

	// A real Schleuder list: its database, its own key, three subscriptions.
	sch := filepath.Join(dir, "schleuder")
	os.MkdirAll(sch, 0o755)
	conf := filepath.Join(sch, "schleuder.yml")
	os.WriteFile(conf, []byte(strings.ReplaceAll(`lists_dir: DIR/lists
listlogs_dir: DIR/logs
keyword_handlers_dir: DIR/kh
filters_dir: DIR/filters
log_level: warn
superadmin: root@localhost
smtp_settings:
  address: localhost
  port: 25
database:
  production:
    adapter: 'sqlite3'
    database: DIR/db.sqlite
    timeout: 5000
`, "DIR", sch)), 0o644)
	env := []string{"SCHLEUDER_CONFIG=" + conf}
	harness.Run(t, env, "schleuder", "install")
	script := `require 'schleuder'
list, msgs = Schleuder::ListBuilder.new({email: '` + list + `', subject_prefix: '[team]', language: 'de', receive_signed_only: true}, 'ann@subs.test', nil, File.read('` + dir + `/ann.asc')).run
raise "list: #{msgs.inspect}" unless list.is_a?(Schleuder::List) && list.persisted?
list.subscribe('bob@subs.test', nil, false, true, File.read('` + dir + `/bob.asc'))
list.subscribe('carol@subs.test', nil, false, true, nil)
list.subscribe('dave@subs.test', nil, false, false, nil)
puts list.fingerprint
`
	listFpr := strings.TrimSpace(harness.Run(t, env, "ruby", "-e", script))
	listDir := filepath.Join(sch, "lists", "lists.example.test", "team")
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", listDir, "--kill", "all").Run() })
	before := harness.Run(t, nil, "sqlite3", filepath.Join(sch, "db.sqlite"), "select count(*) from subscriptions")

	bins := harness.Build(t, filepath.Join(dir, "bin"))
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	state := filepath.Join(dir, "state")
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", "lists.example.test", "--smtp", sink.Addr)
	cl := func(args ...string) string {
		return harness.Run(t, []string{"CLOISTER_CONFIG=" + filepath.Join(state, "cloister.toml")}, bins.Cloister, args...)
	}

	dry := cl("import", "schleuder", listDir, "--db", filepath.Join(sch, "db.sqlite"), "--dry-run")
	if !strings.Contains(dry, "would import list "+list) || strings.Contains(cl("list", "ls"), list) {
		t.Fatalf("--dry-run:\n%s", dry)
	}
	out := cl("import", "schleuder", listDir, "--db", filepath.Join(sch, "db.sqlite"))
	for _, want := range []string{"list key " + listFpr, "bound to ann@subs.test", "bound to bob@subs.test", "carol@subs.test: no key in Schleuder"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	if after := harness.Run(t, nil, "sqlite3", filepath.Join(sch, "db.sqlite"), "select count(*) from subscriptions"); after != before {
		t.Errorf("the import changed Schleuder's database")
	}
	show := cl("list", "show", list)
	for _, want := range []string{"language", " de", "[team] ", "send.private_pgp", "pgp_distrib_encrypt"} {
		if !strings.Contains(show, want) {
			t.Errorf("list show lacks %q:\n%s", want, show)
		}
	}
	members := cl("member", "ls", list)
	for _, want := range []string{"ann@subs.test    member,owner  enabled", "dave@subs.test   member        disabled"} {
		if !strings.Contains(members, want) {
			t.Errorf("member ls lacks %q:\n%s", want, members)
		}
	}

	// Ann, who knew only the Schleuder list's key, posts signed and encrypted.
	listKey := []byte(cl("key", "export", list))
	ann.Import(listKey)
	bob.Import(listKey)
	post := ann.PGPMIMEEncrypted("From: Ann <ann@subs.test>\nTo: "+list+"\nSubject: moved\nMessage-ID: <moved@subs.test>\n",
		[]byte("Content-Type: text/plain; charset=utf-8\n\nWe moved to Cloister: SCHLEUDER-MOVED-MARKER\n"), true, "ann@subs.test", listFpr)
	if o, e, err := harness.RunErr([]string{"CLOISTER_CONFIG=" + filepath.Join(state, "cloister.toml")}, post, bins.Deliver, "-f", "ann@subs.test", list); err != nil {
		t.Fatalf("deliver: %v\n%s%s", err, o, e)
	}
	cl("runners", "--once")
	var bobs []byte
	harness.Wait(t, 30*time.Second, "bob's copy", func() bool {
		box, _ := sink.Mailbox("bob@subs.test")
		for _, m := range box {
			if bytes.Contains(m, []byte("multipart/encrypted")) {
				bobs = m
				return true
			}
		}
		return false
	})
	_, body, _ := bytes.Cut(bobs, []byte("-----BEGIN PGP MESSAGE-----"))
	plain, status, err := bob.Decrypt(append([]byte("-----BEGIN PGP MESSAGE-----"), body...))
	if err != nil || !bytes.Contains(plain, []byte("SCHLEUDER-MOVED-MARKER")) || !strings.Contains(status, "[GNUPG:] VALIDSIG "+listFpr) && !strings.Contains(status, "GOODSIG") {
		t.Fatalf("bob cannot read his copy with his own key (%v):\n%s\n%s", err, status, plain)
	}
	for _, who := range []string{"carol@subs.test", "dave@subs.test"} {
		box, _ := sink.Mailbox(who)
		for _, m := range box {
			if bytes.Contains(m, []byte("SCHLEUDER-MOVED-MARKER")) {
				t.Errorf("%s, without a key or delivery, got the post in clear", who)
			}
		}
	}
}
