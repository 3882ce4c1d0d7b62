package rules

import (
	"errors"
	"strings"
	"testing"

	"cloister/internal/refusal"
	"cloister/queue"
)

// TestVirusRules: virus-scan fires on an infected verdict and names the
// signature, virus-unscanned on a post too large to scan; neither fires on
// a clean or unscanned post; virus_action chooses what the chain does.
func TestVirusRules(t *testing.T) {
	infected := &Scan{Infected: true, Signature: "Eicar-Test"}
	big := &Scan{TooLarge: true, Limit: 1024}
	for _, tc := range []struct {
		name          string
		scan          *Scan
		action        string
		hit, unscan   bool
		reason        string
		outcomeReject bool
		outcomeHold   bool
		outcomeDisc   bool
	}{
		{name: "not scanned", scan: nil},
		{name: "clean", scan: &Scan{}},
		{name: "infected default", scan: infected, hit: true, reason: "found Eicar-Test", outcomeReject: true},
		{name: "infected hold", scan: infected, action: "hold", hit: true, reason: "Eicar-Test", outcomeHold: true},
		{name: "infected discard", scan: infected, action: "discard", hit: true, reason: "Eicar-Test", outcomeDisc: true},
		{name: "too large", scan: big, unscan: true, reason: "limit of 1 KiB", outcomeHold: true},
		{name: "too large for clamd", scan: &Scan{TooLarge: true}, unscan: true, reason: "more than the virus scanner takes", outcomeHold: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]string{"max_message_size_kb": "10240"}
			if tc.action != "" {
				settings["virus_action"] = tc.action
			}
			p := testPost(t, okPost, queue.Meta{}, settings)
			p.Scan = tc.scan
			v, u := VirusScan{}.Check(p), VirusUnscanned{}.Check(p)
			if v.Hit != tc.hit || u.Hit != tc.unscan {
				t.Fatalf("virus-scan %+v, virus-unscanned %+v", v, u)
			}
			if r := v.Reason.String() + u.Reason.String(); !strings.Contains(r, tc.reason) {
				t.Fatalf("reason %q lacks %q", r, tc.reason)
			}
			chain := []Link{{VirusScan{}, ActionReject}, {VirusUnscanned{}, ActionHold}}
			_, _, out := RunChain(chain, p)
			var rej *refusal.RejectError
			var hold *HoldError
			if errors.As(out, &rej) != tc.outcomeReject || errors.As(out, &hold) != tc.outcomeHold || errors.Is(out, refusal.ErrDiscard) != tc.outcomeDisc {
				t.Fatalf("outcome %v", out)
			}
		})
	}
}
