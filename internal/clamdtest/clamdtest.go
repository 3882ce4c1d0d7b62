// Package clamdtest runs a real clamd (Debian's clamav-daemon) for tests,
// with a private configuration in a temp dir and a signature database the
// test writes, so that no signature download is needed.
package clamdtest

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// EICAR is the EICAR anti-virus test string, which every scanner reports
// and which harms nothing.
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// Signature is the name the test database gives EICAR.
const Signature = "Cloister-Test-EICAR"

// Daemon is a clamd run by a test.
type Daemon struct {
	// Socket is the path of its Unix socket.
	Socket string
	// Dir holds its configuration, database, log and TemporaryDirectory
	// (where clamd spools each INSTREAM stream while it scans it).
	Dir  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	t    testing.TB
}

// Start writes a private clamd.conf and a database holding one body
// signature (EICAR anywhere in a scanned object, so in any decoded MIME
// part), starts clamd in the foreground with StreamMaxLength streamMaxKB
// KiB, and waits for its socket. The test fails when clamd is not installed
// (test/setup.sh installs it). The daemon is stopped at the end of the test.
func Start(t testing.TB, streamMaxKB int) *Daemon {
	t.Helper()
	bin, err := exec.LookPath("clamd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/clamd"); serr != nil {
			t.Fatalf("clamd is not installed (test/setup.sh installs clamav-daemon): %v", err)
		}
		bin = "/usr/sbin/clamd"
	}
	// Unix socket paths are short (108 bytes): a short temp dir.
	dir, err := os.MkdirTemp("", "clamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	ndb := Signature + ":0:*:" + hex.EncodeToString([]byte(EICAR)) + "\n"
	if err := os.WriteFile(filepath.Join(db, "test.ndb"), []byte(ndb), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Socket: filepath.Join(dir, "clamd.sock"), Dir: dir, dir: dir, t: t}
	conf := strings.Join([]string{
		"LocalSocket " + d.Socket,
		"DatabaseDirectory " + db,
		"Foreground yes",
		"LogFile " + filepath.Join(dir, "clamd.log"),
		"PidFile " + filepath.Join(dir, "clamd.pid"),
		"TemporaryDirectory " + dir,
		fmt.Sprintf("StreamMaxLength %dK", streamMaxKB),
		"SelfCheck 0",
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "clamd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(bin, "--config-file="+filepath.Join(dir, "clamd.conf"))
	d.startAndWait()
	t.Cleanup(d.Stop)
	return d
}

func (d *Daemon) startAndWait() {
	d.t.Helper()
	d.cmd = exec.Command(d.cmd.Path, d.cmd.Args[1:]...)
	out, err := os.Create(filepath.Join(d.dir, "clamd.out"))
	if err != nil {
		d.t.Fatal(err)
	}
	d.cmd.Stdout, d.cmd.Stderr = out, out
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("start clamd: %v", err)
	}
	d.done = make(chan struct{})
	go func() { d.cmd.Wait(); out.Close(); close(d.done) }()
	// Loading even a one-signature database takes a moment; a loaded
	// machine may need much longer. Waiting is bounded, not timed.
	for i := 0; i < 1200; i++ {
		if _, err := os.Stat(d.Socket); err == nil {
			return
		}
		select {
		case <-d.done:
			b, _ := os.ReadFile(filepath.Join(d.dir, "clamd.out"))
			d.t.Fatalf("clamd exited before opening its socket:\n%s", b)
		case <-time.After(100 * time.Millisecond):
		}
	}
	d.t.Fatalf("clamd did not open %s", d.Socket)
}

// Stop stops clamd and waits for it to exit; its socket is gone after.
func (d *Daemon) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	select {
	case <-d.done:
	default:
		d.cmd.Process.Kill()
		<-d.done
	}
	os.Remove(d.Socket)
}

// Restart starts clamd again after Stop, with the same configuration.
func (d *Daemon) Restart() {
	d.t.Helper()
	d.startAndWait()
}
