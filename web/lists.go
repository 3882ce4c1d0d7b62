package web

import (
	"net/http"
	"net/url"

	"cloister/service"
)

// listPath is the page of a list.
func listPath(list string) string { return "/lists/" + url.PathEscape(list) }

// home is the list directory: advertised lists, and the visitor's own.
func (srv *Server) home(w http.ResponseWriter, r *http.Request, s *session) {
	ls, err := srv.svc.Directory(r.Context(), s.actor())
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "home", "Mailing lists", ls)
}

// about is a list's page: what it is, how to join, the visitor's role.
func (srv *Server) about(w http.ResponseWriter, r *http.Request, s *session) {
	ab, err := srv.svc.About(r.Context(), s.actor(), service.ListRef{List: r.PathValue("list")})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	keys, err := srv.svc.ListPublicKeys(r.Context(), s.actor(), service.ListRef{List: ab.Address})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "list", ab.Address, map[string]any{"About": ab, "Keys": keys})
}

// subscribe asks to join the list through its workflow.
func (srv *Server) subscribe(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	if !srv.mailAllowed(w, r, s, srv.mails) { // the workflow mails a confirmation
		return
	}
	_, err := srv.svc.Subscribe(r.Context(), s.actor(), service.SubscribeRequest{List: list, Name: r.PostFormValue("name")})
	srv.done(w, r, s, listPath(list), "You are subscribed.", err)
}

// unsubscribe asks to leave the list through its workflow.
func (srv *Server) unsubscribe(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	if !srv.mailAllowed(w, r, s, srv.mails) { // the workflow may mail a confirmation, and a goodbye
		return
	}
	err := srv.svc.Unsubscribe(r.Context(), s.actor(), service.MemberRef{List: list, Address: s.Address})
	srv.done(w, r, s, listPath(list), "You are unsubscribed.", err)
}

// delivery sets the session's own delivery mode on the list.
func (srv *Server) delivery(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	_, err := srv.svc.MemberSetDelivery(r.Context(), s.actor(), service.MemberDeliveryRequest{List: list, Address: s.Address, Delivery: r.PostFormValue("delivery")})
	srv.done(w, r, s, "/me", "Delivery changed.", err)
}

// me lists the session's subscriptions with their delivery modes.
func (srv *Server) me(w http.ResponseWriter, r *http.Request, s *session) {
	subs, err := srv.svc.MySubscriptions(r.Context(), s.actor(), service.MySubscriptionsRequest{})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "me", "My subscriptions", map[string]any{"Subs": subs, "Modes": []string{"regular", "digest", "nomail"}})
}
