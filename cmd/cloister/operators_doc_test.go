package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// walkThrough returns the commands of the fenced block that follows the
// marker line "<!-- walk-through: NAME ..." in a doc.
func walkThrough(t *testing.T, doc, name string) []string {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- walk-through: "+name)
	if !ok {
		t.Fatalf("%s has no walk-through %q", doc, name)
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, _ := strings.Cut(rest, "```")
	var cmds []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

// shellWords splits a command line on spaces, keeping double-quoted words.
func shellWords(line string) []string {
	var out []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
			}
			inWord = false
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// TestOperatorsEncryptedList runs the encrypted-list walk-through of
// docs/operators.md, command by command, on a fresh site with members' keys
// made by the real gpg, and checks the result: the list's settings, a list
// key gpg imports, the members' bound keys and a clean check.
func TestOperatorsEncryptedList(t *testing.T) {
	testdirs.Slow(t, "runs gpg through the operators' guide")
	cfg := keySite(t)
	withMTA(t, cfg)
	cmds := walkThrough(t, docPath(t, "operators.md"), "encrypted list")
	dir := t.TempDir()
	t.Chdir(dir)
	gpg := gpgHome(t)
	for _, who := range []string{"alice", "bob"} {
		gpg("", "--quick-gen-key", who+" <"+who+"@example.org>", "future-default", "default", "0")
		os.WriteFile(filepath.Join(dir, who+".asc"), []byte(gpg("", "--armor", "--export", who+"@example.org")), 0o600)
	}
	if len(cmds) < 4 {
		t.Fatalf("walk-through has %d commands", len(cmds))
	}
	outputs := map[string]string{}
	for _, line := range cmds {
		words := shellWords(line)
		if words[0] != "cl" {
			t.Fatalf("walk-through line %q does not start with cl", line)
		}
		args, redirect := words[1:], ""
		if n := len(args); n >= 2 && args[n-2] == ">" {
			args, redirect = args[:n-2], args[n-1]
		}
		stdout, stderr, err := cliSplit(t, append([]string{"--config", cfg}, args...)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s%s", line, err, stdout, stderr)
		}
		if redirect != "" {
			os.WriteFile(filepath.Join(dir, redirect), []byte(stdout), 0o600)
		}
		outputs[strings.Join(args[:min(2, len(args))], " ")] = stdout
	}
	if out := outputs["list settings"]; !strings.Contains(out, "pgp_post_encrypt = force") || !strings.Contains(out, "send = send.private_pgp") {
		t.Errorf("the walk-through's list is not encrypted:\n%.800s", out)
	}
	if out := gpg("", "--import-options", "show-only", "--import", filepath.Join(dir, "team.asc")); !strings.Contains(out, "team@lists.test") {
		t.Errorf("team.asc is not the list key:\n%s", out)
	}
	keys, err := cli(t, "--config", cfg, "key", "ls")
	if err != nil || !strings.Contains(keys, "alice@example.org") || !strings.Contains(keys, "bob@example.org") {
		t.Errorf("members' keys not added (%v):\n%s", err, keys)
	}
}

// docPath returns the path of a file in docs/.
func docPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
