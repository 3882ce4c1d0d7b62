package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// gpgHome is one member's GnuPG home: the demo shows the members' side with
// the real gpg, as their mail clients would use it.
type gpgHome struct{ dir string }

func newGPGHome(parent, name string) (*gpgHome, error) {
	dir := filepath.Join(parent, "g-"+name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &gpgHome{dir: dir}, nil
}

func (g *gpgHome) run(stdin []byte, args ...string) ([]byte, string, error) {
	sf := filepath.Join(g.dir, "status")
	all := append([]string{"--homedir", g.dir, "--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback",
		"--passphrase", "", "--trust-model", "always", "--status-file", sf}, args...)
	cmd := exec.Command("gpg", all...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	st, _ := os.ReadFile(sf)
	if err != nil {
		return out.Bytes(), string(st), fmt.Errorf("gpg %s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes(), string(st), nil
}

func (g *gpgHome) stop() { exec.Command("gpgconf", "--homedir", g.dir, "--kill", "all").Run() }

// statusLine returns the first gpg status line with the keyword, without its prefix.
func statusLine(status, keyword string) string {
	for _, l := range strings.Split(status, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == keyword {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}
