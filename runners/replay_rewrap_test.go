package runners

import (
	"fmt"
	"mime/quotedprintable"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// TestClearSignedReplayRewrapped: an owner's clear-signed remove acts once.
// Whoever captured it can change what the signature does not cover or what
// its verification forgives: an armor header added to the signature block,
// trailing white space on the signed lines, a dash escape on a line that
// needs none, the text quoted-printable encoded, the block encrypted to the
// list by the attacker, the same mail sent to another list of the site.
// Each is the same signature and must be refused as a replay. Through the
// runners, signatures by gpg.
func TestClearSignedReplayRewrapped(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	ann := homes["ann@subs.test"]
	s.addList(t, "other@lists.test", nil, &lists.Member{Address: "ann@subs.test", Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}},
		&lists.Member{Address: "bob@subs.test"})
	signed := string(ann.Run([]byte("x-list-name team@lists.test\nremove bob@subs.test\n"), "--clearsign", "--local-user", "ann@subs.test"))
	header := "From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\n"
	s.deliver(t, queue.SubRequest, "ann@subs.test", header+"Content-Type: text/plain\n\n"+signed)
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("the first clear-signed remove did not act; reply:\n%s", decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
	}

	qp := func(signed string) string {
		var b strings.Builder
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(strings.ReplaceAll(signed, "\n", "\r\n")))
		w.Close()
		return b.String()
	}
	plain := header + "Content-Type: text/plain\n\n"
	for i, v := range []struct {
		name string
		to   dest
		mail func(signed string) string
	}{
		{"armor header added", teamRequest, func(signed string) string {
			return plain + strings.Replace(signed, "-----BEGIN PGP SIGNATURE-----\n", "-----BEGIN PGP SIGNATURE-----\nComment: again\n", 1)
		}},
		{"trailing white space", teamRequest, func(signed string) string {
			return plain + strings.Replace(strings.Replace(signed, "x-list-name team@lists.test\n", "x-list-name team@lists.test  \t\n", 1),
				"remove bob@subs.test\n", "remove bob@subs.test \n", 1)
		}},
		{"needless dash escape", teamRequest, func(signed string) string {
			return plain + strings.Replace(signed, "\nremove bob@subs.test\n", "\n- remove bob@subs.test\n", 1)
		}},
		{"quoted-printable", teamRequest, func(signed string) string {
			return header + "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n" + qp(signed)
		}},
		{"encrypted to the list by the attacker", teamRequest, func(signed string) string {
			return plain + string(ann.Run([]byte(signed), "--armor", "--encrypt", "--recipient", "team@lists.test"))
		}},
		{"to another list", dest{"other@lists.test", queue.SubRequest}, func(signed string) string {
			return strings.Replace(header, "team-request@", "other-request@", 1) + "Content-Type: text/plain\n\n" + signed
		}},
	} {
		t.Run(v.name, func(t *testing.T) {
			// The same change to a signature never seen acts: the
			// replay is what is refused, not the form.
			fresh := string(ann.Run([]byte(fmt.Sprintf("x-list-name %s\nremove bob@subs.test\nend\n%d\n", v.to.list, i)),
				"--clearsign", "--local-user", "ann@subs.test"))
			s.deliverTo(t, v.to, "ann@subs.test", v.mail(fresh))
			s.drain(t)
			if memberOf(t, s, v.to.list, "bob@subs.test") != nil {
				t.Fatalf("the form does not act even when new; reply:\n%s", decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
			}
			for _, l := range []string{"team@lists.test", "other@lists.test"} {
				if memberOf(t, s, l, "bob@subs.test") == nil {
					if err := s.Lists.Update(func(tx *lists.Tx) error {
						return tx.AddMember(l, &lists.Member{Address: "bob@subs.test"})
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
			before := len(s.mailbox(t, "ann@subs.test"))
			s.deliverTo(t, v.to, "ann@subs.test", v.mail(signed))
			s.drain(t)
			if s.member(t, "bob@subs.test") == nil {
				t.Fatalf("the replayed remove was carried out on team; reply:\n%s", decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
			}
			if memberOf(t, s, "other@lists.test", "bob@subs.test") == nil {
				t.Fatalf("the replayed remove was carried out on other")
			}
			if len(s.mailbox(t, "ann@subs.test")) == before {
				t.Fatal("the replay got no answer")
			}
			if reply := decryptReply(t, ann, lastMail(t, s, "ann@subs.test")); !strings.Contains(reply, "received before") {
				t.Fatalf("the replay is not refused as one:\n%s", reply)
			}
		})
	}
}

// memberOf returns addr's membership of list, nil when there is none.
func memberOf(t *testing.T, s *testSite, list, addr string) *lists.Member {
	t.Helper()
	var m *lists.Member
	s.Lists.View(func(tx *lists.Tx) error {
		m, _ = tx.Member(list, addr)
		return nil
	})
	return m
}
