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
	{"GET", "/me/key", func(srv *Server) http.HandlerFunc { return srv.auth(srv.myKey) }},
	{"POST", "/me/key/challenge", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.keyChallenge) }},
	{"POST", "/me/key/verify", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.keyVerify) }},
	{"GET", "/lists/{list}", func(srv *Server) http.HandlerFunc { return srv.public(srv.about) }},
	{"POST", "/lists/{list}/subscribe", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.subscribe) }},
	{"POST", "/lists/{list}/unsubscribe", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.unsubscribe) }},
	{"POST", "/lists/{list}/delivery", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.delivery) }},
	{"GET", "/lists/{list}/key", func(srv *Server) http.HandlerFunc { return srv.public(srv.listKey) }},
	{"GET", "/lists/{list}/admin", func(srv *Server) http.HandlerFunc { return srv.auth(srv.admin) }},
	{"POST", "/lists/{list}/admin/settings", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.settings) }},
	{"GET", "/lists/{list}/admin/styles", func(srv *Server) http.HandlerFunc { return srv.auth(srv.styles) }},
	{"POST", "/lists/{list}/admin/style", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.styleApply) }},
	{"GET", "/lists/{list}/members", func(srv *Server) http.HandlerFunc { return srv.auth(srv.members) }},
	{"POST", "/lists/{list}/members/add", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.memberAdd) }},
	{"POST", "/lists/{list}/members/remove", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.memberRemove) }},
	{"POST", "/lists/{list}/members/import", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.memberImport) }},
	{"GET", "/lists/{list}/members/export", func(srv *Server) http.HandlerFunc { return srv.auth(srv.memberExport) }},
	{"GET", "/lists/{list}/held", func(srv *Server) http.HandlerFunc { return srv.auth(srv.heldList) }},
	{"GET", "/lists/{list}/held/{id}", func(srv *Server) http.HandlerFunc { return srv.auth(srv.heldShow) }},
	{"POST", "/lists/{list}/held/{id}/{action}", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.heldDecide) }},
	{"GET", "/lists/{list}/archive", func(srv *Server) http.HandlerFunc { return srv.public(srv.archiveIndex) }},
	{"GET", "/lists/{list}/archive/{n}", func(srv *Server) http.HandlerFunc { return srv.public(srv.archiveMessage) }},
	{"GET", "/lists/{list}/archive/{n}/part/{i}", func(srv *Server) http.HandlerFunc { return srv.public(srv.archivePart) }},
	{"POST", "/lists/{list}/archive/{n}/mailme", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.archiveMailMe) }},
	{"GET", "/lists/{list}/keys", func(srv *Server) http.HandlerFunc { return srv.auth(srv.memberKeys) }},
	{"POST", "/lists/{list}/keys/add", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.memberKeyAdd) }},
	{"POST", "/lists/{list}/keys/revoke", func(srv *Server) http.HandlerFunc { return srv.authPost(srv.memberKeyRevoke) }},
	{"GET", "/lists/{list}/bounces", func(srv *Server) http.HandlerFunc { return srv.auth(srv.bounces) }},
	{"GET", "/lists/{list}/audit", func(srv *Server) http.HandlerFunc { return srv.auth(srv.audit) }},
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
