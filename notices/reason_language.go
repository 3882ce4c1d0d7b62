package notices

import (
	"strings"

	"cloister/mailtext"
)

// reasonInLanguage returns a notice's reason in the catalogue's language.
// A held post's reason joins the reasons of several rules with "; ", and a
// rule's own reason may hold "; " too: each longest run of parts that the
// catalogue knows is translated (a reason naming a count or an address
// through its format, see translateRuleReason), and a part it does not
// know stays as written.
func reasonInLanguage(cat *mailtext.Catalog, reason string) string {
	if t := translateRuleReason(cat, reason); t != reason {
		return t
	}
	parts := strings.Split(reason, "; ")
	if len(parts) == 1 {
		return reason
	}
	var out []string
	for i := 0; i < len(parts); {
		n := 1
		text := parts[i]
		for j := len(parts); j > i+1; j-- {
			run := strings.Join(parts[i:j], "; ")
			if t := translateRuleReason(cat, run); t != run {
				n, text = j-i, t
				break
			}
		}
		if n == 1 {
			text = translateRuleReason(cat, parts[i])
		}
		out = append(out, text)
		i += n
	}
	return strings.Join(out, "; ")
}
