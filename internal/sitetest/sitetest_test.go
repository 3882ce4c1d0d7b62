package sitetest

import (
	"os/exec"
	"strings"
	"testing"

	"cloister/lists"
)

// TestNewSiteHasTheTeam: the harness site has the team list with ann as
// its owner and bob and cat as members, and its SMTP sink answers.
func TestNewSiteHasTheTeam(t *testing.T) {
	s := New(t, nil)
	var got []string
	err := s.Lists.View(func(tx *lists.Tx) error {
		ms, err := tx.Members(Team)
		for _, m := range ms {
			var roles []string
			for _, r := range m.Roles {
				roles = append(roles, string(r))
			}
			got = append(got, m.Address+":"+strings.Join(roles, ","))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if g, want := strings.Join(got, " "), "ann@subs.test:member,owner bob@subs.test:member cat@subs.test:member"; g != want {
		t.Errorf("team's members: %q, want %q", g, want)
	}
	if s.Config.SMTPAddr != s.Sink.Addr {
		t.Errorf("the site mails to %q, not its sink %q", s.Config.SMTPAddr, s.Sink.Addr)
	}
	if box := s.Mailbox(t, "bob@subs.test"); len(box) != 0 {
		t.Errorf("bob has %d mails before anything was sent", len(box))
	}
}

// TestPeerCall drives a peer written in sh that answers each request line
// with its output (the line reversed by rev) and a report.
func TestPeerCall(t *testing.T) {
	script := `while read -r line; do out=$(printf '%s' "$line" | rev); printf '0 %d 2\n%sok' "${#out}" "$out"; done`
	p := StartPeer(t, "sh peer", exec.Command("sh", "-c", script))
	for _, req := range []string{"abc", "hello peer"} {
		out, report := p.Call(t, req, []byte(req+"\n"))
		want := reverse(req)
		if string(out) != want || report != "ok" {
			t.Errorf("Call(%q) = %q, %q; want %q, \"ok\"", req, out, report, want)
		}
	}
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
