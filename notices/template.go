package notices

import (
	"log/slog"

	"cloister/internal/listaddr"
	"cloister/internal/refusal"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailtext"
	"cloister/queue"
)

// TemplateDirs returns the override directories of a list's notices, most
// specific first: the list's, then the site's (see package mailtext).
func TemplateDirs(s *site.Site, list string) []string {
	return mailtext.Dirs(s.Config.StateDir, list)
}

// RenderTemplate renders the notice template name for a list (its override
// directories and language) and returns the subject and the body (see
// package mailtext).
func RenderTemplate(dirs []string, lang, name string, data any) (subject, body string, err error) {
	return mailtext.Render(dirs, lang, name, data)
}

// ForList renders the template name for list, in the list's language (a
// Reason in data too, see translateReason), and returns a notice from the
// list's owner address to to.
func ForList(s *site.Site, list *lists.List, name, to string, data any) (*Notice, error) {
	data = translateReason(s, list, data)
	subject, body, err := RenderTemplate(TemplateDirs(s, list.Address), list.Settings.Language, name, data)
	if err != nil {
		return nil, err
	}
	return &Notice{
		List:    list.Address,
		From:    listaddr.Address(list.Address, queue.SubOwner),
		To:      to,
		Subject: subject,
		Body:    body,
	}, nil
}

// reasonTexts are the words a rejection notice uses for the reason keys of
// the built-in scenarios (docs/scenarios.md); other keys are shown as written.
var reasonTexts = map[string]refusal.Reason{
	"send_subscriber":   refusal.Reasonf("only members of the list may post to it"),
	"send_editor":       refusal.Reasonf("only the list's moderators may post to it"),
	"send_closed":       refusal.Reasonf("nobody may post to this list"),
	"send_pgp_signed":   refusal.Reasonf("members must sign their posts with OpenPGP"),
	"send_smime_signed": refusal.Reasonf("members must sign their posts with S/MIME"),
	"no rule matched":   refusal.Reasonf("the list's rules do not allow this post"),
}

// translateReason returns the notice data with its reasons rendered in
// the list's language from the message catalogue (package mailtext): a
// refusal.Reason or refusal.Reasons (a catalogue format and its arguments)
// under any key becomes its text, a []refusal.Reason (the lines of a
// report) a []string. A Reason that is a string is words someone wrote (a
// moderator's) and is shown as written; a broken override catalogue
// (logged) leaves the reasons in English.
func translateReason(s *site.Site, list *lists.List, data any) any {
	m, ok := data.(map[string]any)
	if !ok {
		return data
	}
	has := false
	for _, v := range m {
		switch v.(type) {
		case refusal.Reason, refusal.Reasons, []refusal.Reason:
			has = true
		}
	}
	if !has {
		return data
	}
	var tr refusal.Translator
	cat, err := mailtext.LoadCatalog(TemplateDirs(s, list.Address), list.Settings.Language)
	if err != nil {
		slog.Warn("message catalogue broken; notice reason in English", "list", list.Address, "err", err)
	} else {
		tr = cat
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch r := v.(type) {
		case refusal.Reason:
			v = r.Render(tr)
		case refusal.Reasons:
			v = r.Render(tr)
		case []refusal.Reason:
			lines := make([]string, len(r))
			for i, x := range r {
				lines[i] = x.Render(tr)
			}
			v = lines
		}
		out[k] = v
	}
	return out
}

// ReasonText returns the words for a scenario reason key of the send
// scenario.
func ReasonText(key string) refusal.Reason {
	if t, ok := reasonTexts[key]; ok {
		return t
	}
	if key == "" {
		return reasonTexts["no rule matched"]
	}
	return refusal.Verbatim(key)
}
