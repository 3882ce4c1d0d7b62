package runners

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloister/commands"
	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// The paths of the email commands that the other command tests leave out,
// each through the runners (deliver, drain, the reply read from the SMTP
// sink), with gpg- and openssl-made keys where a signature decides.

// addList makes another list on the site, with its members.
func (s *testSite) addList(t *testing.T, addr string, settings map[string]string, members ...*lists.Member) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList(addr, time.Now())
		if err != nil {
			return err
		}
		for k, v := range settings {
			if err := l.Settings.Set(k, v); err != nil {
				return err
			}
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.AddMember(l.Address, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// keyedMember gives addr a gpg home and key (bound to addr on the site, and
// holding the list key) and puts it on the list with roles.
func keyedMember(t *testing.T, s *testSite, homes map[string]*gnupg.Home, keys storeKeys, addr string, roles ...lists.Role) {
	t.Helper()
	h := gnupg.New(t)
	h.GenKey(strings.Split(addr, "@")[0]+" <"+addr+">", "cv25519")
	h.Import(homes["list"].ExportPublic("team@lists.test"))
	keys.subs[addr] = readKey(t, h.ExportPublic(addr))
	homes[addr] = h
	err := s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("team@lists.test", &lists.Member{Address: addr, Roles: roles})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tokenMail returns the token of the last mail to rcpt whose text holds
// subject.
func tokenMail(t *testing.T, s *testSite, rcpt, subject string) string {
	t.Helper()
	box := s.mailbox(t, rcpt)
	for i := len(box) - 1; i >= 0; i-- {
		if strings.Contains(string(box[i]), subject) {
			return tokenIn(t, string(box[i]))
		}
	}
	t.Fatalf("%s got no mail with %q: %q", rcpt, subject, box)
	return ""
}

// heldIDs returns the IDs of the posts held for team.
func heldIDs(t *testing.T, s *testSite) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := s.Lists.View(func(tx *lists.Tx) error {
		hs, err := tx.HeldFor("team@lists.test")
		for _, h := range hs {
			out[h.ID] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mailWith reports whether any mail to rcpt holds marker.
func mailWith(t *testing.T, s *testSite, rcpt, marker string) bool {
	t.Helper()
	for _, m := range s.mailbox(t, rcpt) {
		if bytes.Contains(m, []byte(marker)) {
			return true
		}
	}
	return false
}

// TestCommandWhich: which (and its alias lists) names every list the sender
// holds a role on, advertised or not, with the roles and a delivery turned
// off; an address on no list is told so.
func TestCommandWhich(t *testing.T) {
	s := newTestSite(t)
	s.addList(t, "hidden@lists.test", map[string]string{"advertised": "no"},
		&lists.Member{Address: "ann@subs.test", Roles: []lists.Role{lists.RoleOwner}})
	err := s.Lists.Update(func(tx *lists.Tx) error {
		m, err := tx.Member("team@lists.test", "bob@subs.test")
		if err != nil {
			return err
		}
		m.Delivery = lists.DeliveryDisabled
		return tx.PutMember("team@lists.test", m)
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, command string
		want          []string
		not           []string
	}{
		{from: "ann@subs.test", command: "which",
			want: []string{"done: ann@subs.test is on:", "  team@lists.test (member, owner)", "  hidden@lists.test (owner)"}},
		{from: "bob@subs.test", command: "lists",
			want: []string{"done: bob@subs.test is on:", "  team@lists.test (member, delivery off)"}, not: []string{"hidden@lists.test"}},
		{from: "dan@else.test", command: "which",
			want: []string{"done: dan@else.test is on no list of this server"}, not: []string{"team@lists.test ("}},
	}
	for _, tc := range tests {
		s.deliver(t, queue.SubRequest, tc.from, "From: "+tc.from+"\nSubject: x\n\n"+tc.command+"\n")
	}
	s.drain(t)
	for _, tc := range tests {
		r := oneReply(t, s, tc.from)
		for _, w := range tc.want {
			if !strings.Contains(r, w) {
				t.Errorf("%s's reply lacks %q:\n%s", tc.from, w, r)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r, n) {
				t.Errorf("%s's reply holds %q:\n%s", tc.from, n, r)
			}
		}
	}
}

// TestCommandInfoPoliciesAndKey: info tells how to join and leave as the
// policies say, and gives the list key's fingerprint when the list has one.
func TestCommandInfoPoliciesAndKey(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	s.setList(t, map[string]string{"subscribe_policy": "confirm+approve", "unsubscribe_policy": "approve"})
	s.deliver(t, queue.SubRequest, "eve@else.test", "From: eve@else.test\nSubject: x\n\ninfo\n")
	s.drain(t)
	r := oneReply(t, s, "eve@else.test")
	for _, want := range []string{
		"> info\n  done: List:          team@lists.test",
		"Subscribing:   after you confirm your address and an owner approves (team-join@lists.test)",
		"Leaving:       after an owner approves (team-leave@lists.test)",
		"Owners:        team-owner@lists.test",
		"OpenPGP key:   " + homes["list"].Fingerprint("team@lists.test") + " (send \"key get\" for it)",
		"Encryption:    posts may be encrypted to the list's key",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
}

// TestCommandJoinLeaveAddresses: mail to LIST-join and LIST-leave, on the
// default policies (subscribe confirm, unsubscribe open).
func TestCommandJoinLeaveAddresses(t *testing.T) {
	s := newTestSite(t)
	// LIST-join from a new address: a confirmation, answered at
	// LIST-confirm+TOKEN, subscribes it.
	s.deliver(t, queue.SubJoin, "dan@else.test", "From: dan@else.test\nSubject: hello\n\n")
	// LIST-join from a member: nothing to do, and no confirmation request.
	s.deliver(t, queue.SubJoin, "bob@subs.test", "From: bob@subs.test\nSubject: hello\n\n")
	// LIST-leave from an address that is not on the list.
	s.deliver(t, queue.SubLeave, "eve@else.test", "From: eve@else.test\nSubject: bye\n\n")
	s.drain(t)
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed by LIST-join before confirming")
	}
	var reply string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Re: hello") {
			reply = string(m)
		}
	}
	if !strings.Contains(reply, "> subscribe (mail to team-join@lists.test)\n  pending: a confirmation request was sent to dan@else.test") {
		t.Fatalf("dan's reply:\n%s", reply)
	}
	s.deliverConfirm(t, tokenMail(t, s, "dan@else.test", "Subject: Confirm: subscribe dan@else.test"), "dan@else.test", "From: dan@else.test\nSubject: Re: Confirm\n\n")
	s.drain(t)
	if s.member(t, "dan@else.test") == nil {
		t.Fatalf("not subscribed after confirming; last mail:\n%s", lastMail(t, s, "dan@else.test"))
	}
	if r := oneReply(t, s, "bob@subs.test"); !strings.Contains(r, "> subscribe (mail to team-join@lists.test)\n  done: bob@subs.test is already subscribed") {
		t.Fatalf("bob's reply:\n%s", r)
	}
	if r := oneReply(t, s, "eve@else.test"); !strings.Contains(r, "> unsubscribe (mail to team-leave@lists.test)\n  refused: eve@else.test is not subscribed") {
		t.Fatalf("eve's reply:\n%s", r)
	}
}

// TestCommandSubscribePolicyConfirm: with subscribe.open, the confirm
// policy alone makes LIST-join wait for the address's confirmation.
func TestCommandSubscribePolicyConfirm(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"subscribe": "subscribe.open", "subscribe_policy": "confirm"})
	s.deliver(t, queue.SubJoin, "dan@else.test", "From: dan@else.test\nSubject: hello\n\n")
	s.drain(t)
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed without confirming under the confirm policy")
	}
	tok := tokenMail(t, s, "dan@else.test", "Subject: Confirm: subscribe dan@else.test")
	s.deliverConfirm(t, tok, "dan@else.test", "From: dan@else.test\nSubject: Re: Confirm\n\n")
	s.drain(t)
	if s.member(t, "dan@else.test") == nil {
		t.Fatalf("not subscribed after confirming; last mail:\n%s", lastMail(t, s, "dan@else.test"))
	}
}

// TestCommandSubscribeSigned: with subscribe.signed, an unsigned request is
// refused and one signed with the sender's key (open policy) subscribes at
// once.
func TestCommandSubscribeSigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	dan := homes["dan@else.test"]
	keys.subs["dan@else.test"] = readKey(t, dan.ExportPublic("dan@else.test"))
	s.setList(t, map[string]string{"subscribe": "subscribe.signed", "subscribe_policy": "open"})

	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nx-list-name team\nsubscribe Dan\n")
	s.drain(t)
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed by an unsigned request under subscribe.signed")
	}
	if r := decryptReply(t, dan, lastMail(t, s, "dan@else.test")); !strings.Contains(r, "> subscribe Dan\n  refused: subscription requests must be signed") {
		t.Fatalf("unsigned reply:\n%s", r)
	}
	s.deliver(t, queue.SubRequest, "dan@else.test", signedCommands(dan, "dan@else.test", "x", "x-list-name team\nsubscribe Dan\n"))
	s.drain(t)
	if m := s.member(t, "dan@else.test"); m == nil || m.Name != "Dan" {
		t.Fatalf("member = %+v; reply:\n%s", m, decryptReply(t, dan, lastMail(t, s, "dan@else.test")))
	}
	var all []string
	for _, m := range s.mailbox(t, "dan@else.test") {
		all = append(all, decryptReply(t, dan, string(m)))
	}
	if r := strings.Join(all, "\n=====\n"); !strings.Contains(r, "> subscribe Dan\n  done: dan@else.test is subscribed to team@lists.test") {
		t.Fatalf("signed reply:\n%s", r)
	}
}

// TestCommandUnsubscribeFlows: the unsubscribe scenarios and policies that
// need someone's confirmation or an owner's approval, and an owner leaving.
func TestCommandUnsubscribeFlows(t *testing.T) {
	testdirs.Slow(t, "drives the runners through many mails")
	tests := []struct {
		name     string
		settings map[string]string
		from     string
		command  string
		gone     string // the address leaving
		answerer string // who gets the token and returns it
		subject  string // of the mail holding the token
		pending  string // in the reply to the request
	}{
		{name: "unsubscribe.owner", settings: map[string]string{"unsubscribe": "unsubscribe.owner"},
			from: "bob@subs.test", command: "unsubscribe", gone: "bob@subs.test", answerer: "ann@subs.test",
			subject: "Subject: Approve: bob@subs.test asks to unsubscribe bob@subs.test", pending: "pending: the list owners were asked to approve"},
		{name: "approve policy", settings: map[string]string{"unsubscribe": "unsubscribe.open", "unsubscribe_policy": "approve"},
			from: "bob@subs.test", command: "leave", gone: "bob@subs.test", answerer: "ann@subs.test",
			subject: "Subject: Approve: bob@subs.test asks to unsubscribe bob@subs.test", pending: "pending: the list owners were asked to approve"},
		{name: "another address", settings: nil,
			from: "bob@subs.test", command: "unsubscribe cat@subs.test", gone: "cat@subs.test", answerer: "cat@subs.test",
			subject: "Subject: Confirm: unsubscribe cat@subs.test", pending: "pending: a confirmation request was sent to cat@subs.test"},
		{name: "LIST-leave with confirm", settings: map[string]string{"unsubscribe": "unsubscribe.confirm", "unsubscribe_policy": "confirm"},
			from: "bob@subs.test", gone: "bob@subs.test", answerer: "bob@subs.test",
			subject: "Subject: Confirm: unsubscribe bob@subs.test", pending: "pending: a confirmation request was sent to bob@subs.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, tc.settings)
			if tc.command == "" {
				s.deliver(t, queue.SubLeave, tc.from, "From: "+tc.from+"\nSubject: bye\n\n")
			} else {
				s.deliver(t, queue.SubRequest, tc.from, "From: "+tc.from+"\nSubject: bye\n\n"+tc.command+"\n")
			}
			s.drain(t)
			if s.member(t, tc.gone) == nil {
				t.Fatalf("%s unsubscribed before the token came back", tc.gone)
			}
			var reply string
			for _, m := range s.mailbox(t, tc.from) {
				if strings.Contains(string(m), "Subject: Re: bye") {
					reply = string(m)
				}
			}
			if !strings.Contains(reply, tc.pending) {
				t.Fatalf("reply lacks %q:\n%s", tc.pending, reply)
			}
			tok := tokenMail(t, s, tc.answerer, tc.subject)
			s.deliver(t, queue.SubRequest, tc.answerer, "From: "+tc.answerer+"\nSubject: ok\n\nconfirm "+tok+"\n")
			s.drain(t)
			if s.member(t, tc.gone) != nil {
				t.Fatalf("%s still subscribed; answer:\n%s", tc.gone, lastMail(t, s, tc.answerer))
			}
			if r := lastMail(t, s, tc.answerer); !strings.Contains(r, "done: ("+"unsubscribe "+tc.gone+" from "+tc.from+") "+tc.gone+" is unsubscribed") {
				t.Fatalf("reply to the token:\n%s", r)
			}
		})
	}
	t.Run("owner leaves", func(t *testing.T) {
		s := newTestSite(t)
		s.setList(t, map[string]string{"unsubscribe": "unsubscribe.open"})
		s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\nSubject: x\n\nunsubscribe\n")
		s.drain(t)
		m := s.member(t, "ann@subs.test")
		if m == nil || !m.IsOwner() || m.IsSubscriber() {
			t.Fatalf("ann after leaving: %+v", m)
		}
		if r := oneReply(t, s, "ann@subs.test"); !strings.Contains(r, "done: ann@subs.test is unsubscribed") {
			t.Fatalf("reply:\n%s", r)
		}
	})
}

// TestCommandSetDeliverySigned: a member's signed set delivery is carried
// out at once, without a confirmation; a bad value is refused.
func TestCommandSetDeliverySigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	bob := homes["bob@subs.test"]
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x", "x-list-name team\nset delivery digest\nset delivery sometimes\n"))
	s.drain(t)
	r := decryptReply(t, bob, oneReply(t, s, "bob@subs.test"))
	for _, want := range []string{"> set delivery digest\n  done: delivery of posts to bob@subs.test is digest",
		"> set delivery sometimes\n  refused: usage: set delivery on|off|digest"} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if m := s.member(t, "bob@subs.test"); m.Delivery != lists.DeliveryDigest {
		t.Fatalf("delivery = %s", m.Delivery)
	}
}

// TestCommandOwnerSettings: an owner's signed set changes a safe setting,
// refuses a bad value and a setting that is not safe, and not in the
// Subject line; a member's signed owner commands are refused.
func TestCommandOwnerSettings(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	ann, bob := homes["ann@subs.test"], homes["bob@subs.test"]
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(ann, "ann@subs.test", "x",
		"x-list-name team@lists.test\nset subject_prefix [t]\nset max_recipients lots\nset send send.public\nset advertised no\n"))
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x",
		"x-list-name team@lists.test\nset subject_prefix [b]\nmembers\nadd eve@else.test\n"))
	s.drain(t)
	r := decryptReply(t, ann, oneReply(t, s, "ann@subs.test"))
	// The same owner's signed mail with an owner command in its Subject:
	// that line counts as unsigned.
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(ann, "ann@subs.test", "set subject_prefix [s]", "x-list-name team@lists.test\n"))
	s.drain(t)
	if sub := decryptReply(t, ann, lastMail(t, s, "ann@subs.test")); !strings.Contains(sub,
		"> set subject_prefix [s]\n  (from the Subject line: taken as unsigned)\n  refused: only list owners may do this") {
		t.Errorf("reply to the Subject command:\n%s", sub)
	}
	for _, want := range []string{
		"> set subject_prefix [t]\n  done: subject_prefix is now \"[t]\"",
		"> set max_recipients lots\n  refused:",
		"> set send send.public\n  refused: \"send\" cannot be set by mail",
		"> set advertised no\n  done: advertised is now \"no\"",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("ann's reply lacks %q:\n%s", want, r)
		}
	}
	b := decryptReply(t, bob, oneReply(t, s, "bob@subs.test"))
	if n := strings.Count(b, "refused: only list owners may do this"); n != 3 {
		t.Errorf("%d refusals of bob's owner commands:\n%s", n, b)
	}
	if strings.Contains(b, "cat@subs.test") {
		t.Errorf("bob was shown the roster:\n%s", b)
	}
	var l *lists.List
	s.Lists.View(func(tx *lists.Tx) error { l, _ = tx.List("team@lists.test"); return nil })
	st := l.Settings
	if st.SubjectPrefix != "[t]" || st.MaxRecipients != 10 || st.Send != "send.private" || st.Advertised {
		t.Fatalf("settings after the commands: subject_prefix %q, max_recipients %d, send %q, advertised %v",
			st.SubjectPrefix, st.MaxRecipients, st.Send, st.Advertised)
	}
	if s.member(t, "eve@else.test") != nil {
		t.Fatal("a member's signed add was carried out")
	}
}

// TestCommandModerateSigned: approve, reject and discard by a moderator
// (not an owner) in mail signed with the moderator's gpg key, and their
// refusals: unsigned, signed by a member, a post held for another list.
func TestCommandModerateSigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	keyedMember(t, s, homes, keys, "mo@subs.test", lists.RoleModerator)
	s.setList(t, map[string]string{"send": "send.editorkey"})
	s.addList(t, "other@lists.test", nil)
	var otherID string
	err := s.Lists.Update(func(tx *lists.Tx) error {
		h := &lists.Held{List: "other@lists.test", File: "held-elsewhere", Reason: "test"}
		err := tx.PutHeld(h)
		otherID = h.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from     string
		unsigned bool
		command  string // ID stands for the held post's ID
		want     string
		held     bool   // the post is still held after the command
		post     bool   // bob received the post
		notice   string // in the one notice cat gets, if any
	}{
		{name: "approve", from: "mo@subs.test", command: "approve ID", want: "done: post ID approved: it goes to the list", post: true},
		{name: "reject", from: "mo@subs.test", command: "reject ID off topic here", want: "done: post ID rejected: its sender is told", notice: "off topic here"},
		{name: "discard", from: "mo@subs.test", command: "discard ID", want: "done: post ID discarded"},
		{name: "unsigned approve", from: "mo@subs.test", unsigned: true, command: "approve ID",
			want: "refused: only moderators and owners may do this", held: true},
		{name: "member rejects", from: "bob@subs.test", command: "reject ID no",
			want: "refused: only moderators and owners may do this", held: true},
		{name: "member discards", from: "bob@subs.test", command: "discard ID",
			want: "refused: only moderators and owners may do this", held: true},
		{name: "another list's post", from: "mo@subs.test", command: "discard " + otherID,
			want: "refused: no held post " + otherID + " on team@lists.test", held: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := heldIDs(t, s)
			marker := fmt.Sprintf("HELD-BODY-%d", i)
			s.deliver(t, queue.SubPost, "cat@subs.test", "From: cat@subs.test\nTo: team@lists.test\nSubject: post\n\n"+marker+"\n")
			s.drain(t)
			var id string
			for h := range heldIDs(t, s) {
				if !before[h] {
					id = h
				}
			}
			if id == "" {
				t.Fatal("the post was not held")
			}
			catMails := len(s.mailbox(t, "cat@subs.test"))
			command := strings.ReplaceAll(tc.command, "ID", id)
			text := "x-list-name team@lists.test\n" + command + "\n"
			if tc.unsigned {
				s.deliver(t, queue.SubRequest, tc.from, "From: "+tc.from+"\nSubject: x\n\n"+text)
			} else {
				s.deliver(t, queue.SubRequest, tc.from, signedCommands(homes[tc.from], tc.from, "x", text))
			}
			s.drain(t)
			r := decryptReply(t, homes[tc.from], lastMail(t, s, tc.from))
			if want := strings.ReplaceAll(tc.want, "ID", id); !strings.Contains(r, "> "+command+"\n  "+want) {
				t.Fatalf("reply lacks %q:\n%s", want, r)
			}
			if got := heldIDs(t, s)[id]; got != tc.held {
				t.Errorf("held after the command: %v, want %v", got, tc.held)
			}
			if got := mailWith(t, s, "bob@subs.test", marker); got != tc.post {
				t.Errorf("bob received the post: %v, want %v", got, tc.post)
			}
			var told [][]byte // what cat got besides the post itself
			for _, m := range s.mailbox(t, "cat@subs.test")[catMails:] {
				if !bytes.Contains(m, []byte("\nFrom: cat@subs.test\n")) {
					told = append(told, m)
				}
			}
			switch {
			case tc.notice == "" && len(told) != 0:
				t.Errorf("cat was told:\n%s", told[0])
			case tc.notice != "" && (len(told) != 1 || !bytes.Contains(told[0], []byte(tc.notice))):
				t.Errorf("cat's notice lacks %q: %q", tc.notice, told)
			}
		})
	}
}

// TestCommandArchiveRefusals: index and get as the get scenario and the
// archive setting decide.
func TestCommandArchiveRefusals(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		from     string
		want     []string
		sent     bool // the post is attached
	}{
		{name: "get.closed", settings: map[string]string{"get": "get.closed"}, from: "bob@subs.test",
			want: []string{"> index\n  refused: the archive cannot be fetched by mail", "> get 1\n  refused: the archive cannot be fetched by mail"}},
		{name: "no archive", settings: map[string]string{"archive": "none", "get": "get.public"}, from: "bob@subs.test",
			want: []string{"> index\n  refused: this list keeps no archive", "> get 1\n  refused: this list keeps no archive"}},
		{name: "get.private, outsider", settings: nil, from: "dan@else.test",
			want: []string{"> index\n  refused: only members may fetch the archive", "> get 1\n  refused: only members may fetch the archive"}},
		{name: "get.public, outsider", settings: map[string]string{"archive": "public", "get": "get.public"}, from: "dan@else.test",
			want: []string{"> index\n  done: 1 posts in the archive", "> get 1\n  done: post 1 is attached"}, sent: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			s.deliver(t, queue.SubPost, "cat@subs.test", "From: cat@subs.test\nTo: team@lists.test\nSubject: Notes\n\nARCHIVED-7c2\n")
			s.drain(t)
			s.setList(t, tc.settings)
			s.deliver(t, queue.SubRequest, tc.from, "From: "+tc.from+"\nSubject: archive\n\nindex\nget 1\nget one\n")
			s.drain(t)
			var r string
			for _, m := range s.mailbox(t, tc.from) {
				if strings.Contains(string(m), "Subject: Re: archive") {
					r = string(m)
				}
			}
			for _, w := range append(tc.want, "> get one\n  refused: usage: get N") {
				if !strings.Contains(r, w) {
					t.Errorf("reply lacks %q:\n%s", w, r)
				}
			}
			if got := strings.Contains(r, "ARCHIVED-7c2"); got != tc.sent {
				t.Errorf("the post is in the reply: %v, want %v:\n%s", got, tc.sent, r)
			}
		})
	}
}

// TestCommandSendkeyWithoutPGP: LIST-sendkey on a list without a key is
// refused, as are the key changes on a site without a keyring; on a list
// with an openssl-made S/MIME certificate LIST-sendkey sends the
// certificate in a reply signed with it (openssl verifies it against the
// CA).
func TestCommandSendkeyWithoutPGP(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real openssl")
	t.Run("no key", func(t *testing.T) {
		s := newTestSite(t)
		s.deliver(t, queue.SubSendkey, "dan@else.test", "From: dan@else.test\nSubject: key\n\n")
		s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: key\n\nkey set\nkey change\nkey frob\n")
		s.drain(t)
		if r := oneReply(t, s, "dan@else.test"); !strings.Contains(r, "> key get (mail to team-sendkey@lists.test)\n  refused: this list has no key") {
			t.Fatalf("reply:\n%s", r)
		}
		r := oneReply(t, s, "bob@subs.test")
		for _, want := range []string{"> key set\n  refused: keys cannot be set by mail on this server",
			"> key change\n  refused: keys cannot be changed by mail on this server", "> key frob\n  refused: usage: key get"} {
			if !strings.Contains(r, want) {
				t.Errorf("bob's reply lacks %q:\n%s", want, r)
			}
		}
	})
	t.Run("S/MIME", func(t *testing.T) {
		s, ca, _ := smimeKeySite(t)
		s.deliver(t, queue.SubSendkey, "dan@else.test", "From: dan@else.test\nSubject: key\n\n")
		s.drain(t)
		r := oneReply(t, s, "dan@else.test")
		text, err := ca.Verify([]byte(r))
		if err != nil {
			t.Fatalf("openssl does not verify the reply against the CA: %v\n%s", err, r)
		}
		if !strings.Contains(string(text), "done: S/MIME certificate team@lists.test is attached") || !strings.Contains(string(text), "team.pem") {
			t.Fatalf("reply:\n%s", text)
		}
	})
}

// TestCommandConfirmRefusals: a token that does not exist, one of another
// list (left unused) and confirm without a token.
func TestCommandConfirmRefusals(t *testing.T) {
	s := newTestSite(t)
	s.addList(t, "other@lists.test", map[string]string{"subscribe_policy": "open", "subscribe": "subscribe.open"})
	tok := &lists.Token{List: "other@lists.test", Address: "dan@else.test", Action: commands.TokenConfirm,
		Data: `{"cmd":"subscribe","args":["dan@else.test"],"sender":"dan@else.test","method":"smtp"}`}
	if err := s.Lists.Update(func(tx *lists.Tx) error { return tx.NewToken(tok, 0) }); err != nil {
		t.Fatal(err)
	}
	unknown := strings.Repeat("a", 32)
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nconfirm "+unknown+"\nconfirm "+tok.Value+"\nconfirm\n")
	s.deliverConfirm(t, unknown, "eve@else.test", "From: eve@else.test\nSubject: x\n\n")
	s.drain(t)
	r := oneReply(t, s, "dan@else.test")
	for _, want := range []string{
		"> confirm " + unknown + "\n  refused: unknown token",
		"> confirm " + tok.Value + "\n  refused: this token belongs to another list",
		"> confirm\n  refused: usage: confirm TOKEN",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if e := oneReply(t, s, "eve@else.test"); !strings.Contains(e, "> confirm (mail to team-confirm+...@lists.test)\n  refused: unknown token") {
		t.Errorf("reply to LIST-confirm+unknown:\n%s", e)
	}
	err := s.Lists.View(func(tx *lists.Tx) error {
		got, err := tx.Token(tok.Value)
		if err == nil && !got.Used.IsZero() {
			t.Error("another list's token was spent")
		}
		if ok, _ := tx.IsSubscriber("other@lists.test", "dan@else.test"); ok {
			t.Error("another list's token was carried out")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCommandEndStops: end and its aliases, and a signature delimiter, stop
// the reading of the commands.
func TestCommandEndStops(t *testing.T) {
	for i, stop := range []string{"end", "stop", "quit", "thanks", "-- "} {
		s := newTestSite(t)
		from := fmt.Sprintf("u%d@else.test", i)
		s.deliver(t, queue.SubRequest, from, "From: "+from+"\nSubject: x\n\nwhich\n"+stop+"\ninfo\nsubscribe\n")
		s.drain(t)
		r := oneReply(t, s, from)
		if !strings.Contains(r, "> which\n  done:") || strings.Contains(r, "> info") || strings.Contains(r, "> subscribe") {
			t.Errorf("%q did not stop the reading:\n%s", stop, r)
		}
		if s.member(t, from) != nil || len(s.mailbox(t, from)) != 1 {
			t.Errorf("a command after %q was carried out", stop)
		}
	}
}

// pgpSignedAt is signedCommands with gpg's clock set to at.
func pgpSignedAt(t *testing.T, h *gnupg.Home, from, text string, at time.Time) string {
	t.Helper()
	canon := strings.TrimRight(strings.ReplaceAll("Content-Type: text/plain; charset=utf-8\n\n"+text, "\n", "\r\n"), "\r\n")
	sig := h.Run([]byte(canon), "--faked-system-time", fmt.Sprintf("%d!", at.Unix()), "--armor", "--detach-sign",
		"--digest-algo", "SHA256", "--local-user", from)
	const b = "------------sig-boundary-age"
	return "From: " + from + "\nTo: team-request@lists.test\nSubject: x\nMessage-ID: <" + fmt.Sprint(at.UnixNano()) + "@subs.test>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"" + b + "\"\n\n" +
		"--" + b + "\r\n" + canon + "\r\n--" + b + "\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n" + string(sig) + "\r\n--" + b + "--\r\n"
}

// TestCommandSignedAgeThroughRunners: an owner's command signed (by gpg,
// its clock set back) longer ago than signed_command_max_age_days is
// refused; within the window it is carried out; one dated in the future is
// not taken as signed.
func TestCommandSignedAgeThroughRunners(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	now := time.Now()
	// ann's key is made 60 days ago, so that it can sign in the past.
	ann := gnupg.New(t)
	ann.Run(nil, "--faked-system-time", fmt.Sprintf("%d!", now.Add(-60*24*time.Hour).Unix()),
		"--quick-gen-key", "ann <ann@subs.test>", "future-default", "default", "0")
	ann.Import(homes["list"].ExportPublic("team@lists.test"))
	keys.subs["ann@subs.test"] = readKey(t, ann.ExportPublic("ann@subs.test"))

	tests := []struct {
		age    time.Duration
		maxAge string // signed_command_max_age_days
		want   string
		gone   bool // cat removed
	}{
		{age: 10 * 24 * time.Hour, maxAge: "7", want: "refused: the signature is older than 7 days; sign the commands again"},
		{age: 8 * 24 * time.Hour, maxAge: "7", want: "refused: the signature is older than 7 days"},
		{age: 40 * 24 * time.Hour, maxAge: "30", want: "refused: the signature is older than 30 days"},
		{age: 10 * 24 * time.Hour, maxAge: "14", want: "done: cat@subs.test is unsubscribed", gone: true},
		{age: 6 * 24 * time.Hour, maxAge: "7", want: "done: cat@subs.test is unsubscribed", gone: true},
		// Dated in the future: the signature is not counted at all (the
		// replay record of a mail would expire before its signature aged).
		{age: -30 * 24 * time.Hour, maxAge: "7", want: "refused: only list owners may do this"},
	}
	for i, tc := range tests {
		s.setList(t, map[string]string{"signed_command_max_age_days": tc.maxAge})
		if s.member(t, "cat@subs.test") == nil {
			err := s.Lists.Update(func(tx *lists.Tx) error {
				return tx.AddMember("team@lists.test", &lists.Member{Address: "cat@subs.test"})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		s.deliver(t, queue.SubRequest, "ann@subs.test", pgpSignedAt(t, ann, "ann@subs.test", fmt.Sprintf("# case %d\nx-list-name team@lists.test\nremove cat@subs.test\n", i), now.Add(-tc.age)))
		s.drain(t)
		r := decryptReply(t, ann, lastMail(t, s, "ann@subs.test"))
		if !strings.Contains(r, "> remove cat@subs.test\n  "+tc.want) {
			t.Errorf("signed %v ago, max %s days: reply lacks %q:\n%s", tc.age, tc.maxAge, tc.want, r)
		}
		if gone := s.member(t, "cat@subs.test") == nil; gone != tc.gone {
			t.Errorf("signed %v ago, max %s days: cat removed %v, want %v", tc.age, tc.maxAge, gone, tc.gone)
		}
	}
}

// TestCommandSMIMEOwnerCommands: owner commands in mail S/MIME-signed by
// openssl: the owner's are carried out, a member's refused.
func TestCommandSMIMEOwnerCommands(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, _ := smimeKeySite(t)
	ann := ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment")
	bob := ca.Issue("bob@subs.test", "rsa", "digitalSignature,keyEncipherment")
	text := "Content-Type: text/plain\n\nx-list-name team@lists.test\nadd eve@else.test Eve\nset subject_prefix [sm]\nmembers\n"
	s.deliver(t, queue.SubRequest, "bob@subs.test", smimeSigned(ca, "From: bob@subs.test\nTo: team-request@lists.test\nSubject: x\n", text, bob))
	s.drain(t)
	if s.member(t, "eve@else.test") != nil {
		t.Fatal("a member's S/MIME-signed add was carried out")
	}
	if r := crlfToLF(openReply(t, ca, lastMail(t, s, "bob@subs.test"), bob)); strings.Count(r, "refused: only list owners may do this") != 3 {
		t.Fatalf("bob's reply:\n%s", r)
	}
	s.deliver(t, queue.SubRequest, "ann@subs.test", smimeSigned(ca, "From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\n", text, ann))
	s.drain(t)
	r := crlfToLF(openReply(t, ca, lastMail(t, s, "ann@subs.test"), ann))
	for _, want := range []string{"> add eve@else.test Eve\n  done: eve@else.test is subscribed",
		"> set subject_prefix [sm]\n  done: subject_prefix is now \"[sm]\"", "> members\n  done: 4 on team@lists.test:"} {
		if !strings.Contains(r, want) {
			t.Errorf("ann's reply lacks %q:\n%s", want, r)
		}
	}
	if m := s.member(t, "eve@else.test"); m == nil || m.Name != "Eve" {
		t.Fatalf("eve = %+v", m)
	}
}

func crlfToLF(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
