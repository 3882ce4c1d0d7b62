// Package refusal holds the two ways a step of the post pipeline (a rule
// of the posting chain or a handler) refuses a post: a *RejectError (the
// post is refused, and the sender told why) and ErrDiscard (the post is
// dropped without a word). Rules and handlers return them; the runners
// act on them.
package refusal

import (
	"errors"
	"fmt"
)

// RejectError means a step refuses the post. Reason may be shown to the
// sender and never names configuration or key material.
type RejectError struct {
	Step   string // the rule or handler that refused the post
	Reason Reason // a catalogue format and its arguments
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("rejected by %s: %s", e.Step, e.Reason.String())
}

// Reject returns a *RejectError of step with a formatted reason.
func Reject(step, format string, a ...any) error {
	return &RejectError{Step: step, Reason: Reasonf(format, a...)}
}

// ErrDiscard means the post is dropped without a notice (a mail loop, a
// rule whose action is discard). Errors that carry it wrap it, or match it
// (errors.Is); test it with errors.Is.
var ErrDiscard = errors.New("discard")
