package mta

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/listaddr"
	"cloister/internal/testdirs"
)

// settings strips comments and blank lines: what the MTA reads.
func settings(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestSamplesMatchGenerators checks that the commented samples in
// etc/postfix and etc/exim say what `cloister aliases` prints for the same
// site, so the samples cannot drift from the code.
func TestSamplesMatchGenerators(t *testing.T) {
	const (
		domain  = "lists.example.org"
		deliver = "/usr/local/lib/cloister/deliver"
		config  = "/etc/cloister/cloister.toml"
	)
	lists := []string{"team@" + domain}
	transport, recipients, master, mainCF := PostfixTransport(domain, lists, deliver, config)
	smMaster, smMainCF := PostfixSocketmap("127.0.0.1:10027", deliver, config)
	exim := Exim(domain, deliver, config, DefaultEximLists)
	router, eximTransport, _ := strings.Cut(exim, "# --- transport ---")
	etc := filepath.Join(testdirs.Root(t), "etc")
	tests := []struct{ file, want string }{
		{"postfix/cloister_transport", transport},
		{"postfix/cloister_recipients", recipients},
		{"postfix/master.cf.cloister", master},
		{"postfix/main.cf.cloister", mainCF},
		{"postfix/main.cf.socketmap", smMainCF},
		{"postfix/master.cf.cloister", smMaster},
		{"exim/cloister_lists", EximLists(lists)},
		{"exim/router", router},
		{"exim/transport", eximTransport},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(etc, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := settings(string(b)), settings(tt.want); got != want {
				t.Errorf("etc/%s says\n%s\nthe generator prints\n%s", tt.file, got, want)
			}
		})
	}
}

func TestEximSnippetPipesBytesAsTheyCame(t *testing.T) {
	s := Exim("l.test", "/d", "", "/f")
	for _, want := range []string{"message_prefix =\n", "message_suffix =\n", "command = /d\n", "temp_errors = 75\n", "user = cloister\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("Exim snippet lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "command = /d ${") {
		t.Errorf("the pipe command carries tainted expansions:\n%s", s)
	}
}

// TestSnippetsNameEverySubaddress: the Postfix recipient map, the aliases
// and the Exim router accept every subaddress of listaddr.Suffixes (and
// SUFFIX+* where it takes an extension), so a new one reaches deliver.
func TestSnippetsNameEverySubaddress(t *testing.T) {
	lists := []string{"team@lists.example.org"}
	_, recipients, _, _ := PostfixTransport("lists.example.org", lists, DefaultDeliver, "")
	aliases := PostfixAliases(lists, DefaultDeliver, "")
	router, _, _ := strings.Cut(Exim("lists.example.org", DefaultDeliver, "", DefaultEximLists), "# --- transport ---")
	var suffixLine string
	for _, l := range strings.Split(router, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(l), "local_part_suffix = "); ok {
			suffixLine = s
		}
	}
	eximSuffixes := map[string]bool{}
	for _, s := range strings.Split(suffixLine, ":") {
		eximSuffixes[strings.TrimSpace(s)] = true
	}
	for _, s := range listaddr.Suffixes {
		a := "team" + s.Suffix + "@lists.example.org"
		if !strings.Contains(recipients, a+" OK\n") {
			t.Errorf("the Postfix recipient map lacks %s", a)
		}
		if !strings.Contains(aliases, "team"+s.Suffix+": ") {
			t.Errorf("the aliases lack %s", a)
		}
		if !eximSuffixes[s.Suffix] || eximSuffixes[s.Suffix+"+*"] != s.Extension {
			t.Errorf("the Exim router's suffixes %q do not match %+v", suffixLine, s)
		}
	}
	if len(eximSuffixes) == 0 {
		t.Fatal("no local_part_suffix in the Exim router")
	}
}

// TestDefaultDeliverIsInstalled: the deliver path the snippets name by
// default is where `make install` puts deliver with its default PREFIX.
func TestDefaultDeliverIsInstalled(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(testdirs.Root(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := regexp.MustCompile(`(?m)^PREFIX \?= (\S+)$`).FindSubmatch(mk)
	if prefix == nil {
		t.Fatal("the Makefile sets no default PREFIX")
	}
	if !strings.Contains(string(mk), "$(BIN)/deliver $(DESTDIR)$(PREFIX)/lib/cloister/deliver") {
		t.Fatal("make install no longer installs deliver as $(PREFIX)/lib/cloister/deliver")
	}
	if want := string(prefix[1]) + "/lib/cloister/deliver"; DefaultDeliver != want {
		t.Fatalf("DefaultDeliver = %s, make install puts deliver in %s", DefaultDeliver, want)
	}
}
