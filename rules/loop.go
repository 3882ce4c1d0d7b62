package rules

import "strings"

// Loop fires on a post that carries the list's own X-Loop header: the list
// sent it before, and it came back.
type Loop struct{}

// Name implements Rule.
func (Loop) Name() string { return "loop" }

// Description implements Rule.
func (Loop) Description() string { return "the post carries this list's own X-Loop header" }

// Check implements Rule.
func (Loop) Check(p *Post) Result {
	for _, v := range p.Msg.Values("X-Loop") {
		if strings.EqualFold(strings.TrimSpace(v), p.List.Address) {
			return hit("the post carries the list's own X-Loop header")
		}
	}
	return miss
}
