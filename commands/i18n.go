package commands

import (
	"encoding/json"
	"log/slog"
	"strings"

	"cloister/lists"
	"cloister/mailtext"
	"cloister/rules"
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

// translateArgs translates the phrase and rules.Reason arguments.
func translateArgs(cat *mailtext.Catalog, a []any) []any {
	var out []any
	for i, v := range a {
		var t string
		switch p := v.(type) {
		case phrase:
			t = cat.T(string(p))
		case rules.Reason:
			t = p.Render(cat)
		default:
			continue
		}
		if out == nil {
			out = append([]any(nil), a...)
		}
		out[i] = t
	}
	if out == nil {
		return a
	}
	return out
}

// says renders a Reason (a catalogue format and its arguments, say what a
// confirmation is for or how a key was offered) in the list's language.
func (c *Context) says(r rules.Reason) string {
	return r.Render(c.catalog())
}

// viaFormat is how a key was offered as stored with a key request
// (lists.KeyRequest.ViaFormat), or nil when it cannot be.
func viaFormat(via rules.Reason) json.RawMessage {
	b, err := json.Marshal(via)
	if err != nil {
		return nil
	}
	return b
}

// storedVia is how a key request says its key was offered, as a Reason: its
// ViaFormat, or for a request stored before it (or unreadable) its English
// Via, which the catalogue translates as a whole when it is a fixed text
// ("key set", "subscribe") and which is shown as written otherwise.
func storedVia(r *lists.KeyRequest) rules.Reason {
	if len(r.ViaFormat) > 0 {
		var via rules.Reason
		if err := json.Unmarshal(r.ViaFormat, &via); err == nil {
			return via
		}
	}
	if strings.Contains(r.Via, "%") {
		return rules.Verbatim(r.Via)
	}
	return rules.Reason{Format: r.Via}
}
