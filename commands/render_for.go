package commands

import (
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailtext"
)

// renderFor renders the template name in the language of list l. A broken
// override is logged and the built-in English text is used, so that a
// notice is never lost.
func renderFor(s *site.Site, l *lists.List, name string, data map[string]any) (subject, body string) {
	subject, body, err := mailtext.Render(mailtext.Dirs(s.Config.StateDir, l.Address), l.Settings.Language, name, data)
	if err == nil {
		return subject, body
	}
	s.Log.Error("template", "list", l.Address, "template", name, "err", err)
	subject, body, err = mailtext.Render(nil, "en", name, data)
	if err != nil {
		// The built-in templates are checked by TestBuiltinTemplatesRender.
		s.Log.Error("built-in template", "template", name, "err", err)
		return "Message from " + l.Address, ""
	}
	return subject, body
}
