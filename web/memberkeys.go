package web

import (
	"net/http"

	"cloister/service"
)

func keysPath(list string) string { return listPath(list) + "/keys" }

// memberKeys shows the keys and certificates bound to a list's members
// (owners), with the forms to add and to revoke one.
func (srv *Server) memberKeys(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	keys, err := srv.svc.KeyList(r.Context(), s.actor(), service.KeyListRequest{List: list})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "memberkeys", "Members' keys on "+list, map[string]any{"List": list, "Keys": keys})
}

// memberKeyAdd binds a member's OpenPGP key or S/MIME certificate on the
// owner's authority (the owner's word stands for the old key's signature).
func (srv *Server) memberKeyAdd(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	key, err := formBytes(r, "key")
	if err != nil {
		srv.fail(w, r, s, http.StatusBadRequest, "The key file could not be read.")
		return
	}
	if !srv.mailAllowed(w, r, s, srv.ownerMails) { // the member is told of the key
		return
	}
	_, err = srv.svc.KeyAdd(r.Context(), s.actor(), service.KeyAddRequest{List: list, Address: r.PostFormValue("address"), Key: key, Use: r.PostFormValue("use")})
	srv.done(w, r, s, keysPath(list), "Key added.", err)
}

// memberKeyRevoke unbinds a member's key or certificate.
func (srv *Server) memberKeyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	if !srv.mailAllowed(w, r, s, srv.ownerMails) { // the member is told of the revocation
		return
	}
	err := srv.svc.KeyRevoke(r.Context(), s.actor(), service.KeyRevokeRequest{List: list, Address: r.PostFormValue("address"), Fingerprint: r.PostFormValue("fingerprint")})
	srv.done(w, r, s, keysPath(list), "Key revoked.", err)
}
