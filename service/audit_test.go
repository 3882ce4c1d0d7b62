package service

import (
	"context"
	"strings"
	"testing"

	"cloister/lists"
	"cloister/rules"
)

// fakeWorkflows records the mails a workflow would send.
type fakeWorkflows struct{ asked []string }

func (f *fakeWorkflows) AskConfirm(l *lists.List, a Actor, cmd string, args []string, address string, what rules.Reason) error {
	f.asked = append(f.asked, "confirm "+address+": "+what.String())
	return nil
}

func (f *fakeWorkflows) AskApproval(l *lists.List, a Actor, cmd string, args []string, what rules.Reason) error {
	f.asked = append(f.asked, "approve: "+what.String())
	return nil
}

func (f *fakeWorkflows) Welcome(l *lists.List, address string) error {
	f.asked = append(f.asked, "welcome "+address)
	return nil
}

func auditLog(t *testing.T, s *Service) []*lists.AuditEntry {
	t.Helper()
	var out []*lists.AuditEntry
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		out, err = tx.Audit(lists.AuditFilter{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditEntries: every change through the service, allowed or not, is
// in the audit log with who asked, how they were authenticated, the way
// in, the operation, the list, the target and the result; reads are not.
func TestAuditEntries(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, WithWorkflows(&fakeWorkflows{}))
	console := Console()
	tok := token(t, "list:team@lists.test:owner")
	ann := Actor{Address: "ann@subs.test", Method: rules.MethodPGP, Via: ViaWeb}
	bob := Actor{Address: "bob@subs.test", Method: rules.MethodMD5, Via: ViaWeb}
	steps := []struct {
		run  func() error
		want string // actor method via op list target result
	}{
		{func() error { _, err := s.MemberList(ctx, ann, MemberListRequest{List: "team"}); return err }, ""},
		{func() error { _, err := s.ListShow(ctx, console, ListRef{List: "team"}); return err }, ""},
		{func() error {
			_, err := s.MemberAdd(ctx, ann, MemberAddRequest{List: "team", Address: "dan@subs.test"})
			return err
		}, "ann@subs.test pgp web member.add team@lists.test dan@subs.test ok"},
		{func() error {
			_, err := s.MemberAdd(ctx, bob, MemberAddRequest{List: "team", Address: "eve@subs.test"})
			return err
		}, "bob@subs.test md5 web member.add team@lists.test eve@subs.test forbidden"},
		{func() error {
			_, err := s.ListSet(ctx, tok, ListSetRequest{List: "team", Settings: map[string]string{"footer": "x"}})
			return err
		}, " token api list.set team@lists.test footer=\"x\" ok"},
		{func() error {
			_, err := s.ListSet(ctx, tok, ListSetRequest{List: "team", Settings: map[string]string{"pgp_post_encrypt": "no"}})
			return err
		}, " token api list.set team@lists.test pgp_post_encrypt forbidden"},
		{func() error {
			name := "Dan, \"D\""
			_, err := s.MemberSet(ctx, console, MemberSetRequest{List: "team", Address: "dan@subs.test", Name: &name})
			return err
		}, ` console cli member.set team@lists.test dan@subs.test name="Dan, \"D\"" ok`},
		{func() error {
			return s.MemberRemove(ctx, console, MemberRemoveRequest{List: "team", Address: "cat@subs.test", AllRoles: true})
		}, " console cli member.remove team@lists.test cat@subs.test ok"},
		{func() error {
			_, err := s.MemberSetDelivery(ctx, bob, MemberDeliveryRequest{List: "team", Delivery: "digest"})
			return err
		}, "bob@subs.test md5 web member.delivery team@lists.test bob@subs.test delivery=digest ok"},
		{func() error {
			_, err := s.Subscribe(ctx, Actor{Address: "new@subs.test", Method: rules.MethodMD5, Via: ViaWeb}, SubscribeRequest{List: "team"})
			return err
		}, "new@subs.test md5 web member.subscribe team@lists.test new@subs.test pending"},
		{func() error {
			return s.Unsubscribe(ctx, Actor{Address: "bob@subs.test", Method: rules.MethodSMTP, Via: ViaMail}, MemberRef{List: "team"})
		}, "bob@subs.test smtp mail member.unsubscribe team@lists.test bob@subs.test pending"},
		{func() error {
			return s.Unsubscribe(ctx, Actor{Address: "bob@subs.test", Method: rules.MethodSMTP, Via: ViaMail,
				Mail: &MailFacts{Confirmed: true}}, MemberRef{List: "team"})
		}, "bob@subs.test smtp mail member.unsubscribe team@lists.test bob@subs.test ok"},
		{func() error {
			_, err := s.ListCreate(ctx, console, ListCreateRequest{Address: "fresh"})
			return err
		}, " console cli list.create fresh@lists.test  ok"},
		{func() error { return s.ListDelete(ctx, console, ListRef{List: "fresh"}) }, " console cli list.delete fresh@lists.test  ok"},
		{func() error { return s.ListDelete(ctx, ann, ListRef{List: "other"}) }, "ann@subs.test pgp web list.delete other@lists.test  forbidden"},
	}
	var want []string
	for i, st := range steps {
		st.run()
		if st.want != "" {
			want = append(want, st.want)
		}
		var got []string
		for _, e := range auditLog(t, s) {
			got = append(got, strings.Join([]string{e.Actor, e.Method, e.Via, e.Op, e.List, e.Target, e.Result}, " "))
			if e.Time.IsZero() || e.Seq == 0 {
				t.Errorf("entry %+v has no time or sequence", e)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("after step %d the audit log is\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// A token's scopes are recorded, never its secret.
	for _, e := range auditLog(t, s) {
		if e.Method == MethodToken && (len(e.Scopes) != 1 || e.Scopes[0] != "list:team@lists.test:owner" || e.Token != "t1") {
			t.Errorf("token entry %+v: want its ID and scope", e)
		}
	}
	// The log of a list is read by its owners, not by its members.
	if got, err := s.Audit(ctx, ann, AuditRequest{List: "team"}); err != nil || len(got) == 0 {
		t.Errorf("owner reads the list's audit log: %d entries, %v", len(got), err)
	}
	if _, err := s.Audit(ctx, bob, AuditRequest{List: "team"}); Code(err) != CodeForbidden {
		t.Errorf("member reads the audit log: %v, want forbidden", err)
	}
	if _, err := s.Audit(ctx, ann, AuditRequest{}); Code(err) != CodeForbidden {
		t.Errorf("owner reads the whole site's audit log: %v, want forbidden", err)
	}
}

// TestErrorCodes: each failure has its stable code.
func TestErrorCodes(t *testing.T) {
	ctx := context.Background()
	fw := &fakeWorkflows{}
	s := newTestService(t, WithWorkflows(fw))
	console := Console()
	if err := s.site.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("other@lists.test")
		if err != nil {
			return err
		}
		l.Settings.SubscribePolicy = "confirm"
		return tx.PutList(l)
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"no list", func() error { _, err := s.ListShow(ctx, console, ListRef{List: "nope"}); return err }, CodeNotFound},
		{"no list given", func() error { _, err := s.ListShow(ctx, console, ListRef{}); return err }, CodeInvalid},
		{"bad address", func() error {
			_, err := s.MemberAdd(ctx, console, MemberAddRequest{List: "team", Address: "not an address"})
			return err
		}, CodeInvalid},
		{"member twice", func() error {
			_, err := s.MemberAdd(ctx, console, MemberAddRequest{List: "team", Address: "bob@subs.test"})
			return err
		}, CodeConflict},
		{"list twice", func() error { _, err := s.ListCreate(ctx, console, ListCreateRequest{Address: "team"}); return err }, CodeConflict},
		{"bad setting", func() error {
			_, err := s.ListSet(ctx, console, ListSetRequest{List: "team", Settings: map[string]string{"no_such": "1"}})
			return err
		}, CodeInvalid},
		{"bad value", func() error {
			_, err := s.ListSet(ctx, console, ListSetRequest{List: "team", Settings: map[string]string{"pgp_post_encrypt": "perhaps"}})
			return err
		}, CodeInvalid},
		{"not a member", func() error {
			return s.MemberRemove(ctx, console, MemberRemoveRequest{List: "team", Address: "zed@else.test"})
		}, CodeNotFound},
		{"import too large", func() error {
			_, err := s.MemberImport(ctx, console, MemberImportRequest{List: "team", Data: make([]byte, MaxImportSize+1)})
			return err
		}, CodeTooLarge},
		{"import bad lines", func() error {
			_, err := s.MemberImport(ctx, console, MemberImportRequest{List: "team", Data: []byte("x@subs.test\nnot an address\n")})
			return err
		}, CodeInvalid},
		{"subscribe waits for the confirmation", func() error {
			_, err := s.Subscribe(ctx, Actor{Address: "zed@else.test", Method: rules.MethodMD5, Via: ViaWeb}, SubscribeRequest{List: "other"})
			return err
		}, CodePending},
		{"forbidden", func() error {
			_, err := s.ListSet(ctx, Actor{Address: "bob@subs.test", Method: rules.MethodPGP, Via: ViaWeb}, ListSetRequest{List: "team", Settings: map[string]string{"footer": "x"}})
			return err
		}, CodeForbidden},
		{"no held post", func() error { _, err := s.HeldShow(ctx, console, HeldRef{ID: "nope"}); return err }, CodeNotFound},
	} {
		if got := Code(tc.run()); got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.want)
		}
	}
	if len(fw.asked) != 1 || !strings.HasPrefix(fw.asked[0], "confirm zed@else.test") {
		t.Errorf("workflow mails: %q, want one confirmation to zed", fw.asked)
	}
}

// TestAuditWithholdsEncryptedRequests: the target of a refused request
// that came in an encrypted mail is not written in clear; a change made is
// recorded with its target.
func TestAuditWithholdsEncryptedRequests(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	enc := func(addr string) Actor {
		return Actor{Address: addr, Method: rules.MethodPGP, Via: ViaMail, Mail: &MailFacts{Encrypted: true, Signed: true, Signer: addr}}
	}
	s.MemberRemove(ctx, enc("bob@subs.test"), MemberRemoveRequest{List: "team", Address: "secret-name@else.test"})
	s.MemberRemove(ctx, enc("ann@subs.test"), MemberRemoveRequest{List: "team", Address: "other-secret@else.test"})
	s.MemberRemove(ctx, enc("ann@subs.test"), MemberRemoveRequest{List: "team", Address: "cat@subs.test"})
	var got []string
	for _, e := range auditLog(t, s) {
		got = append(got, e.Actor+" "+e.Target+" "+e.Result)
	}
	want := "bob@subs.test " + TargetWithheld + " forbidden\n" +
		"ann@subs.test " + TargetWithheld + " not_found\n" +
		"ann@subs.test cat@subs.test ok"
	if strings.Join(got, "\n") != want {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
