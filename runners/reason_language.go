package runners

import (
	"strings"

	"cloister/mailtext"
)

// reasonInLanguage returns a notice's reason in the catalogue's language.
// A held post's reason joins the reasons of several rules with "; ", and a
// rule's own reason may hold "; " too: each longest run of parts that the
// catalogue knows is translated, and a part it does not know (a reason
// naming a count or an address) stays as written.
func reasonInLanguage(cat *mailtext.Catalog, reason string) string {
	if t := cat.T(reason); t != reason {
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
			if t := cat.T(run); t != run {
				n, text = j-i, t
				break
			}
		}
		if n == 1 {
			text = cat.T(parts[i])
		}
		out = append(out, text)
		i += n
	}
	return strings.Join(out, "; ")
}
