package main

import (
	"os/exec"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestDemo runs `make demo`'s program as a newcomer does and checks what it
// prints: the runners' decisions for both lists, each member's copy as it
// travelled (encrypted: no word of the post in it) and decrypted with the
// member's own key (the list's prefix on the Subject, the whole text, the
// list's signature good), and the subscription by mail from the request to
// the welcome. The demo is one of README's two commands, so a change that
// breaks it fails here.
func TestDemo(t *testing.T) {
	testdirs.Slow(t, "runs the whole demo: a site, every runner, gpg and openssl")
	cmd := exec.Command("go", "run", "./cmd/demo")
	cmd.Dir = "../.." // as make demo runs it, from the repository's root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make demo's program failed: %v\n%s", err, out)
	}
	sections := demoSections(string(out))
	if len(sections) == 0 {
		t.Fatalf("no ==> sections in the demo's output:\n%s", out)
	}
	// want finds the section whose title starts with title and checks that
	// it holds every line part of has and none of hasNot.
	want := func(title string, has []string, hasNot ...string) {
		t.Helper()
		body, ok := sections[title]
		if !ok {
			for k, v := range sections {
				if strings.HasPrefix(k, title) {
					body, ok = v, true
					break
				}
			}
		}
		if !ok {
			t.Errorf("no section %q in the demo's output:\n%s", title, out)
			return
		}
		for _, h := range has {
			if !strings.Contains(body, h) {
				t.Errorf("section %q lacks %q:\n%s", title, h, body)
			}
		}
		for _, h := range hasNot {
			if strings.Contains(body, h) {
				t.Errorf("section %q shows %q:\n%s", title, h, body)
			}
		}
	}
	decisions := []string{
		"decision runner=rules decision=accept",
		"decision runner=pipeline decision=distribute recipients=3",
		"decision runner=archive decision=archived",
		"decision runner=outgoing decision=delivered kind=post recipients=3",
	}
	if n := strings.Count(string(out), "==> running every runner until the queues are empty"); n != 2 {
		t.Errorf("the runners ran %d times, want 2 (one post per list)", n)
	}
	for _, d := range decisions {
		if n := strings.Count(string(out), d); n != 2 {
			t.Errorf("%q printed %d times, want 2 (one post per list)", d, n)
		}
	}
	text := []string{"the notes of Thursday's meeting:", " - budget approved", " - next meeting on the 3rd, in the back room"}
	for _, m := range []struct{ addr, name string }{{"ann", "Ann"}, {"bob", "Bob"}, {"cat", "Cat"}} {
		addr := m.addr + "@members.test"
		want(addr+" received (as it travelled):",
			[]string{"Subject: ...", "Content-Type: multipart/encrypted", "-----BEGIN PGP MESSAGE-----"},
			"budget approved", "Meeting notes")
		want(addr+"'s gpg decrypts it with "+m.name+"'s own key: DECRYPTION_OKAY; list signature: GOODSIG",
			append([]string{"Subject: [team] Meeting notes", "From: Bob <bob@members.test>", "Hello team,"}, text...))
		want(addr+"'s openssl decrypts its copy with "+m.name+"'s own key and verifies the list's signature:",
			append([]string{"Subject: [board] Board minutes", "application/pkcs7-signature", "Hello board,"}, text...))
	}
	want(`Dan asks to join team@lists.example.test by mail: "subscribe" to team-request`, nil)
	want("Dan receives the reply to his command and the confirmation request, both signed by the list:",
		[]string{"To: dan@newcomers.test", "Subject: Re: subscribe", "protocol=\"application/pgp-signature\"", "team-confirm+"})
	want("Dan answers it: any message to team-confirm+", nil)
	want("Dan is now a member (enabled); the welcome he receives:",
		[]string{"To: dan@newcomers.test", "Subject: Welcome to team@lists.example.test", "Welcome to team@lists.example.test."})
}

// demoSections splits the demo's output at its "==> title" lines: title to
// the lines below it, up to the next title.
func demoSections(out string) map[string]string {
	sections := map[string]string{}
	title := ""
	var body strings.Builder
	flush := func() {
		if title != "" {
			sections[title] += body.String()
		}
		body.Reset()
	}
	for _, line := range strings.Split(out, "\n") {
		if t, ok := strings.CutPrefix(line, "==> "); ok {
			flush()
			title = t
			continue
		}
		body.WriteString(line + "\n")
	}
	flush()
	return sections
}
