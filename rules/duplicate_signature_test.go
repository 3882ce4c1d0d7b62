package rules

import (
	"errors"
	"strings"
	"testing"

	"cloister/internal/refusal"
	"cloister/queue"
)

// TestDuplicateSignature: the rule fires only when the replay store saw the
// signature before, and duplicate_signature_action chooses what the chain
// does (reject by default).
func TestDuplicateSignature(t *testing.T) {
	good := queue.Meta{Verdict: "good", Auth: "pgp", SignatureID: "pgp:aa"}
	for _, tc := range []struct {
		name    string
		seen    string
		setting string
		want    error // the chain's outcome type, nil for none
	}{
		{"new signature", "", "", nil},
		{"seen, default", "post to list@example.org", "", &refusal.RejectError{}},
		{"seen, reject", "command to other-request@example.org", "reject", &refusal.RejectError{}},
		{"seen, hold", "post to list@example.org", "hold", &HoldError{}},
		{"seen, discard", "post to list@example.org", "discard", &DiscardError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]string{}
			if tc.setting != "" {
				settings["duplicate_signature_action"] = tc.setting
			}
			p := testPost(t, okPost, good, settings)
			p.SignatureSeen = tc.seen
			r := DuplicateSignature{}.Check(p)
			if r.Hit != (tc.seen != "") {
				t.Fatalf("hit = %v", r.Hit)
			}
			if r.Hit && (!strings.Contains(r.Reason.String(), "received before") || strings.Contains(r.Reason.String(), "example.org")) {
				t.Fatalf("reason %q (must say it is a replay, and not where it was seen)", r.Reason.String())
			}
			hits, _, out := RunChain([]Link{{DuplicateSignature{}, ActionReject}}, p)
			switch want := tc.want.(type) {
			case nil:
				if out != nil || len(hits) != 0 {
					t.Fatalf("outcome %v, hits %v", out, hits)
				}
			case *refusal.RejectError:
				if !errors.As(out, &want) || want.Step != "duplicate-signature" {
					t.Fatalf("outcome %v, want reject", out)
				}
			case *HoldError:
				if !errors.As(out, &want) {
					t.Fatalf("outcome %v, want hold", out)
				}
			case *DiscardError:
				if !errors.As(out, &want) {
					t.Fatalf("outcome %v, want discard", out)
				}
			}
		})
	}
}

// TestListActions: every rule whose action a setting chooses is in the chain.
func TestListActions(t *testing.T) {
	for name := range ListActions {
		found := false
		for _, l := range PostingChain {
			found = found || l.Rule.Name() == name
		}
		if !found {
			t.Errorf("ListActions names %s, which is not in PostingChain", name)
		}
	}
}
