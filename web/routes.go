package web

import (
	"io/fs"
	"net/http"
)

// route is one page: GET pages render, POST forms change state and always
// pass the CSRF check (post, authPost wrap them).
type route struct {
	method, path string
	h            func(srv *Server) http.HandlerFunc
}

// routeTable lists every page of the interface.
var routeTable = []route{
	{"GET", "/{$}", func(srv *Server) http.HandlerFunc { return srv.public(srv.home) }},
	{"GET", "/login", func(srv *Server) http.HandlerFunc { return srv.public(srv.loginForm) }},
	{"POST", "/login", func(srv *Server) http.HandlerFunc { return srv.post(srv.loginAsk) }},
	{"GET", "/login/token", func(srv *Server) http.HandlerFunc { return srv.public(srv.tokenForm) }},
	{"POST", "/login/token", func(srv *Server) http.HandlerFunc { return srv.post(srv.tokenLogin) }},
	{"POST", "/login/cert", func(srv *Server) http.HandlerFunc { return srv.post(srv.certLogin) }},
	{"POST", "/logout", func(srv *Server) http.HandlerFunc { return srv.post(srv.logout) }},
	{"GET", "/me", func(srv *Server) http.HandlerFunc { return srv.auth(srv.me) }},
	{"GET", "/lists/{list}", func(srv *Server) http.HandlerFunc { return srv.public(srv.about) }},
	{"POST", "/lists/{list}/subscribe", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.subscribe) }},
	{"POST", "/lists/{list}/unsubscribe", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.unsubscribe) }},
	{"POST", "/lists/{list}/delivery", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.delivery) }},
}

// routes builds the mux from routeTable.
func (srv *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	for _, rt := range routeTable {
		m.HandleFunc(rt.method+" "+rt.path, rt.h(srv))
	}
	m.HandleFunc("/", srv.public(func(w http.ResponseWriter, r *http.Request, s *session) {
		srv.fail(w, r, s, http.StatusNotFound, "There is no such page.")
	}))
	srv.mux = m
}
