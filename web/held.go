package web

import (
	"net/http"

	"cloister/service"
)

func heldPath(list string) string { return listPath(list) + "/held" }

// heldList is the moderation queue of a list.
func (srv *Server) heldList(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	hs, err := srv.svc.HeldList(r.Context(), s.actor(), service.HeldListRequest{List: list})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "held", "Held posts of "+list, map[string]any{"List": list, "Held": hs})
}

// heldShow shows one held post as the service gives it to a moderator:
// for a post that arrived encrypted, its headers only (the service never
// hands out its subject or body), otherwise its headers and text, shown
// as text.
func (srv *Server) heldShow(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	p, err := srv.svc.HeldShow(r.Context(), s.actor(), service.HeldRef{List: list, ID: r.PathValue("id")})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	srv.render(w, r, s, http.StatusOK, "heldpost", "Held post", map[string]any{"List": list, "Post": p})
}

// heldDecide approves, rejects or discards a held post, or mails it to the
// moderator encrypted.
func (srv *Server) heldDecide(w http.ResponseWriter, r *http.Request, s *session) {
	list, id := r.PathValue("list"), r.PathValue("id")
	ref := service.HeldRef{List: list, ID: id}
	a := s.actor()
	var err error
	var ok string
	switch r.PathValue("action") {
	case "approve":
		err, ok = srv.svc.HeldApprove(r.Context(), a, ref), "The post was approved and goes to the list."
	case "reject":
		if !srv.mailAllowed(w, r, s, srv.ownerMails) { // the sender is told
			return
		}
		err, ok = srv.svc.HeldReject(r.Context(), a, service.HeldRejectRequest{List: list, ID: id, Reason: r.PostFormValue("reason")}), "The post was rejected; its sender is told why."
	case "discard":
		err, ok = srv.svc.HeldDiscard(r.Context(), a, ref), "The post was discarded."
	case "sendme":
		if !srv.mailAllowed(w, r, s, srv.mails) {
			return
		}
		err = srv.svc.HeldSendToMe(r.Context(), a, ref)
		srv.done(w, r, s, heldPath(list)+"/"+id, "The post is on its way to you, encrypted to your key.", err)
		return
	default:
		srv.fail(w, r, s, http.StatusNotFound, "There is no such action.")
		return
	}
	srv.done(w, r, s, heldPath(list), ok, err)
}
