package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestLicence checks that the repository carries the full GPL-3.0 text, that
// README names the licence and the file, and that README still gives a
// newcomer exactly two commands to run: make demo and make test.
func TestLicence(t *testing.T) {
	lic, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatalf("no LICENSE: %v", err)
	}
	for _, want := range []string{"GNU GENERAL PUBLIC LICENSE", "Version 3, 29 June 2007", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(string(lic), want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GPL-3.0-or-later", "`LICENSE`", "testdata/corpus/SOURCES.md"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README lacks %q", want)
		}
	}
	blocks := regexp.MustCompile("(?m)^```\n([^`]*)```").FindAllStringSubmatch(string(readme), -1)
	var cmds []string
	for _, b := range blocks {
		cmds = append(cmds, strings.TrimSpace(b[1]))
	}
	if strings.Join(cmds, "|") != "make demo|make test" {
		t.Errorf("README's commands are %q, want exactly make demo and make test", cmds)
	}
}
