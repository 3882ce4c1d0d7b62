package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"cloister/internal/refusal"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

// post builds a Post to list@example.org from a message and settings changes.
func testPost(t testing.TB, raw string, meta queue.Meta, settings map[string]string) *Post {
	t.Helper()
	l, err := lists.NewList("list@example.org", testTime)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range settings {
		if err := l.Settings.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := mailmsg.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if meta.From == "" {
		meta.From, _ = msg.FromAddress()
	}
	if meta.List == "" {
		meta.List = l.Address
	}
	return &Post{List: l, Meta: &meta, Msg: msg, Body: []byte(raw)}
}

var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const okPost = "From: Bob <bob@example.net>\nTo: list@example.org\nSubject: Minutes\n\nThe minutes of Tuesday's meeting are attached.\n"

type ruleCase struct {
	name     string
	raw      string
	meta     queue.Meta
	settings map[string]string
	siteBan  []string
	hit      bool
	reason   string // substring of the reason when hit
}

func runRuleCases(t *testing.T, r Rule, cases []ruleCase) {
	t.Helper()
	if r.Name() == "" || r.Description() == "" {
		t.Fatalf("%T has no name or description", r)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw
			if raw == "" {
				raw = okPost
			}
			p := testPost(t, raw, tc.meta, tc.settings)
			p.SiteBanned = tc.siteBan
			got := r.Check(p)
			if got.Hit != tc.hit {
				t.Fatalf("%s: hit = %v (%q), want %v", r.Name(), got.Hit, got.Reason.String(), tc.hit)
			}
			if tc.hit && !strings.Contains(got.Reason.String(), tc.reason) {
				t.Fatalf("%s: reason %q lacks %q", r.Name(), got.Reason.String(), tc.reason)
			}
			if !tc.hit && !got.Reason.IsZero() {
				t.Fatalf("%s: a miss with reason %q", r.Name(), got.Reason.String())
			}
		})
	}
}

func TestLoop(t *testing.T) {
	runRuleCases(t, Loop{}, []ruleCase{
		{name: "no header", hit: false},
		{name: "our header", raw: "From: a@b.c\nX-Loop: List@Example.org \nSubject: x\n\nb\n", hit: true, reason: "X-Loop"},
		{name: "second of several", raw: "From: a@b.c\nX-Loop: other@example.org\nX-Loop: list@example.org\n\nb\n", hit: true, reason: "X-Loop"},
		{name: "another list's", raw: "From: a@b.c\nX-Loop: other@example.org\n\nb\n", hit: false},
	})
}

func TestBannedAddress(t *testing.T) {
	runRuleCases(t, BannedAddress{}, []ruleCase{
		{name: "nothing banned", hit: false},
		{name: "exact address", settings: map[string]string{"banned_addresses": `bob@example\.net`}, hit: true, reason: "bob@example.net is banned"},
		{name: "domain regex", settings: map[string]string{"banned_addresses": `x@y\.z .*@example\.net`}, hit: true, reason: "banned"},
		{name: "whole address only", settings: map[string]string{"banned_addresses": `bob@example`}, hit: false},
		{name: "envelope sender", meta: queue.Meta{Sender: "Spam@Bulk.test"}, settings: map[string]string{"banned_addresses": `spam@bulk\.test`}, hit: true, reason: "spam@bulk.test"},
		{name: "site-wide", siteBan: []string{`.*@example\.net`}, hit: true, reason: "banned"},
		{name: "bad site pattern bans nobody", siteBan: []string{`(`}, hit: false},
	})
}

func TestAdministrivia(t *testing.T) {
	runRuleCases(t, Administrivia{}, []ruleCase{
		{name: "ordinary post", hit: false},
		{name: "subject unsubscribe", raw: "From: a@b.c\nSubject: Unsubscribe\n\nplease\n", hit: true, reason: `"unsubscribe"`},
		{name: "subject help with colon", raw: "From: a@b.c\nSubject: help:\n\n?\n", hit: true, reason: `"help"`},
		{name: "subject sentence", raw: "From: a@b.c\nSubject: help with the budget for next year\n\nx\n", hit: false},
		{name: "short body command", raw: "From: a@b.c\nSubject: hi\n\n\nsubscribe bob@example.net\n\n-- \nBob\n", hit: true, reason: `body`},
		{name: "long body", raw: "From: a@b.c\nSubject: hi\n\nsubscribe\n1\n2\n3\n4\n5\n", hit: false},
		{name: "body first word not a command", raw: "From: a@b.c\nSubject: hi\n\nplease subscribe me\n", hit: false},
		{name: "html body not read", raw: "From: a@b.c\nSubject: hi\nContent-Type: text/html\n\nhelp\n", hit: false},
		{name: "empty body", raw: "From: a@b.c\nSubject: hi\n\n", hit: false},
	})
}

func TestMaxSize(t *testing.T) {
	big := okPost + strings.Repeat("x", 2048)
	runRuleCases(t, MaxSize{}, []ruleCase{
		{name: "small", settings: map[string]string{"max_message_size_kb": "1"}, hit: false},
		{name: "over 1 KiB", raw: big, settings: map[string]string{"max_message_size_kb": "1"}, hit: true, reason: "limit of 1 KiB"},
		{name: "default limit", raw: big, hit: false},
	})
}

func TestMaxRecipients(t *testing.T) {
	many := "From: a@b.c\nTo: list@example.org, a@x.y, b@x.y\nCc: c@x.y\nSubject: s\n\nb\n"
	runRuleCases(t, MaxRecipients{}, []ruleCase{
		{name: "under", raw: many, hit: false},
		{name: "at the limit", raw: many, settings: map[string]string{"max_recipients": "4"}, hit: false},
		{name: "over", raw: many, settings: map[string]string{"max_recipients": "3"}, hit: true, reason: "4 recipients"},
		{name: "disabled", raw: many, settings: map[string]string{"max_recipients": "0"}, hit: false},
	})
}

func TestImplicitDestination(t *testing.T) {
	runRuleCases(t, ImplicitDestination{}, []ruleCase{
		{name: "in To", hit: false},
		{name: "in Cc with name", raw: "From: a@b.c\nTo: x@y.z\nCc: The List <LIST@example.org>\n\nb\n", hit: false},
		{name: "Bcc", raw: "From: a@b.c\nTo: x@y.z\nSubject: s\n\nb\n", hit: true, reason: "not in To or Cc"},
		{name: "no To", raw: "From: a@b.c\nSubject: s\n\nb\n", hit: true, reason: "not in To or Cc"},
		{name: "a look-alike", raw: "From: a@b.c\nTo: list@example.org.evil\n\nb\n", hit: true},
	})
}

func TestNoSubject(t *testing.T) {
	runRuleCases(t, NoSubject{}, []ruleCase{
		{name: "subject", hit: false},
		{name: "missing", raw: "From: a@b.c\n\nb\n", hit: true, reason: "no subject"},
		{name: "blank", raw: "From: a@b.c\nSubject:   \n\nb\n", hit: true, reason: "no subject"},
		{name: "(no subject)", raw: "From: a@b.c\nSubject: (No Subject)\n\nb\n", hit: true},
		{name: "encoded word", raw: "From: a@b.c\nSubject: =?utf-8?q?caf=C3=A9?=\n\nb\n", hit: false},
	})
}

func TestSuspiciousHeader(t *testing.T) {
	raw := "From: a@b.c\nSubject: s\nX-Mailer: MassMailer 3.1\nX-Spam-Flag: YES\n\nb\n"
	runRuleCases(t, SuspiciousHeader{}, []ruleCase{
		{name: "none configured", raw: raw, hit: false},
		{name: "matches", raw: raw, settings: map[string]string{"suspicious_headers": `X-Mailer:massmailer`}, hit: true, reason: "X-Mailer"},
		{name: "second pair", raw: raw, settings: map[string]string{"suspicious_headers": `X-Other:x X-Spam-Flag:^yes$`}, hit: true, reason: "X-Spam-Flag"},
		{name: "no match", raw: raw, settings: map[string]string{"suspicious_headers": `X-Mailer:^Thunderbird`}, hit: false},
		{name: "absent header", raw: raw, settings: map[string]string{"suspicious_headers": `X-Absent:.*`}, hit: false},
	})
}

func TestPostEncryptForce(t *testing.T) {
	force := map[string]string{"pgp_post_encrypt": "force"}
	runRuleCases(t, PostEncryptForce{}, []ruleCase{
		{name: "not asked", meta: queue.Meta{Encryption: "none"}, hit: false},
		{name: "yes is not force", meta: queue.Meta{Encryption: "none"}, settings: map[string]string{"pgp_post_encrypt": "yes"}, hit: false},
		{name: "clear post", meta: queue.Meta{Encryption: "none"}, settings: force, hit: true, reason: "only posts encrypted to its OpenPGP key"},
		{name: "pgp-mime", meta: queue.Meta{Encryption: "pgp-mime"}, settings: force, hit: false},
		{name: "pgp-inline", meta: queue.Meta{Encryption: "pgp-inline"}, settings: force, hit: false},
		{name: "smime when only pgp", meta: queue.Meta{Encryption: "smime"}, settings: force, hit: true, reason: "encrypted with S/MIME"},
		{name: "smime yes beside pgp force", meta: queue.Meta{Encryption: "smime"}, settings: map[string]string{"pgp_post_encrypt": "force", "smime_post_encrypt": "yes"}, hit: false},
		{name: "smime force", meta: queue.Meta{Encryption: ""}, settings: map[string]string{"smime_post_encrypt": "force"}, hit: true, reason: "S/MIME key"},
	})
}

func TestEncryptedForeignSignature(t *testing.T) {
	runRuleCases(t, EncryptedForeignSignature{}, []ruleCase{
		{name: "clear, signed by another", meta: queue.Meta{Encryption: "none", Verdict: "signer-mismatch"}, hit: false},
		{name: "encrypted, signed by another", meta: queue.Meta{Encryption: "pgp-mime", Verdict: "signer-mismatch"}, hit: true, reason: "someone other than its From"},
		{name: "S/MIME, signed by another", meta: queue.Meta{Encryption: "smime", Verdict: "signer-mismatch"}, hit: true, reason: "someone other than its From"},
		{name: "encrypted, signed by From", meta: queue.Meta{Encryption: "pgp-inline", Verdict: "good", Auth: "pgp"}, hit: false},
		{name: "encrypted, unsigned", meta: queue.Meta{Encryption: "pgp-mime", Verdict: "none"}, hit: false},
	})
}

func TestPostSign(t *testing.T) {
	good := queue.Meta{Verdict: "good", Auth: "pgp"}
	yes := map[string]string{"pgp_post_sign": "yes"}
	force := map[string]string{"pgp_post_sign": "force"}
	cases := []struct {
		name        string
		meta        queue.Meta
		settings    map[string]string
		hold, force bool
		reason      string
	}{
		{"not asked", queue.Meta{Verdict: "none", Auth: "smtp"}, nil, false, false, ""},
		{"good pgp, yes", good, yes, false, false, ""},
		{"unsigned, yes", queue.Meta{Verdict: "none", Auth: "smtp"}, yes, true, false, "not signed"},
		{"unsigned, force", queue.Meta{Verdict: "none", Auth: "smtp"}, force, false, true, "not signed"},
		{"bad, yes", queue.Meta{Verdict: "bad", Auth: "smtp"}, yes, true, false, "could not be verified (bad)"},
		{"unknown key, force", queue.Meta{Verdict: "unknown-key", Auth: "smtp"}, force, false, true, "unknown-key"},
		{"mismatch, yes", queue.Meta{Verdict: "signer-mismatch", Auth: "smtp"}, yes, true, false, "not from its From"},
		{"smime when pgp wanted", queue.Meta{Verdict: "good", Auth: "smime"}, yes, true, false, "signed with S/MIME"},
		{"smime yes, pgp force, smime good", queue.Meta{Verdict: "good", Auth: "smime"}, map[string]string{"smime_post_sign": "yes", "pgp_post_sign": "force"}, false, false, ""},
		{"smime yes, pgp force, unsigned", queue.Meta{Verdict: "none"}, map[string]string{"smime_post_sign": "yes", "pgp_post_sign": "force"}, false, true, "OpenPGP or S/MIME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testPost(t, okPost, tc.meta, tc.settings)
			h, f := PostSign{}.Check(p), PostSignForce{}.Check(p)
			if h.Hit != tc.hold || f.Hit != tc.force {
				t.Fatalf("post-sign %v (%q), post-sign-force %v (%q); want %v, %v", h.Hit, h.Reason.String(), f.Hit, f.Reason.String(), tc.hold, tc.force)
			}
			if r := h.Reason.String() + f.Reason.String(); !strings.Contains(r, tc.reason) {
				t.Fatalf("reason %q lacks %q", r, tc.reason)
			}
		})
	}
}

// TestRunChain: the strongest action wins, every hit and miss is recorded in
// chain order, and holds collect every reason.
func TestRunChain(t *testing.T) {
	names := func(chain []Link) []string {
		var out []string
		for _, l := range chain {
			out = append(out, l.Rule.Name())
		}
		return out
	}
	all := names(PostingChain)
	for _, tc := range []struct {
		name     string
		raw      string
		settings map[string]string
		hits     []string
		check    func(t *testing.T, err error)
	}{
		{"clean", okPost, nil, nil, func(t *testing.T, err error) {
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"holds add up", "From: bob@example.net\nTo: x@y.z\n\nhello there, a long enough body\n", nil,
			[]string{"implicit-destination", "no-subject"}, func(t *testing.T, err error) {
				var h *HoldError
				if !errors.As(err, &h) || h.Owner || !slices.Equal(h.Rules, []string{"implicit-destination", "no-subject"}) ||
					h.Reason() != "the list's address is not in To or Cc; the post has no subject" {
					t.Fatalf("%#v", err)
				}
			}},
		{"owner hold", "From: bob@example.net\nTo: list@example.org\nSubject: help\n\nhelp\n", nil,
			[]string{"administrivia"}, func(t *testing.T, err error) {
				var h *HoldError
				if !errors.As(err, &h) || !h.Owner {
					t.Fatalf("%#v", err)
				}
			}},
		{"reject beats hold", "From: bob@example.net\nTo: x@y.z\n\nhi there you all\n", map[string]string{"banned_addresses": `bob@.*`},
			[]string{"banned-address", "implicit-destination", "no-subject"}, func(t *testing.T, err error) {
				var r *refusal.RejectError
				if !errors.As(err, &r) || r.Step != "banned-address" {
					t.Fatalf("%#v", err)
				}
			}},
		{"discard beats reject", "From: bob@example.net\nTo: list@example.org\nSubject: s\nX-Loop: list@example.org\n\nb\n", map[string]string{"banned_addresses": `bob@.*`},
			[]string{"loop", "banned-address"}, func(t *testing.T, err error) {
				var d *DiscardError
				if !errors.Is(err, refusal.ErrDiscard) || !errors.As(err, &d) || d.Rule != "loop" {
					t.Fatalf("%#v", err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPost(t, tc.raw, queue.Meta{Verdict: "none", Encryption: "none", Auth: "smtp"}, tc.settings)
			hits, misses, err := RunChain(PostingChain, p)
			if !slices.Equal(hits, tc.hits) {
				t.Fatalf("hits = %v, want %v", hits, tc.hits)
			}
			if len(hits)+len(misses) != len(all) {
				t.Fatalf("hits %v + misses %v do not cover the chain %v", hits, misses, all)
			}
			for _, m := range misses {
				if slices.Contains(hits, m) {
					t.Fatalf("%s both hit and missed", m)
				}
			}
			tc.check(t, err)
		})
	}
}

// TestPostingChainTable: every rule appears once, with a known action, and
// has a name and a description.
func TestPostingChainTable(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range PostingChain {
		n := l.Rule.Name()
		if seen[n] {
			t.Errorf("rule %s twice", n)
		}
		seen[n] = true
		if l.Action.rank() == 0 {
			t.Errorf("rule %s: unknown action %q", n, l.Action)
		}
		if l.Rule.Description() == "" {
			t.Errorf("rule %s: no description", n)
		}
	}
	for _, want := range []string{"loop", "administrivia", "max-size", "max-recipients", "implicit-destination",
		"no-subject", "suspicious-header", "banned-address", "post-encrypt-force", "post-sign-force", "post-sign",
		"duplicate-signature"} {
		if !seen[want] {
			t.Errorf("the chain lacks %s", want)
		}
	}
}
