package runners

import (
	"context"
	"strings"
	"testing"

	"cloister/lists"
	"cloister/queue"
	"cloister/rules"
	"cloister/service"
)

// TestServiceHeldPlaintextPost: through the service, a moderator proven by
// a signature (a web login by certificate) sees a held post that arrived in
// clear with its header and text, and approves it; a member is refused and
// learns nothing of it; each step is in the audit log.
func TestServiceHeldPlaintextPost(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"send": "send.editorkey"})
	s.addRole(t, "ann@subs.test", lists.RoleModerator)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: plain words\nMessage-ID: <p1@subs.test>\n\nthe text of the post\n")
	s.drain(t)
	ids := s.heldIDs(t)
	if len(ids) != 1 {
		t.Fatalf("held: %v", ids)
	}
	ctx := context.Background()
	svc := Service(s.Site)
	ann := service.Actor{Address: "ann@subs.test", Method: rules.MethodSMIME, Via: service.ViaWeb}
	bob := service.Actor{Address: "bob@subs.test", Method: rules.MethodSMIME, Via: service.ViaWeb}
	if _, err := svc.HeldShow(ctx, bob, service.HeldRef{List: "team", ID: ids[0]}); service.Code(err) != service.CodeForbidden {
		t.Errorf("a member shows the held post: %v, want forbidden", err)
	}
	if _, err := svc.HeldList(ctx, bob, service.HeldListRequest{List: "team"}); service.Code(err) != service.CodeForbidden {
		t.Errorf("a member lists the held posts: %v, want forbidden", err)
	}
	p, err := svc.HeldShow(ctx, ann, service.HeldRef{List: "team", ID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if p.Encrypted || !strings.Contains(p.Headers, "Subject: plain words") || !strings.Contains(p.Text, "the text of the post") || p.File != "" {
		t.Errorf("held post shown: %+v", p)
	}
	if err := svc.HeldApprove(ctx, bob, service.HeldRef{List: "team", ID: ids[0]}); service.Code(err) != service.CodeForbidden {
		t.Errorf("a member approves: %v, want forbidden", err)
	}
	if err := svc.HeldApprove(ctx, ann, service.HeldRef{List: "team", ID: ids[0]}); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if len(s.heldIDs(t)) != 0 {
		t.Error("the post is still held")
	}
	for _, who := range []string{"ann@subs.test", "cat@subs.test"} {
		box, err := s.sink.Mailbox(who)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range box {
			found = found || strings.Contains(string(m), "the text of the post") && !strings.Contains(string(m), "held for moderation")
		}
		if !found {
			t.Errorf("%s did not get the approved post", who)
		}
	}
	entries, err := svc.Audit(ctx, service.Console(), service.AuditRequest{List: "team"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Actor+" "+e.Op+" "+e.Result)
	}
	want := "bob@subs.test held.approve forbidden\nann@subs.test held.approve ok"
	if strings.Join(got, "\n") != want {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// TestServiceSubscribeConfirmedByMail: a subscription asked for through
// the service (a web login by email token) follows the list's workflow: a
// confirmation goes to the address by mail, nothing changes until it comes
// back, and the returned token subscribes through the email commands; with
// the approve policy the owners are asked too. The request and the change are audited.
func TestServiceSubscribeConfirmedByMail(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"subscribe_policy": "confirm+approve"})
	ctx := context.Background()
	svc := Service(s.Site)
	dan := service.Actor{Address: "dan@else.test", Method: rules.MethodMD5, Via: service.ViaWeb}
	_, err := svc.Subscribe(ctx, dan, service.SubscribeRequest{List: "team", Name: "Dan Smith"})
	if service.Code(err) != service.CodePending {
		t.Fatalf("subscribe: %v, want pending", err)
	}
	s.drain(t)
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed before confirming")
	}
	box := s.mailbox(t, "dan@else.test")
	if len(box) != 1 || !strings.Contains(string(box[0]), "Subject: Confirm: subscribe dan@else.test") {
		t.Fatalf("dan's mail: %q", box)
	}
	s.deliverConfirm(t, tokenIn(t, string(box[0])), "dan@else.test", "From: dan@else.test\nSubject: Re: Confirm\n\nyes\n")
	s.drain(t)
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed before the owners approved")
	}
	var approval string
	for _, m := range s.mailbox(t, "ann@subs.test") {
		if strings.Contains(string(m), "Subject: Approve: dan@else.test asks to subscribe dan@else.test") {
			approval = string(m)
		}
	}
	if approval == "" {
		t.Fatalf("the owner was not asked: %q", s.mailbox(t, "ann@subs.test"))
	}
	s.deliverConfirm(t, tokenIn(t, approval), "ann@subs.test", "From: ann@subs.test\nSubject: Re: Approve\n\nyes\n")
	s.drain(t)
	if m := s.member(t, "dan@else.test"); m == nil || m.Name != "Dan Smith" {
		t.Fatalf("after the approval: %+v", m)
	}
	entries, err := svc.Audit(ctx, service.Console(), service.AuditRequest{List: "team"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Actor+" "+e.Method+" "+e.Via+" "+e.Op+" "+e.Result)
	}
	// The approval's token runs the command as the confirmed request.
	want := "dan@else.test md5 web member.subscribe pending\n" +
		"dan@else.test md5 mail member.subscribe ok"
	if strings.Join(got, "\n") != want {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
