package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// MuttSend composes and sends a mail with the real mutt, driven through its
// compose menu in a detached tmux session (mutt in batch mode would send
// plaintext: crypto needs the compose menu). muttrc lines are added to a base
// configuration that sends through sendmail; gnupgHome is the sender's
// GNUPGHOME. The recipient's key must be trusted in it (lsigned) or mutt stops
// at its key picker.
func MuttSend(t *testing.T, gnupgHome, sendmail, from, to, subject, body string, muttrc ...string) {
	t.Helper()
	for _, tool := range []string{"mutt", "tmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run test/setup.sh (make test does)", tool)
		}
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "Mail"), 0o700)
	rc := fmt.Sprintf(`set folder="%[1]s/Mail"
set spoolfile="%[1]s/Mail/inbox"
set mbox="%[1]s/Mail/mbox"
set record=""
set postpone=no
set editor="true"
set abort_unmodified=no
set edit_headers=no
set use_from=yes
set from="%[2]s"
set sendmail="%[3]s"
set crypt_use_gpgme=yes
unset crypt_opportunistic_encrypt
`, dir, from, sendmail) + strings.Join(muttrc, "\n") + "\n"
	os.WriteFile(filepath.Join(dir, "muttrc"), []byte(rc), 0o600)
	os.WriteFile(filepath.Join(dir, "body.txt"), []byte(body), 0o600)
	session := fmt.Sprintf("mutt%d", time.Now().UnixNano())
	cmd := fmt.Sprintf("GNUPGHOME=%s mutt -n -F %s/muttrc -s %q -i %s/body.txt %s; echo MUTT-EXITED $?; sleep 30",
		gnupgHome, dir, subject, dir, to)
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	defer exec.Command("tmux", "kill-session", "-t", session).Run()
	pane := func() string {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", session).Output()
		return string(out)
	}
	step := func(want, keys string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(pane(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("mutt did not show %q; screen:\n%s", want, pane())
			}
			time.Sleep(100 * time.Millisecond)
		}
		exec.Command("tmux", "send-keys", "-t", session, keys).Run()
	}
	step("To: ", "Enter")
	step("Subject: ", "Enter")
	step("y:Send", "y")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(pane(), "MUTT-EXITED") {
		if time.Now().After(deadline) {
			t.Fatalf("mutt did not finish sending; screen:\n%s", pane())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(pane(), "MUTT-EXITED 0") {
		t.Fatalf("mutt failed; screen:\n%s", pane())
	}
}
