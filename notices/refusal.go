package notices

import (
	"cloister/internal/listaddr"
	"cloister/internal/refusal"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/queue"
)

// Refusal returns the list's one answer to every mail it cannot decrypt
// or verify, or must not act on (S/MIME CBC without a good inner
// signature), to to: the template refusal in the list's language, the
// same subject and text whatever the cause, so that the answer says
// nothing about the plaintext (padding and format oracles); the cause is
// in the operator's log. The template is given only the list's address,
// its sendkey address and hint (a fixed sentence of the refusal's kind, or
// ""). Send it only when AllowRefusal allows, and never to automatic mail.
func Refusal(s *site.Site, list *lists.List, to string, hint refusal.Reason) (*Notice, error) {
	data := map[string]any{
		"List":           list.Address,
		"SendkeyAddress": listaddr.Address(list.Address, queue.SubSendkey),
		"Hint":           "",
	}
	if !hint.IsZero() {
		data["Hint"] = hint
	}
	return ForList(s, list, "refusal", to, data)
}
