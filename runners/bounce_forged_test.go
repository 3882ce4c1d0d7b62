package runners

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// returnPath returns the envelope sender the MTA saw for a copy (the sink
// stores it as Return-Path, as a local delivery does).
func returnPath(t *testing.T, msg []byte) string {
	t.Helper()
	line, _, _ := bytes.Cut(msg, []byte("\n"))
	a, ok := strings.CutPrefix(string(line), "Return-Path: <")
	if !ok {
		t.Fatalf("copy has no Return-Path: %.200s", msg)
	}
	return strings.TrimSuffix(a, ">")
}

// TestForgedBouncesDoNotScore: only a delivery report from the null sender
// to the signed bounce address of a copy the list sent counts, and only for
// the member that copy went to. Each attack is a report that names its
// victim (and whose To names the victim's old unsigned VERP address), as
// anyone can mail team-bounces.
func TestForgedBouncesDoNotScore(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	toCat := func(m string) string { return strings.ReplaceAll(m, "bob", "cat") }
	old := time.Now().AddDate(0, 0, -31)
	for _, tc := range []struct {
		name   string
		sender string
		verp   func(s *testSite, bobs string) string // bobs: the extension of bob's copy
		edit   func(string) string
		scored string // the member scored, or ""
	}{
		{"genuine report to the address of bob's copy", "", func(_ *testSite, b string) string { return b }, nil, "bob@subs.test"},
		{"unsigned VERP address, null sender", "", func(*testSite, string) string { return "bob=subs.test" }, nil, ""},
		{"unsigned VERP address, any sender", "mallory@evil.test", func(*testSite, string) string { return "bob=subs.test" }, nil, ""},
		{"made-up tag of the right shape", "", func(*testSite, string) string { return "aaaaaaaaaaaaa-bob=subs.test" }, nil, ""},
		{"plain bounce address, report names bob", "", func(*testSite, string) string { return "" }, nil, ""},
		{"valid MAC, sender not null", "mallory@evil.test", func(_ *testSite, b string) string { return b }, nil, ""},
		{"valid MAC, sender is a member", "cat@subs.test", func(_ *testSite, b string) string { return b }, nil, ""},
		{"bob's MAC for cat", "", func(_ *testSite, b string) string { return strings.Replace(b, "-bob=", "-cat=", 1) }, toCat, ""},
		{"bob's tag alone (short form) for cat", "", func(_ *testSite, b string) string { return b[:strings.IndexByte(b, '-')] }, toCat, "bob@subs.test"},
		{"expired MAC", "", func(s *testSite, _ string) string { return s.verp(t, "bob@subs.test", old) }, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			// A post goes out; bob's copy carries its signed bounce address.
			s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\nTo: team@lists.test\nSubject: Minutes\n\nbody\n")
			s.drain(t)
			box := s.mailbox(t, "bob@subs.test")
			if len(box) != 1 {
				t.Fatalf("bob got %d copies", len(box))
			}
			bobs := verpExt(t, returnPath(t, box[0]))
			s.logs.Reset()
			s.bounceFrom(t, tc.sender, tc.verp(s, bobs), "postfix-failed.eml", tc.edit)
			s.drain(t)
			for _, who := range []string{"bob@subs.test", "cat@subs.test"} {
				m := s.member(t, who)
				if scored := m.Bounces != nil && m.Bounces.Score > 0; scored != (who == tc.scored) {
					t.Errorf("%s scored %v (%+v), want %v", who, scored, m.Bounces, who == tc.scored)
				}
			}
			logs := s.logs.String()
			if tc.scored == "" && !strings.Contains(logs, "bounce not scored") {
				t.Errorf("the refusal is not logged:\n%s", logs)
			}
			if tc.scored == "" && strings.Contains(logs, "bounce recorded") {
				t.Errorf("a forged bounce was recorded:\n%s", logs)
			}
			for _, q := range []string{queue.Bounces, queue.Bad} {
				if f := s.files(t, q); len(f) != 0 {
					t.Errorf("queue %s left %v", q, f)
				}
			}
		})
	}
}
