// Package container checks the container recipe without a container
// engine (none runs on the test machines): the entry point runs for real,
// with the built cloister and stand-ins for Postfix's commands and setpriv,
//
//	entrypoint.sh -> cloister init (first start only) -> cloister aliases
//	  -> master.cf service, postconf -e main.cf lines -> postfix check, start
//	  -> exec setpriv ... cloister runners --socketmap
//
// and the Containerfile, the runit scripts and docs/operators.md are checked
// to name the same commands and paths.
package container

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mta"
	"cloister/test/e2e/harness"
)

// stub writes a command that appends its name and arguments to log.
func stub(t *testing.T, dir, name, log string) {
	t.Helper()
	script := "#!/bin/sh\nprintf '%s' \"" + name + "\" >> " + log + "\nfor a in \"$@\"; do printf ' [%s]' \"$a\" >> " + log + "; done\necho >> " + log + "\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestContainerEntrypoint(t *testing.T) {
	root := testdirs.Root(t)
	dir := t.TempDir()
	harness.Build(t, filepath.Join(dir, "bin"))
	stubs := filepath.Join(dir, "stubs")
	os.Mkdir(stubs, 0o755)
	log := filepath.Join(dir, "calls.log")
	for _, name := range []string{"postconf", "postfix", "setpriv", "chown"} {
		stub(t, stubs, name, log)
	}
	state := filepath.Join(dir, "state")
	masterCF := filepath.Join(dir, "master.cf")
	os.WriteFile(masterCF, []byte("smtp      inet  n       -       y       -       -       smtpd\n"), 0o644)
	env := []string{
		"PATH=" + stubs + ":" + filepath.Join(dir, "bin") + ":/usr/bin:/bin",
		"CLOISTER_DOMAIN=lists.example.org", "CLOISTER_STATE=" + state, "POSTFIX_MASTER_CF=" + masterCF,
	}
	entry := filepath.Join(root, "etc", "container", "entrypoint.sh")
	harness.Run(t, env, entry)
	cfg, err := os.ReadFile(filepath.Join(state, "cloister.toml"))
	if err != nil {
		t.Fatalf("the entry point made no site: %v", err)
	}
	// A second start (the volume kept the site) changes nothing.
	harness.Run(t, env, entry)
	if again, _ := os.ReadFile(filepath.Join(state, "cloister.toml")); string(again) != string(cfg) {
		t.Errorf("the second start rewrote cloister.toml")
	}
	master, _ := os.ReadFile(masterCF)
	if n := strings.Count(string(master), "\ncloister  unix"); n != 1 {
		t.Errorf("master.cf has %d cloister services, want 1:\n%s", n, master)
	}
	if want := "argv=" + mta.DefaultDeliver + " --config " + filepath.Join(state, "cloister.toml") + " -f ${sender} ${original_recipient}"; !strings.Contains(string(master), want) {
		t.Errorf("master.cf lacks %q:\n%s", want, master)
	}
	calls, _ := os.ReadFile(log)
	for _, want := range []string{
		"postconf [-e] [relay_domains = socketmap:inet:127.0.0.1:10027:domains]\n",
		"postconf [-e] [transport_maps = socketmap:inet:127.0.0.1:10027:transport]\n",
		"postconf [-e] [relay_recipient_maps = socketmap:inet:127.0.0.1:10027:recipients]\n",
		"postconf [-e] [cloister_destination_recipient_limit = 1]\n",
		"postconf [-e] [recipient_delimiter = +]\n",
		"postfix [check]\npostfix [start]\nsetpriv [--reuid=cloister] [--regid=cloister] [--init-groups] [cloister] [runners] [--socketmap]\n",
		"chown [-R] [cloister:cloister] [" + state + "]\n",
	} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("the entry point did not run %q; it ran:\n%s", want, calls)
		}
	}
	t.Run("without a domain it says so", func(t *testing.T) {
		_, errOut, err := harness.RunErr([]string{"PATH=" + stubs + ":/usr/bin:/bin", "CLOISTER_DOMAIN="}, nil, entry)
		if err == nil || !strings.Contains(errOut, "set CLOISTER_DOMAIN") {
			t.Fatalf("no domain: %v %s", err, errOut)
		}
	})
}

// commandLines returns the lines of a shell script that run cloister (or
// exec, setpriv, postfix) and are no comments.
func commandLines(script string) []string {
	var out []string
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "cloister ") || strings.HasPrefix(l, "exec ") || strings.HasPrefix(l, "snippet=") ||
			strings.HasPrefix(l, "postfix ") || strings.HasPrefix(l, "chown ") {
			out = append(out, l)
		}
	}
	return out
}

func TestContainerRecipeIsDocumented(t *testing.T) {
	root := testdirs.Root(t)
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	doc := read("docs/operators.md")
	_, recipe, ok := strings.Cut(doc, "<!-- container-recipe -->\n```\n")
	if !ok {
		t.Fatal("docs/operators.md has no container recipe")
	}
	recipe, _, _ = strings.Cut(recipe, "```")
	entry := read("etc/container/entrypoint.sh")
	got := commandLines(entry)
	if want := strings.Split(strings.TrimSpace(recipe), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the entry point runs\n%s\ndocs/operators.md says\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cf := read("Containerfile")
	// What the image copies is where make install and the snippets put it.
	for _, want := range []string{
		"COPY --from=build /src/bin/deliver " + mta.DefaultDeliver + "\n",
		"COPY --from=build /src/bin/cloister /usr/local/bin/cloister\n",
		"COPY etc/container/entrypoint.sh /usr/local/lib/cloister/entrypoint.sh\n",
		`ENTRYPOINT ["/usr/local/lib/cloister/entrypoint.sh"]`,
		"VOLUME /var/lib/cloister\n",
		"RUN make build\n",
	} {
		if !strings.Contains(cf, want) {
			t.Errorf("Containerfile lacks %q", want)
		}
	}
	if !strings.Contains(entry, "--deliver "+mta.DefaultDeliver+")") {
		t.Errorf("the entry point does not name deliver at %s", mta.DefaultDeliver)
	}
	if fi, err := os.Stat(filepath.Join(root, "etc/container/entrypoint.sh")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("the entry point is not executable: %v", err)
	}
}

// TestServiceScriptsRunRealCommands: every cloister command line of the
// runit scripts, the entry point and the plain-shell recipe is one the
// binary takes (its flags parse: `--help` after them fails on an unknown
// flag or command), and every script is valid sh.
func TestServiceScriptsRunRealCommands(t *testing.T) {
	root := testdirs.Root(t)
	bins := harness.Build(t, filepath.Join(t.TempDir(), "bin"))
	scripts, _ := filepath.Glob(filepath.Join(root, "etc", "runit", "*", "run"))
	more, _ := filepath.Glob(filepath.Join(root, "etc", "runit", "*", "log", "run"))
	scripts = append(append(scripts, more...), filepath.Join(root, "etc", "container", "entrypoint.sh"))
	if len(scripts) < 4 {
		t.Fatalf("found only %v", scripts)
	}
	var lines []string
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
		b, _ := os.ReadFile(s)
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				lines = append(lines, l)
			}
		}
	}
	doc, _ := os.ReadFile(filepath.Join(root, "docs", "operators.md"))
	_, shell, _ := strings.Cut(string(doc), "### From a plain shell\n\n```\n")
	shell, _, _ = strings.Cut(shell, "```")
	lines = append(lines, strings.ReplaceAll(shell, "\\\n", " "))
	n := 0
	for _, l := range lines {
		for _, args := range cloisterInvocations(l) {
			n++
			if out, errOut, err := harness.RunErr(nil, nil, bins.Cloister, append(args, "--help")...); err != nil {
				t.Errorf("cloister %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
			}
		}
	}
	if n < 5 {
		t.Fatalf("found only %d cloister command lines", n)
	}
}

// quotedVar is a double-quoted shell expansion ("$state", "${X}").
var quotedVar = regexp.MustCompile(`"\$[^"]*"`)

// cloisterInvocations returns the arguments of each cloister command in a
// shell line: the words after "cloister" up to a redirection, a pipe or
// the end, with quoted expansions replaced by a placeholder. A "cloister"
// that is an option's value (useradd -o, sudo -u) is no invocation.
func cloisterInvocations(line string) [][]string {
	line = quotedVar.ReplaceAllString(line, "VALUE")
	line = strings.NewReplacer("$(", " ", ")", " ", ";", " ; ").Replace(line)
	words := strings.Fields(line)
	var out [][]string
	for i, w := range words {
		if w != "cloister" && w != "/usr/local/bin/cloister" {
			continue
		}
		if i > 0 && (words[i-1] == "-u" || words[i-1] == "-o" || words[i-1] == "-g") {
			continue
		}
		var args []string
		for _, a := range words[i+1:] {
			if a == ">" || a == ">>" || a == "2>&1" || a == "&" || a == "|" || a == ";" || a == "&&" {
				break
			}
			args = append(args, a)
		}
		if len(args) > 0 {
			out = append(out, args)
		}
	}
	return out
}
