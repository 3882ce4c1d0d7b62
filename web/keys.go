package web

import (
	"io"
	"net/http"

	"cloister/service"
)

// formBytes returns a pasted field, or the file uploaded under field+"_file"
// when there is one.
func formBytes(r *http.Request, field string) ([]byte, error) {
	if f, _, err := r.FormFile(field + "_file"); err == nil {
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, service.MaxKeySize+1))
	}
	return []byte(r.PostFormValue(field)), nil
}

// myKey shows the keys bound to the session's address and the form to set
// one through a list the address is on.
func (srv *Server) myKey(w http.ResponseWriter, r *http.Request, s *session) {
	keys, err := srv.svc.MyKey(r.Context(), s.actor(), service.MyKeyRequest{})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	subs, err := srv.svc.MySubscriptions(r.Context(), s.actor(), service.MySubscriptionsRequest{})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "mykey", "My key", map[string]any{"Keys": keys, "Subs": subs})
}

// keyChallenge takes the offered public key and shows the text it must
// sign (and the old key too, when one is bound: a key is changed only with
// a signature by the key it replaces).
func (srv *Server) keyChallenge(w http.ResponseWriter, r *http.Request, s *session) {
	key, err := formBytes(r, "key")
	if err != nil {
		srv.fail(w, r, s, http.StatusBadRequest, "The key file could not be read.")
		return
	}
	list := r.PostFormValue("list")
	if srv.hiddenList(w, r, s, list) {
		return
	}
	ch, err := srv.svc.KeyChallenge(r.Context(), s.actor(), service.KeyChallengeRequest{List: list, Key: key})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "keyproof", "Prove you hold the key", map[string]any{"List": list, "Challenge": ch})
}

// keyVerify checks the signed challenge and sets the key as the mail path
// does (bound at once, or a key request for the owners).
func (srv *Server) keyVerify(w http.ResponseWriter, r *http.Request, s *session) {
	if srv.hiddenList(w, r, s, r.PostFormValue("list")) {
		return
	}
	sig, err := formBytes(r, "signature")
	if err != nil {
		srv.fail(w, r, s, http.StatusBadRequest, "The signature file could not be read.")
		return
	}
	old, err := formBytes(r, "old_signature")
	if err != nil {
		srv.fail(w, r, s, http.StatusBadRequest, "The signature file could not be read.")
		return
	}
	if !srv.mailAllowed(w, r, s, srv.mails) { // a bound key is announced to the member
		return
	}
	_, err = srv.svc.KeyVerify(r.Context(), s.actor(), service.KeyVerifyRequest{List: r.PostFormValue("list"), ID: r.PostFormValue("id"), Signature: sig, OldSignature: old})
	srv.done(w, r, s, "/me/key", "Your key is set.", err)
}
