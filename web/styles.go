package web

import (
	"net/http"
	"slices"
	"strings"

	"cloister/service"
)

// stylesPath is a list's styles page.
func stylesPath(list string) string { return adminPath(list) + "/styles" }

// styleChange is one setting a style sets, as it would change the list.
type styleChange struct {
	Setting, Current, New string
	// Changes is false when the list already has the value.
	Changes bool
	// OwnerSettable is false for a setting only the site's operator changes.
	OwnerSettable bool
}

// stylePreview is one style with what applying it would do to the list.
type stylePreview struct {
	service.StyleInfo
	Changes []styleChange
	// Applicable tells whether a list owner may apply it: every setting is
	// owner-settable and it makes no list key (the service decides again).
	Applicable bool
	// Refused names the settings that keep an owner from applying it.
	Refused []string
}

// styles lists the styles with their descriptions and a preview of what
// each would change on the list (owners whose login the list's admin
// scenario accepts).
func (srv *Server) styles(w http.ResponseWriter, r *http.Request, s *session) {
	info, err := srv.svc.ListShow(r.Context(), s.actor(), service.ListRef{List: r.PathValue("list")})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	all, err := srv.svc.StyleList(r.Context(), s.actor())
	if err != nil && len(all) == 0 {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "styles", "Styles for "+info.Address, map[string]any{
		"List": info.Address, "Styles": previewStyles(info, all)})
}

// RefusedList is Refused as one phrase.
func (p stylePreview) RefusedList() string { return strings.Join(p.Refused, ", ") }

// previewStyles compares each style's settings with the list's.
func previewStyles(info service.ListInfo, all []service.StyleInfo) []stylePreview {
	current := map[string]string{}
	for _, st := range info.Settings {
		current[st.Name] = st.Value
	}
	out := make([]stylePreview, 0, len(all))
	for _, st := range all {
		p := stylePreview{StyleInfo: st, Applicable: len(st.Keys) == 0}
		for _, kv := range st.Settings {
			name := strings.ToLower(kv[0])
			c := styleChange{Setting: name, Current: current[name], New: kv[1],
				Changes: !strings.EqualFold(current[name], kv[1]), OwnerSettable: slices.Contains(service.OwnerSettings, name)}
			if !c.OwnerSettable {
				p.Applicable = false
				p.Refused = append(p.Refused, name)
			}
			p.Changes = append(p.Changes, c)
		}
		if len(st.Keys) > 0 {
			p.Refused = append(p.Refused, "list keys ("+strings.Join(st.Keys, ", ")+")")
		}
		out = append(out, p)
	}
	return out
}

// styleApply applies the style the form names; the service refuses a
// style that sets what owners may not change, and records it in the audit
// log.
func (srv *Server) styleApply(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	name := strings.TrimSpace(r.PostFormValue("style"))
	_, err := srv.svc.ListApplyStyle(r.Context(), s.actor(), service.ListStyleRequest{List: list, Style: name})
	srv.done(w, r, s, stylesPath(list), "Style "+name+" applied.", err)
}
