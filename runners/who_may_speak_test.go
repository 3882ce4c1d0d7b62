package runners

import (
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// TestWhoMaySpeak: who may post, run an owner command, run a member
// command and change a key, on a list whose posts need pgp authentication
// (send.private_pgp) and whose owner commands need a signature
// (admin.signed), through the runners with gpg-made keys and signatures.
// Each row is a speaker with the address it claims (From) and the key it
// signs with; each cell is the expected outcome, checked on the state:
//
//   - post: a signed post; "yes" when cat receives it.
//   - owner: a signed "add NEW"; "yes" when NEW is then subscribed.
//   - member: a signed "set delivery off"; "yes" when the claimed address's
//     delivery is then off (for the outsider: bob's).
//   - key: a signed "key change" with a new key for the claimed address
//     (the outsider attaches her own key, whose user IDs name bob); "yes"
//     when the keyring then binds that new key to the address.
//
// The outsider's key is on file for her own address, bound as a proven
// enrolment binds it, and carries self-signed user IDs for ann (the owner)
// and bob: they prove nothing. dan is a member of another list of the same
// site, with his key bound to his address.
func TestWhoMaySpeak(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	type cells struct{ post, owner, member, key bool }
	for _, row := range []struct {
		name    string
		signer  string // the address whose gpg home signs
		postAs  string // From of the post, the member command and the key change
		ownerAs string // From of the owner command
		want    cells
	}{
		{"member with bound key", "bob@subs.test", "bob@subs.test", "bob@subs.test", cells{post: true, owner: false, member: true, key: true}},
		{"outsider with extra user IDs", "eve@evil.test", "bob@subs.test", "ann@subs.test", cells{post: false, owner: false, member: false, key: false}},
		{"owner", "ann@subs.test", "ann@subs.test", "ann@subs.test", cells{post: true, owner: true, member: true, key: true}},
		{"member of another list", "dan@else.test", "dan@else.test", "dan@else.test", cells{post: false, owner: false, member: false, key: true}},
	} {
		t.Run(row.name, func(t *testing.T) {
			s, k, homes := identitySite(t)
			s.setList(t, map[string]string{"admin": "admin.signed"})
			// eve's key on file for her own address only; dan on another list.
			if _, err := k.AddOpenPGP("eve@evil.test", homes["eve@evil.test"].ExportPublic("eve@evil.test"), false); err != nil {
				t.Fatal(err)
			}
			dan := gnupg.New(t)
			dan.GenKey("dan <dan@else.test>", "cv25519")
			dan.Import(homes["list"].ExportPublic("team@lists.test"))
			homes["dan@else.test"] = dan
			if _, err := k.AddOpenPGP("dan@else.test", dan.ExportPublic("dan@else.test"), false); err != nil {
				t.Fatal(err)
			}
			s.addList(t, "other@lists.test", nil, &lists.Member{Address: "dan@else.test"})
			h := homes[row.signer]
			signer := row.signer

			// post
			s.deliver(t, queue.SubPost, row.postAs, signedMail(h, signer, row.postAs, "team@lists.test", "hello", "WHO-POST-91d\n"))
			s.drain(t)
			// owner command
			s.deliver(t, queue.SubRequest, row.ownerAs, signedMail(h, signer, row.ownerAs, "team-request@lists.test", "cmds",
				"x-list-name team@lists.test\nadd newcomer@subs.test\n"))
			s.drain(t)
			// member command
			s.deliver(t, queue.SubRequest, row.postAs, signedMail(h, signer, row.postAs, "team-request@lists.test", "cmds",
				"x-list-name team@lists.test\nset delivery off\n"))
			s.drain(t)
			// key command: the new key is the signer's own for the outsider
			// (its user IDs name bob), a fresh one for everyone else.
			newKey, newFpr := h.ExportPublic(signer), h.Fingerprint(signer)
			if row.signer == row.postAs {
				nh := gnupg.New(t)
				newFpr = nh.GenKey(strings.Split(row.postAs, "@")[0]+" <"+row.postAs+">", "cv25519")
				newKey = nh.ExportPublic(row.postAs)
			}
			s.deliver(t, queue.SubRequest, row.postAs, signedMail(h, signer, row.postAs, "team-request@lists.test", "cmds",
				"x-list-name team@lists.test\nkey change\n\n"+string(newKey)))
			s.drain(t)

			m := s.member(t, row.postAs)
			got := cells{
				post:   received(t, s, "cat@subs.test", "WHO-POST-91d"),
				owner:  s.member(t, "newcomer@subs.test") != nil,
				member: m != nil && m.Delivery == lists.DeliveryDisabled,
				key:    boundFingerprint(t, k, row.postAs) == newFpr,
			}
			if got != row.want {
				t.Errorf("outcomes %+v, want %+v", got, row.want)
				for _, a := range []string{row.postAs, row.ownerAs} {
					if box := s.mailbox(t, a); len(box) > 0 {
						t.Logf("last mail to %s:\n%s", a, box[len(box)-1])
					}
				}
			}
		})
	}
}
