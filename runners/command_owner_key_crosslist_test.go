package runners

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// TestCommandOwnerKeySetOtherList: a key is bound for the whole site, so
// the owner of team may not set, by a signed "key set ADDRESS", the key of
// a member who is also on a list they do not own: that would change whom
// the other list encrypts to and whose signatures it trusts as the
// member's. Once the owner owns the other list too, the command (signed
// anew) binds the key.
func TestCommandOwnerKeySetOtherList(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList("other@lists.test", time.Now())
		if err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		return tx.AddMember("other@lists.test", &lists.Member{Address: "bob@subs.test", Roles: []lists.Role{lists.RoleMember}})
	})
	if err != nil {
		t.Fatal(err)
	}
	bobFpr := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint)
	forged := gnupg.New(t)
	forgedFpr := forged.GenKey("not bob <bob@subs.test>", "cv25519")
	cmd := func(list string) string {
		return "x-list-name " + list + "\nkey set bob@subs.test\n\n" + string(forged.ExportPublic("bob@subs.test"))
	}

	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "x", cmd("team")))
	s.drain(t)
	if got := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint); got != bobFpr {
		t.Fatalf("the owner of team replaced the key of a member of other: %s, was %s", got, bobFpr)
	}
	if reply := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")); !strings.Contains(reply, "lists this actor may not run") {
		t.Fatalf("reply to the refused key set:\n%s", reply)
	}

	err = s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("other@lists.test", &lists.Member{Address: "ann@subs.test", Roles: []lists.Role{lists.RoleOwner}})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "y", cmd("team@lists.test")))
	s.drain(t)
	if got := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint); got != forgedFpr {
		t.Fatalf("the owner of both lists did not set bob's key: %s, want %s; reply:\n%s", got, forgedFpr,
			decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")))
	}
}
