package rules

import "strings"

// ImplicitDestination fires on a post whose To and Cc do not name the list
// (it reached the list as a Bcc or through a forward).
type ImplicitDestination struct{}

// Name implements Rule.
func (ImplicitDestination) Name() string { return "implicit-destination" }

// Description implements Rule.
func (ImplicitDestination) Description() string {
	return "the list's address is not in the post's To or Cc"
}

// Check implements Rule.
func (ImplicitDestination) Check(p *Post) Result {
	for _, a := range p.Msg.Addresses("To", "Cc", "Resent-To", "Resent-Cc") {
		if strings.EqualFold(a, p.List.Address) {
			return miss
		}
	}
	return hit("the list's address is not in To or Cc")
}
