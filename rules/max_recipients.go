package rules

// MaxRecipients fires on a post whose To and Cc fields name more addresses
// than the list's max_recipients (0 disables the rule).
type MaxRecipients struct{}

// Name implements Rule.
func (MaxRecipients) Name() string { return "max-recipients" }

// Description implements Rule.
func (MaxRecipients) Description() string {
	return "the post's To and Cc name more addresses than the list's max_recipients"
}

// Check implements Rule.
func (MaxRecipients) Check(p *Post) Result {
	max := p.List.Settings.MaxRecipients
	if max <= 0 {
		return miss
	}
	if n := len(p.Msg.Addresses("To", "Cc")); n > max {
		return hit("the post has %d recipients in To and Cc, more than %d", n, max)
	}
	return miss
}
