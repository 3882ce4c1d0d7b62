package rules

import (
	"regexp"
	"strings"
)

// BannedAddress fires when the From address or the envelope sender matches
// one of the list's banned_addresses or the site's banned patterns. A pattern
// is a regular expression matched against the whole lower-cased address, so
// `.*@spam\.example` bans a domain and `bob@example\.org` one address.
type BannedAddress struct{}

// Name implements Rule.
func (BannedAddress) Name() string { return "banned-address" }

// Description implements Rule.
func (BannedAddress) Description() string {
	return "the sender matches a banned address of the list or the site"
}

// Check implements Rule.
func (BannedAddress) Check(p *Post) Result {
	pats := append(strings.Fields(p.List.Settings.BannedAddresses), p.SiteBanned...)
	if len(pats) == 0 {
		return miss
	}
	var addrs []string
	for _, a := range []string{p.Meta.From, p.Meta.Sender} {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			addrs = append(addrs, a)
		}
	}
	for _, pat := range pats {
		re, err := regexp.Compile(`^(?:` + pat + `)$`)
		if err != nil {
			continue // settings are checked when set; a bad site pattern bans nobody
		}
		for _, a := range addrs {
			if re.MatchString(a) {
				return hit("the address %s is banned from the list", a)
			}
		}
	}
	return miss
}
