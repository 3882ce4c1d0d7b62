package web

import "net/http"

// home is the front page: the list directory.
func (srv *Server) home(w http.ResponseWriter, r *http.Request, s *session) {
	srv.render(w, r, s, http.StatusOK, "home", "Mailing lists", nil)
}

// me is the logged-in subscriber's page.
func (srv *Server) me(w http.ResponseWriter, r *http.Request, s *session) {
	srv.render(w, r, s, http.StatusOK, "me", "My subscriptions", nil)
}
