package commands

import (
	"context"
	"testing"
	"time"

	"cloister/rules"
	"cloister/service"
)

// outcome is what a request came to: done, pending or refused (with the
// text shown), or failed.
type outcome struct{ status, text string }

func mailOutcome(r Result) outcome {
	switch r.Status {
	case Refused:
		return outcome{"refused", r.Text}
	case Done, Pending, Failed:
		return outcome{string(r.Status), ""}
	}
	return outcome{string(r.Status), r.Text}
}

func serviceOutcome(err error) outcome {
	switch service.Code(err) {
	case "":
		return outcome{"done", ""}
	case service.CodePending:
		return outcome{"pending", ""}
	case service.CodeUnavailable:
		return outcome{"failed", ""}
	}
	return outcome{"refused", service.Message(err)}
}

// TestServiceParity: for each authentication method and sender (owner,
// member, outsider), an owner, moderator or member operation run as an
// email command and through the service (as a web actor would) comes to the
// same decision, with the same refusal text: the web can do exactly what
// mail can for the method, and no more.
func TestServiceParity(t *testing.T) {
	ctx := context.Background()
	type op struct {
		name string
		mail func(c *Context) Result
		svc  func(s *service.Service, a service.Actor) error
	}
	ops := []op{
		{"add", func(c *Context) Result { return Add{}.Run(c, []string{"dan@subs.test"}) },
			func(s *service.Service, a service.Actor) error {
				_, err := s.MemberAdd(ctx, a, service.MemberAddRequest{List: "team@lists.test", Address: "dan@subs.test"})
				return err
			}},
		{"remove", func(c *Context) Result { return Remove{}.Run(c, []string{"bob@subs.test"}) },
			func(s *service.Service, a service.Actor) error {
				return s.MemberRemove(ctx, a, service.MemberRemoveRequest{List: "team@lists.test", Address: "bob@subs.test"})
			}},
		{"members", func(c *Context) Result { return Members{}.Run(c, nil) },
			func(s *service.Service, a service.Actor) error {
				_, err := s.MemberList(ctx, a, service.MemberListRequest{List: "team@lists.test"})
				return err
			}},
		{"set footer", func(c *Context) Result { return Set{}.Run(c, []string{"footer", "hello"}) },
			func(s *service.Service, a service.Actor) error {
				_, err := s.ListSet(ctx, a, service.ListSetRequest{List: "team@lists.test", Settings: map[string]string{"footer": "hello"}})
				return err
			}},
		{"approve", func(c *Context) Result { return Approve{}.Run(c, []string{"nosuchpost"}) },
			func(s *service.Service, a service.Actor) error {
				return s.HeldApprove(ctx, a, service.HeldRef{List: "team@lists.test", ID: "nosuchpost"})
			}},
		{"set delivery", func(c *Context) Result { return Set{}.Run(c, []string{"delivery", "digest"}) },
			func(s *service.Service, a service.Actor) error {
				_, err := s.MemberSetDelivery(ctx, a, service.MemberDeliveryRequest{List: "team@lists.test", Delivery: "digest"})
				return err
			}},
		{"unsubscribe", func(c *Context) Result { return Unsubscribe{}.Run(c, nil) },
			func(s *service.Service, a service.Actor) error {
				return s.Unsubscribe(ctx, a, service.MemberRef{List: "team@lists.test"})
			}},
		{"subscribe", func(c *Context) Result { return Subscribe{}.Run(c, nil) },
			func(s *service.Service, a service.Actor) error {
				_, err := s.Subscribe(ctx, a, service.SubscribeRequest{List: "team@lists.test"})
				return err
			}},
	}
	senders := []string{"ann@subs.test", "bob@subs.test", "zed@else.test"}
	methods := []string{rules.MethodSMTP, rules.MethodMD5, rules.MethodPGP, rules.MethodSMIME}
	seen := map[string]bool{}
	for _, o := range ops {
		for _, from := range senders {
			if o.name == "subscribe" && from != "zed@else.test" || o.name == "unsubscribe" && from == "zed@else.test" {
				continue // already on (off) the list: mail says so as done, the service as a conflict
			}
			for _, m := range methods {
				ms, ml := testSite(t)
				c := &Context{Site: ms, List: ml, Sender: from, Method: m, MailMethod: m, MailFrom: from,
					Signed: m == rules.MethodPGP || m == rules.MethodSMIME, Now: time.Now(), Scenarios: rules.NewScenarioSet("")}
				if c.Signed {
					// Signed with the key bound to the address, as a web
					// login by the bound certificate is.
					c.Signer, c.SignerFpr, c.KeyStore = from, "F1", boundKey{fpr: "F1"}
				}
				got := mailOutcome(o.mail(c))

				ss, _ := testSite(t)
				svc := service.New(ss, service.WithScenarios(rules.NewScenarioSet("")),
					service.WithWorkflows(Workflows{Site: ss}))
				want := serviceOutcome(o.svc(svc, service.Actor{Address: from, Method: m, Via: service.ViaWeb}))
				if got != want {
					t.Errorf("%s from %s by %s: mail %+v, service %+v", o.name, from, m, got, want)
				}
				seen[o.name+" "+got.status] = true
			}
		}
	}
	// The matrix holds both outcomes for the owner operations, so that a
	// test passing by refusing everything would show.
	for _, want := range []string{"add done", "add refused", "members done", "members refused", "remove done", "set footer done", "set footer refused", "set delivery done", "set delivery pending"} {
		if !seen[want] {
			t.Errorf("no case came to %q", want)
		}
	}
}

// boundKey is a key store where every address has the key fpr bound.
type boundKey struct {
	KeyStore
	fpr string
}

func (k boundKey) SubscriberPGP(string) (string, error)     { return k.fpr, nil }
func (k boundKey) SubscriberCerts(string) ([]string, error) { return []string{k.fpr}, nil }
