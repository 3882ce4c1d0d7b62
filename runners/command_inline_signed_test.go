package runners

import (
	"testing"

	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// TestCommandInlineSigned: an owner's command mail inline-signed (gpg
// --sign -a), or inline-encrypted and signed in binary mode (gpg -e -s -a,
// whose signature the list keeps as an inline-signed message), is read and
// carried out as signed: the commands inside the OpenPGP message count.
func TestCommandInlineSigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"inline-signed", []string{"--sign"}},
		{"inline-signed, uncompressed", []string{"--sign", "--compress-algo", "none"}},
		{"inline signed+encrypted, binary", []string{"--encrypt", "--sign", "-r", "team@lists.test"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, homes, _ := keySite(t)
			ann := homes["ann@subs.test"]
			armored := ann.Run([]byte("x-list-name team@lists.test\nremove bob@subs.test\n"), append([]string{"--armor", "--local-user", "ann@subs.test"}, tt.args...)...)
			s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\nContent-Type: text/plain\n\n"+string(armored))
			s.drain(t)
			if s.member(t, "bob@subs.test") != nil {
				t.Fatalf("bob not removed; reply:\n%s", decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
			}
			// Replayed: refused.
			s.Lists.Update(func(tx *lists.Tx) error {
				return tx.AddMember("team@lists.test", &lists.Member{Address: "bob@subs.test"})
			})
			s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\nContent-Type: text/plain\n\n"+string(armored))
			s.drain(t)
			if s.member(t, "bob@subs.test") == nil {
				t.Fatal("replayed inline-signed remove carried out")
			}
		})
	}
}
