package web

import (
	"errors"
	"net/http"

	"cloister/rules"
	"cloister/service"
)

// actor is who the session acts as in the service: its address and the
// method that proved it (md5 for an email token, smime for a client
// certificate), by the web. A visitor who has not logged in is an smtp
// actor without an address: nothing is proven.
func (s *session) actor() service.Actor {
	if s == nil || !s.loggedIn() {
		return service.Actor{Method: rules.MethodSMTP, Via: service.ViaWeb}
	}
	return service.Actor{Address: s.Address, Method: s.Method, Via: service.ViaWeb}
}

// status maps a service error code to an HTTP status.
func status(err error) int {
	switch service.Code(err) {
	case service.CodeInvalid:
		return http.StatusBadRequest
	case service.CodeUnauthenticated:
		return http.StatusUnauthorized
	case service.CodeForbidden:
		return http.StatusForbidden
	case service.CodeNotFound:
		return http.StatusNotFound
	case service.CodeConflict:
		return http.StatusConflict
	case service.CodePending:
		return http.StatusAccepted
	case service.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusServiceUnavailable
}

// serviceFail renders a refusal or a failure of the service: its message
// (safe to show), and the underlying error in the log.
func (srv *Server) serviceFail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var e *service.Error
	if !errors.As(err, &e) {
		srv.log.Error("service", "path", r.URL.Path, "err", err)
	} else if e.Code == service.CodeUnavailable {
		srv.log.Error("service", "path", r.URL.Path, "err", err, "cause", e.Err)
	}
	srv.fail(w, r, s, status(err), capital(service.Message(err))+".")
}

// done answers a state-changing form: back to path with the outcome (a
// pending result is not a failure: it says what was mailed).
func (srv *Server) done(w http.ResponseWriter, r *http.Request, s *session, path, ok string, err error) {
	switch {
	case err == nil:
		redirect(w, r, s, path, ok)
	case service.Code(err) == service.CodePending:
		redirect(w, r, s, path, capital(service.Message(err))+".")
	default:
		srv.serviceFail(w, r, s, err)
	}
}

func capital(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
