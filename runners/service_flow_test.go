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
