package service

import (
	"context"
	"errors"
	"testing"

	"cloister/lists"
	"cloister/rules"
)

// TestAskConfirmationAuthorization: a waiting command is recorded only as
// its sender was proven (a person's own, with its method; confirmed only
// when it was), by a token that covers the list's administration, or by
// the site's admins; a token made runs once, and only on its own list.
func TestAskConfirmationAuthorization(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	bob := person("bob@subs.test", rules.MethodMD5)
	confirmedBob := bob
	confirmedBob.Mail = &MailFacts{Confirmed: true}
	cmd := func(sender, method string, confirmed bool) WaitingCommand {
		return WaitingCommand{Cmd: "subscribe", Args: []string{sender}, Sender: sender, Method: method, Confirmed: confirmed}
	}
	for _, tc := range []struct {
		name string
		a    Actor
		cmd  WaitingCommand
		want string
	}{
		{"a person's own command", bob, cmd("bob@subs.test", rules.MethodMD5, false), ""},
		{"a person's command as another sender", bob, cmd("ann@subs.test", rules.MethodMD5, false), CodeForbidden},
		{"a person's command with a stronger method", bob, cmd("bob@subs.test", rules.MethodPGP, false), CodeForbidden},
		{"a command marked confirmed that was not", bob, cmd("bob@subs.test", rules.MethodMD5, true), CodeForbidden},
		{"a confirmed command", confirmedBob, cmd("bob@subs.test", rules.MethodMD5, true), ""},
		{"the list owner's token", token(t, "list:team@lists.test:owner"), cmd("carl@subs.test", MethodToken, false), ""},
		{"the owner's token with a person's method", token(t, "list:team@lists.test:owner"), cmd("carl@subs.test", rules.MethodPGP, false), CodeForbidden},
		{"a moderator's token", token(t, "list:team@lists.test:moderator"), cmd("carl@subs.test", MethodToken, false), CodeForbidden},
		{"another list's token", token(t, "list:other@lists.test:owner"), cmd("carl@subs.test", MethodToken, false), CodeForbidden},
		{"the console", Console(), cmd("carl@subs.test", MethodConsole, false), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := s.AskConfirmation(ctx, tc.a, ConfirmationRequest{List: "team", Action: TokenConfirm, To: []string{"carl@subs.test"}, Command: tc.cmd})
			if Code(err) != tc.want {
				t.Fatalf("AskConfirmation: %v, want code %q", err, tc.want)
			}
			if tc.want != "" {
				return
			}
			if len(ts) != 1 || ts[0].Address != "carl@subs.test" || ts[0].Token == "" {
				t.Fatalf("tokens %+v", ts)
			}
			if _, err := s.AnswerConfirmation(ctx, bob, AnswerRequest{List: "other", Token: ts[0].Token}); Code(err) != CodeForbidden {
				t.Errorf("answered on another list: %v, want forbidden", err)
			}
			ans, err := s.AnswerConfirmation(ctx, bob, AnswerRequest{List: "team", Token: ts[0].Token})
			if err != nil || ans.Approved || ans.Command.Sender != tc.cmd.Sender || ans.Command.Method != tc.cmd.Method {
				t.Fatalf("answer %+v, %v", ans, err)
			}
			if _, err := s.AnswerConfirmation(ctx, bob, AnswerRequest{List: "team", Token: ts[0].Token}); !errors.Is(err, lists.ErrTokenUsed) {
				t.Errorf("answered twice: %v, want ErrTokenUsed", err)
			}
		})
	}
}

// TestAskApprovalGoesToOwners: an approval token is made for each owner of
// the list, and the bad requests are refused with their own error.
func TestAskApprovalGoesToOwners(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	bob := person("bob@subs.test", rules.MethodPGP)
	w := WaitingCommand{Cmd: "subscribe", Sender: "bob@subs.test", Method: rules.MethodPGP}
	ts, err := s.AskConfirmation(ctx, bob, ConfirmationRequest{List: "team", Action: TokenApprove, Command: w})
	if err != nil || len(ts) != 1 || ts[0].Address != "ann@subs.test" {
		t.Fatalf("approval tokens %+v, %v", ts, err)
	}
	ans, err := s.AnswerConfirmation(ctx, bob, AnswerRequest{List: "team", Token: ts[0].Token})
	if err != nil || !ans.Approved || ans.Address != "ann@subs.test" {
		t.Fatalf("answer %+v, %v", ans, err)
	}
	for _, tc := range []struct {
		name string
		req  ConfirmationRequest
		want string
	}{
		{"an unknown action", ConfirmationRequest{List: "team", Action: "subscribe", Command: w}, CodeInvalid},
		{"a confirmation to nobody", ConfirmationRequest{List: "team", Action: TokenConfirm, Command: w}, CodeInvalid},
		{"no such list", ConfirmationRequest{List: "nolist", Action: TokenApprove, Command: w}, CodeNotFound},
	} {
		if _, err := s.AskConfirmation(ctx, bob, tc.req); Code(err) != tc.want {
			t.Errorf("%s: %v, want code %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"an unknown token", "aaaaaaaaaaaaaaaaaaaaaaaaaa", lists.ErrNoToken},
		{"a token of a post", postToken(t, s), ErrNotCommandToken},
	} {
		if _, err := s.AnswerConfirmation(ctx, bob, AnswerRequest{List: "team", Token: tc.token}); !errors.Is(err, tc.want) || Code(err) != CodeInvalid {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// postToken makes a token that is not a waiting command's.
func postToken(t *testing.T, s *Service) string {
	t.Helper()
	tok := &lists.Token{List: "team@lists.test", Address: "bob@subs.test", Action: "post-confirm"}
	if err := s.site.Lists.Update(func(tx *lists.Tx) error { return tx.NewToken(tok, 0) }); err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

// TestKeyRequestPutAndTake: a key request is made by a person (its
// holder, whose proof the caller checked) or the site's admins, never by a
// token; it is taken by the list's owners (GroundsApproved) or by a
// member's vouch by mail, once; both are audited.
func TestKeyRequestPutAndTake(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	const fpr = "0123456789ABCDEF0123456789ABCDEF01234567"
	put := KeyRequestPut{List: "team", Address: "bob@subs.test", Key: "KEY", Fingerprint: fpr, Mode: lists.EnrolOwner, Via: "key set"}
	if _, err := s.RequestKey(ctx, token(t, "list:team@lists.test:owner"), put); Code(err) != CodeForbidden {
		t.Fatalf("a token made a key request: %v", err)
	}
	r, err := s.RequestKey(ctx, person("bob@subs.test", rules.MethodPGP), put)
	if err != nil {
		t.Fatal(err)
	}
	if last := lastAudit(t, s); last.Op != "key.request.put" || last.Result != "ok" {
		t.Errorf("audit entry %+v", last)
	}
	for _, tc := range []struct {
		name string
		a    Actor
		take KeyRequestTake
		want string
	}{
		{"a member deciding", person("bob@subs.test", rules.MethodPGP), KeyRequestTake{ID: r.ID, Grounds: GroundsApproved}, CodeForbidden},
		{"another list's owner", token(t, "list:other@lists.test:owner"), KeyRequestTake{ID: r.ID, Grounds: GroundsApproved}, CodeForbidden},
		{"a vouch through the API", token(t, "list:team@lists.test:owner"), KeyRequestTake{Address: "bob@subs.test", Fingerprint: fpr, Grounds: GroundsVouch}, CodeForbidden},
		{"unknown grounds", Console(), KeyRequestTake{ID: r.ID, Grounds: GroundsSelf}, CodeInvalid},
		{"a vouch for another key", person("carl@subs.test", rules.MethodPGP), KeyRequestTake{Address: "bob@subs.test", Fingerprint: "FF" + fpr[2:], Grounds: GroundsVouch}, CodeNotFound},
		{"a member's vouch", person("carl@subs.test", rules.MethodPGP), KeyRequestTake{Address: "bob@subs.test", Fingerprint: fpr, Grounds: GroundsVouch}, ""},
		{"taken twice", Console(), KeyRequestTake{ID: r.ID, Grounds: GroundsApproved}, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.take.List = "team"
			got, err := s.TakeKeyRequest(ctx, tc.a, tc.take)
			if Code(err) != tc.want {
				t.Fatalf("TakeKeyRequest: %v, want code %q", err, tc.want)
			}
			if tc.want == CodeNotFound && !errors.Is(err, lists.ErrNoKeyRequest) {
				t.Errorf("not found without ErrNoKeyRequest: %v", err)
			}
			last := lastAudit(t, s)
			if tc.want != "" {
				if last.Result != tc.want {
					t.Errorf("refusal audited as %+v", last)
				}
				return
			}
			if got.ID != r.ID || last.Op != "key.request.take" || last.Target != r.ID+" bob@subs.test "+fpr+" (vouch)" {
				t.Errorf("took %+v, audit %+v", got, last)
			}
		})
	}
}

func lastAudit(t *testing.T, s *Service) *lists.AuditEntry {
	t.Helper()
	log := auditLog(t, s)
	if len(log) == 0 {
		t.Fatal("no audit entry")
	}
	return log[len(log)-1]
}
