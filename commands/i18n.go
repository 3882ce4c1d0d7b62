package commands

import (
	"log/slog"
	"regexp"
	"strings"

	"cloister/mailtext"
)

// phrase is a string argument of a result that is itself a message of the
// catalogue (a refusal reason), shown translated.
type phrase string

// catalog returns the message catalogue of the context's list, loaded once
// per command mail. A broken override catalogue is logged and English is
// used, so that it never loses a reply.
func (c *Context) catalog() *mailtext.Catalog {
	if c.cat != nil {
		return c.cat.cat
	}
	c.cat = &loadedCatalog{}
	if c.Site == nil || c.List == nil {
		return nil
	}
	cat, err := mailtext.LoadCatalog(mailtext.Dirs(c.Site.Config.StateDir, c.List.Address), c.List.Settings.Language)
	if err != nil {
		slog.Warn("message catalogue broken; replying in English", "list", c.List.Address, "err", err)
		return nil
	}
	c.cat.cat = cat
	return cat
}

// loadedCatalog is a catalogue once loaded (nil: English).
type loadedCatalog struct{ cat *mailtext.Catalog }

// tr returns the translation of an English format, formatted with a.
func (c *Context) tr(format string, a ...any) string {
	cat := c.catalog()
	return sprintf(cat.T(format), translateArgs(cat, a)...)
}

// translate returns the result with its text in the list's language.
func (c *Context) translate(r Result) Result {
	if r.format == "" {
		return r
	}
	cat := c.catalog()
	if cat == nil {
		return r
	}
	if r.Text != sprintf(r.format, r.args...) { // changed after it was made: left as it is
		return r
	}
	args := translateArgs(cat, r.args)
	if r.format == "%s" && len(args) == 1 { // a text made elsewhere: a reason, a service message
		if s, ok := args[0].(string); ok {
			args = []any{cat.T(s)}
		}
	}
	r.Text = sprintf(cat.T(r.format), args...)
	return r
}

// translateArgs translates the phrase arguments.
func translateArgs(cat *mailtext.Catalog, a []any) []any {
	var out []any
	for i, v := range a {
		if p, ok := v.(phrase); ok {
			if out == nil {
				out = append([]any(nil), a...)
			}
			out[i] = cat.T(string(p))
		}
	}
	if out == nil {
		return a
	}
	return out
}

// whatFormats are the English forms of the phrase saying what a
// confirmation or an approval is for (askConfirm's what), each with
// space-free arguments (addresses, a delivery mode).
var whatFormats = []string{
	"subscribe %s to %s",
	"unsubscribe %s from %s",
	"turn delivery of %s %s for %s",
}

// viaFormats are the English forms of how a key was offered (enrol's
// via, a key request's Via), each with space-free arguments (addresses,
// a request ID).
var viaFormats = []string{
	"key set",
	"subscribe",
	"vouched by %s with the key attached",
	"vouched by %s for key request %s, whose holder answered the challenge",
}

// translateWhat returns what in the list's language.
func (c *Context) translateWhat(what string) string {
	return c.translateForms(whatFormats, what)
}

// translateVia returns how a key was offered in the list's language.
func (c *Context) translateVia(via string) string {
	return c.translateForms(viaFormats, via)
}

// translateForms returns text, rendered from one of formats (verbs %s
// with space-free arguments), in the list's language; a text that is no
// such form is looked up as it is.
func (c *Context) translateForms(formats []string, text string) string {
	for _, f := range formats {
		parts := strings.Split(f, "%s")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		m := regexp.MustCompile("^" + strings.Join(parts, `(\S+?)`) + "$").FindStringSubmatch(text)
		if m == nil {
			continue
		}
		vals := make([]any, len(m)-1)
		for i := range vals {
			vals[i] = m[i+1]
		}
		return c.tr(f, vals...)
	}
	return c.tr(text)
}
