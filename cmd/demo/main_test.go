package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDemo runs `make demo`'s program as a newcomer does and checks that
// every member's decrypted mail is shown: the demo is one of README's two
// commands, so a change that breaks it fails here.
func TestDemo(t *testing.T) {
	cmd := exec.Command("go", "run", "./cmd/demo")
	cmd.Dir = "../.." // as make demo runs it, from the repository's root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make demo's program failed: %v\n%s", err, out)
	}
	for _, want := range []string{"running every runner until the queues are empty", "Meeting notes", "budget approved"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q\n%s", want, out)
		}
	}
}
