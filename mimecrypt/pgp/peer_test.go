package pgp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// peerRun runs an OpenPGP implementation other than GnuPG (sq, sqop, rnp,
// PGPy) in dir with stdin and returns its standard output; a failure fails
// the test with its standard error.
func peerRun(t testing.TB, dir string, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, err := peerExec(dir, stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

// peerExec is peerRun returning the error (with standard error) instead.
func peerExec(dir string, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "SEQUOIA_HOME="+filepath.Join(dir, "sq"))
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &peerError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type peerError struct {
	err    error
	stderr string
}

func (e *peerError) Error() string { return e.err.Error() + ": " + e.stderr }

// armoredPublic returns the armored public key of e.
func armoredPublic(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := armor.Encode(&b, "PGP PUBLIC KEY BLOCK", nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

// readKey parses one armored or binary certificate.
func readKey(t testing.TB, b []byte) *openpgp.Entity {
	t.Helper()
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	if err != nil {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(b))
	}
	if err != nil || len(el) != 1 {
		t.Fatalf("read key: %v (%d keys)", err, len(el))
	}
	return el[0]
}

// writeFile writes b to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// armorEncode starts a PGP MESSAGE armor on w.
func armorEncode(w *bytes.Buffer) (interface {
	Write([]byte) (int, error)
	Close() error
}, error) {
	return armor.Encode(w, "PGP MESSAGE", nil)
}

// readFileT reads dir/name.
func readFileT(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// peerOutput is what a peer printed.
type peerOutput struct{ stdout, stderr []byte }

// peerExecErr runs a peer and returns both outputs and its error.
func peerExecErr(dir string, stdin []byte, name string, args ...string) (peerOutput, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return peerOutput{stdout.Bytes(), stderr.Bytes()}, err
}
