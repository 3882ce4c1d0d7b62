package web

import (
	"net/http"
	"strings"

	"cloister/service"
)

// hidden answers a request under /lists/NAME/ for a list the session may
// not know of (a confidential list, advertised = false, that it has no role
// on) exactly as for a list that does not exist, and reports whether it
// did. Every page and form of a list passes here before its handler, so
// that no status, redirect or refusal text (the archive's "log in", the
// owner pages' "only owners") tells a visitor or a non-member that the
// list exists. The site's listmasters see every list.
func (srv *Server) hidden(w http.ResponseWriter, r *http.Request, s *session) bool {
	return srv.hiddenList(w, r, s, r.PathValue("list"))
}

// hiddenList is hidden for a list named elsewhere than in the path (the
// list field of the key forms).
func (srv *Server) hiddenList(w http.ResponseWriter, r *http.Request, s *session, name string) bool {
	if strings.TrimSpace(name) == "" {
		return false
	}
	if s != nil && s.loggedIn() {
		for _, lm := range srv.site.Config.Listmasters {
			if strings.EqualFold(strings.TrimSpace(lm), s.Address) {
				return false
			}
		}
	}
	_, err := srv.svc.About(r.Context(), s.actor(), service.ListRef{List: name})
	if service.Code(err) != service.CodeNotFound {
		return false
	}
	srv.serviceFail(w, r, s, err)
	return true
}
