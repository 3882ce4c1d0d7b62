package sitetest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Peer is a long-lived peer process (test/peers: OpenPGP.js's peer.mjs,
// Bouncy Castle's Peer.java, each started with "serve") that answers one
// command at a time on its standard output: a line "STATUS OUTLEN ERRLEN",
// then OUTLEN bytes of output and ERRLEN bytes of report.
type Peer struct {
	name string
	in   io.WriteCloser
	out  *bufio.Reader
}

// StartPeer starts cmd (its Dir already set) as the peer called name in
// failures, and stops it when the test ends (by closing its input).
func StartPeer(t testing.TB, name string, cmd *exec.Cmd) *Peer {
	t.Helper()
	p := &Peer{name: name}
	cmd.Stderr = os.Stderr
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.in.Close()
		cmd.Wait()
	})
	return p
}

// Call sends one request (in the peer's own encoding, ending in a newline)
// and returns the output and report of its answer, failing the test when
// the peer fails or does not answer. what names the command in failures.
func (p *Peer) Call(t testing.TB, what any, req []byte) (out []byte, report string) {
	t.Helper()
	if _, err := p.in.Write(req); err != nil {
		t.Fatalf("%s %v: %v", p.name, what, err)
	}
	line, err := p.out.ReadString('\n')
	var status, outLen, errLen int
	if err == nil {
		_, err = fmt.Sscanf(line, "%d %d %d", &status, &outLen, &errLen)
	}
	if err != nil {
		t.Fatalf("%s %v: no answer: %v", p.name, what, err)
	}
	buf := make([]byte, outLen+errLen)
	if _, err := io.ReadFull(p.out, buf); err != nil {
		t.Fatalf("%s %v: %v", p.name, what, err)
	}
	if status != 0 {
		t.Fatalf("%s %v failed: %s", p.name, what, buf[outLen:])
	}
	return buf[:outLen], string(buf[outLen:])
}
