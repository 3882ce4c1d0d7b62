package rules

// DuplicateSignature fires on a post whose good signature the site's replay
// store saw before in another entry: a post or a command mail, to this list
// or another one (security invariant 4). A member's signed post resent with
// a new Subject and Message-ID is a replay: its signature still verifies,
// but it was counted once already. The rules runner looks the signature up
// and fills Post.SignatureSeen (also for a signature dated before what the
// store still remembers, which may have been seen); a retry of the same
// entry after a crash is not a replay. The list's duplicate_signature_action
// chooses the action.
type DuplicateSignature struct{}

// Name implements Rule.
func (DuplicateSignature) Name() string { return "duplicate-signature" }

// Description implements Rule.
func (DuplicateSignature) Description() string {
	return "the post's signature was received before (a replay); duplicate_signature_action chooses the action"
}

// Check implements Rule.
func (DuplicateSignature) Check(p *Post) Result {
	if p.SignatureSeen == "" {
		return miss
	}
	// The reason goes to the sender: it does not say where the signature
	// was seen (that may be another list).
	return hit("this signed message was received before, or was signed too long ago to tell; a signature is counted once (sign the post again to send it again)")
}
