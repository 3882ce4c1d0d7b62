package web

import (
	"io"
	"net/http"
	"strings"

	"cloister/service"
)

// adminPath is a list's owner page.
func adminPath(list string) string { return listPath(list) + "/admin" }

// admin shows a list's settings with their documentation (owners whose
// login the list's admin scenario accepts).
func (srv *Server) admin(w http.ResponseWriter, r *http.Request, s *session) {
	info, err := srv.svc.ListShow(r.Context(), s.actor(), service.ListRef{List: r.PathValue("list")})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	keys, err := srv.svc.ListPublicKeys(r.Context(), s.actor(), service.ListRef{List: info.Address})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "admin", "Settings of "+info.Address, map[string]any{"Info": info, "Keys": keys})
}

// settings changes the settings the form sends (name=value pairs whose
// names are prefixed "set."), only those whose value changed.
func (srv *Server) settings(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	set := map[string]string{}
	for k, v := range r.PostForm {
		if name, ok := strings.CutPrefix(k, "set."); ok && len(v) > 0 {
			if prev := r.PostFormValue("was." + name); prev != v[0] || !r.PostForm.Has("was."+name) {
				set[name] = v[0]
			}
		}
	}
	if len(set) == 0 {
		redirect(w, r, s, adminPath(list), "Nothing changed.")
		return
	}
	_, err := srv.svc.ListSet(r.Context(), s.actor(), service.ListSetRequest{List: list, Settings: set})
	srv.done(w, r, s, adminPath(list), "Settings saved.", err)
}

// members lists or searches a list's members.
func (srv *Server) members(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	q := r.URL.Query().Get("q")
	ms, err := srv.svc.MemberList(r.Context(), s.actor(), service.MemberListRequest{List: list, Query: q})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "members", "Members of "+list, map[string]any{"List": list, "Query": q, "Members": ms})
}

func membersPath(list string) string { return listPath(list) + "/members" }

// memberAdd adds a member (owners).
func (srv *Server) memberAdd(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	if r.PostFormValue("welcome") == "yes" && !srv.mailAllowed(w, r, s, srv.ownerMails) {
		return
	}
	_, err := srv.svc.MemberAdd(r.Context(), s.actor(), service.MemberAddRequest{List: list,
		Address: r.PostFormValue("address"), Name: r.PostFormValue("name"), Welcome: r.PostFormValue("welcome") == "yes"})
	srv.done(w, r, s, membersPath(list), "Member added.", err)
}

// memberRemove removes a member (owners).
func (srv *Server) memberRemove(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	err := srv.svc.MemberRemove(r.Context(), s.actor(), service.MemberRemoveRequest{List: list, Address: r.PostFormValue("address")})
	srv.done(w, r, s, membersPath(list), "Member removed.", err)
}

// memberImport imports members from a pasted or uploaded CSV or JSON file,
// or checks it only (dry run); the page lists the bad lines.
func (srv *Server) memberImport(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	data := []byte(r.PostFormValue("data"))
	if f, _, err := r.FormFile("file"); err == nil {
		data, err = io.ReadAll(io.LimitReader(f, 8<<20))
		f.Close()
		if err != nil {
			srv.fail(w, r, s, http.StatusBadRequest, "The file could not be read.")
			return
		}
	}
	res, err := srv.svc.MemberImport(r.Context(), s.actor(), service.MemberImportRequest{List: list,
		Format: r.PostFormValue("format"), Data: data, DryRun: r.PostFormValue("dry_run") == "yes", SkipBad: r.PostFormValue("skip_bad") == "yes"})
	if err != nil && res.BadCount == 0 {
		srv.serviceFail(w, r, s, err)
		return
	}
	code := http.StatusOK
	if err != nil {
		code = status(err)
	}
	srv.render(w, r, s, code, "imported", "Import into "+list, map[string]any{"List": list, "Result": res, "Error": service.Message(err)})
}

// memberExport downloads the members as CSV or JSON.
func (srv *Server) memberExport(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	format := r.URL.Query().Get("format")
	ex, err := srv.svc.MemberExport(r.Context(), s.actor(), service.MemberExportRequest{List: list, Format: format})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	download(w, ex, strings.ReplaceAll(list, "@", "_")+"-members."+format)
}

// download sends an export as an attachment, never rendered.
func download(w http.ResponseWriter, ex service.Export, name string) {
	w.Header().Set("Content-Type", ex.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(name)+`"`)
	w.Write(ex.Data)
}

// safeFilename keeps letters, digits and ._- of a file name.
func safeFilename(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
	if out == "" || strings.Trim(out, ".") == "" {
		return "download"
	}
	return out
}

// bounces shows the members' bounce scores (owners).
func (srv *Server) bounces(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	bs, err := srv.svc.BounceList(r.Context(), s.actor(), service.ListRef{List: list})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "bounces", "Bounces on "+list, map[string]any{"List": list, "Bounces": bs})
}

// audit shows the list's audit log, newest last (owners).
func (srv *Server) audit(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	es, err := srv.svc.Audit(r.Context(), s.actor(), service.AuditRequest{List: list, Limit: 500})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "audit", "Audit log of "+list, map[string]any{"List": list, "Entries": es})
}

// listKey downloads the list's public OpenPGP key or S/MIME certificate.
func (srv *Server) listKey(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	kind := r.URL.Query().Get("kind")
	ex, err := srv.svc.ListPublicKeyExport(r.Context(), s.actor(), service.ListKeyRequest{List: list, Kind: kind})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	ext := ".asc"
	if kind == "smime" {
		ext = ".pem"
	}
	download(w, ex, strings.ReplaceAll(list, "@", "_")+ext)
}
