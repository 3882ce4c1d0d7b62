// Package install checks what `make install` lays out, into a DESTDIR:
//
//	make install DESTDIR=D -> D/usr/local/{bin,lib/cloister,lib/systemd,share/doc,share/man}
//
// every path the units, the MTA samples and the runit scripts name exists
// there, and every command has its man page.
package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mta"
)

func TestMakeInstall(t *testing.T) {
	testdirs.Slow(t, "end-to-end: builds and runs make install")
	root := testdirs.Root(t)
	dest := t.TempDir()
	cmd := exec.Command("make", "install", "DESTDIR="+dest, "BIN="+filepath.Join(t.TempDir(), "bin"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	exists := func(what, path string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(dest, path)); err != nil {
			t.Errorf("%s names %s, which make install did not create", what, path)
		}
	}
	exists("mta.DefaultDeliver", mta.DefaultDeliver)
	for _, page := range []string{"cloister.1", "cloister-runners.1", "cloister-mta-socketmap.1", "cloister-list-create.1", "cloister-backup.1"} {
		exists("the man pages", "/usr/local/share/man/man1/"+page)
	}
	// Every absolute path a shipped file names under /usr/local exists.
	path := regexp.MustCompile(`(?:file://)?(/usr/local/[\w./@-]+\w)`)
	var named []string
	for _, glob := range []string{"usr/local/lib/systemd/system/*", "etc/cloister/postfix/*", "etc/cloister/exim/*", "usr/local/share/cloister/runit/*/run", "usr/local/share/cloister/runit/*/log/run"} {
		files, _ := filepath.Glob(filepath.Join(dest, glob))
		if len(files) == 0 {
			t.Errorf("make install installed nothing matching %s", glob)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range path.FindAllStringSubmatch(string(b), -1) {
				if strings.HasSuffix(m[1], "/etc/sv") {
					continue
				}
				named = append(named, m[1])
				exists(strings.TrimPrefix(f, dest), m[1])
			}
		}
	}
	for _, want := range []string{"/usr/local/share/doc/cloister/operators.md", "/usr/local/bin/cloister", mta.DefaultDeliver} {
		found := false
		for _, n := range named {
			found = found || n == want
		}
		if !found {
			t.Errorf("no installed file names %s: the check above proves nothing for it", want)
		}
	}
}
