package listaddr

import "strings"

// The subaddresses of a list: what deliver records as an entry's
// subaddress. This is the one place they are written out; lists (the names
// a list may not take), deliver (routing), queue (Sub* names), the runners
// and mta (alias and router snippets) all read them from here.
const (
	SubPost    = "post"
	SubRequest = "request"
	SubOwner   = "owner"
	SubBounces = "bounces"
	SubConfirm = "confirm"
	SubJoin    = "join"
	SubLeave   = "leave"
	SubSendkey = "sendkey"
)

// Subaddress is one subaddress of a list other than its posting address.
type Subaddress struct {
	// Suffix follows the list's local part: team-request@example.org.
	Suffix string
	// Sub is the subaddress deliver records (SubRequest, ...).
	Sub string
	// Extension tells that mail to it carries a '+' extension (a
	// confirmation token, a signed VERP tag).
	Extension bool
}

// Suffixes is every subaddress of a list and the suffix that names it. A
// post to the list itself has subaddress SubPost and no suffix.
var Suffixes = []Subaddress{
	{Suffix: "-request", Sub: SubRequest},
	{Suffix: "-owner", Sub: SubOwner},
	{Suffix: "-bounces", Sub: SubBounces, Extension: true},
	{Suffix: "-confirm", Sub: SubConfirm, Extension: true},
	{Suffix: "-join", Sub: SubJoin},
	{Suffix: "-leave", Sub: SubLeave},
	{Suffix: "-sendkey", Sub: SubSendkey},
}

// Subaddresses returns every subaddress deliver records, SubPost first.
func Subaddresses() []string {
	out := []string{SubPost}
	for _, s := range Suffixes {
		out = append(out, s.Sub)
	}
	return out
}

// ReservedSuffix returns the subaddress suffix a local part ends in, if
// any: a list may not be named so, or its address would be taken for
// another list's subaddress.
func ReservedSuffix(local string) (string, bool) {
	local = strings.ToLower(local)
	for _, s := range Suffixes {
		if strings.HasSuffix(local, s.Suffix) {
			return s.Suffix, true
		}
	}
	return "", false
}
