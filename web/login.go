package web

import (
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"

	"cloister/keyring"
	"cloister/lists"
	"cloister/rules"
)

// loginForm shows the two ways to log in.
func (srv *Server) loginForm(w http.ResponseWriter, r *http.Request, s *session) {
	var certs []string
	if c := srv.clientCert(r); c != nil {
		certs = c.EmailAddresses
	}
	srv.render(w, r, s, http.StatusOK, "login", "Log in", map[string]any{"CertAddresses": certs, "ClientCA": srv.opts.ClientCAs != nil})
}

// loginAsk mails a login token to the address given, within the rate
// limits per address and per client. The answer is the same whether or
// not the address is known, so the form tells nobody who is subscribed.
func (srv *Server) loginAsk(w http.ResponseWriter, r *http.Request, s *session) {
	addr, err := lists.CanonicalAddress(r.PostFormValue("address"))
	if err != nil {
		srv.render(w, r, s, http.StatusBadRequest, "login", "Log in", map[string]any{"Error": "That is not an email address.", "ClientCA": srv.opts.ClientCAs != nil})
		return
	}
	if !srv.perClient.allow(rateKey(r)) || !srv.perAddress.allow(addr) {
		srv.log.Warn("login mail refused: rate limit", "address", addr, "client", client(r))
		srv.fail(w, r, s, http.StatusTooManyRequests, "Too many login mails were asked for. Wait a quarter of an hour and try again.")
		return
	}
	tok := srv.tokens.issue(addr)
	link := ""
	if base := srv.baseURL(); base != "" {
		link = base + "/login/token?code=" + url.QueryEscape(tok)
	}
	encrypted, err := srv.mailLoginToken(addr, tok, link)
	if err != nil {
		srv.log.Error("login mail not queued", "address", addr, "err", err)
		srv.fail(w, r, s, http.StatusServiceUnavailable, "The login mail could not be sent just now. Try again later.")
		return
	}
	srv.log.Info("login mail queued", "address", addr, "encrypted", encrypted, "client", client(r))
	srv.render(w, r, s, http.StatusOK, "login_sent", "Check your mail", addr)
}

// tokenForm shows the code form, filled from the mail's link. Opening the
// link does not log in by itself (mail scanners open links): the button does.
func (srv *Server) tokenForm(w http.ResponseWriter, r *http.Request, s *session) {
	srv.render(w, r, s, http.StatusOK, "token", "Log in", r.URL.Query().Get("code"))
}

// tokenLogin redeems a login token: the session is replaced by a new one
// for the address, proven by the md5 method.
func (srv *Server) tokenLogin(w http.ResponseWriter, r *http.Request, s *session) {
	if !srv.attempts.allow(rateKey(r)) {
		srv.fail(w, r, s, http.StatusTooManyRequests, "Too many login attempts. Wait a quarter of an hour and try again.")
		return
	}
	addr, err := srv.tokens.redeem(r.PostFormValue("code"))
	if err != nil {
		srv.log.Warn("login code refused", "client", client(r), "err", err)
		srv.render(w, r, s, http.StatusForbidden, "token", "Log in", "")
		return
	}
	ns := srv.sessions.login(s, addr, rules.MethodMD5)
	setCookie(w, ns)
	srv.log.Info("logged in", "address", addr, "method", rules.MethodMD5, "client", client(r))
	redirect(w, r, ns, "/me", "You are logged in as "+addr+".")
}

// certLogin logs in with the TLS client certificate, for the address asked
// when the certificate is the S/MIME signing certificate bound to it in the
// keyring: the smime method.
func (srv *Server) certLogin(w http.ResponseWriter, r *http.Request, s *session) {
	c := srv.clientCert(r)
	if c == nil {
		srv.fail(w, r, s, http.StatusForbidden, "Your browser presented no client certificate this site accepts.")
		return
	}
	addr, err := lists.CanonicalAddress(r.PostFormValue("address"))
	if err != nil {
		srv.fail(w, r, s, http.StatusBadRequest, "That is not an email address.")
		return
	}
	if !srv.certBound(addr, c) {
		srv.log.Warn("certificate login refused: not the certificate bound to the address", "address", addr, "fingerprint", keyring.CertFingerprint(c), "client", client(r))
		srv.fail(w, r, s, http.StatusForbidden, "This certificate is not the S/MIME certificate on file for "+addr+". Log in by email instead.")
		return
	}
	ns := srv.sessions.login(s, addr, rules.MethodSMIME)
	setCookie(w, ns)
	srv.log.Info("logged in", "address", addr, "method", rules.MethodSMIME, "client", client(r))
	redirect(w, r, ns, "/me", "You are logged in as "+addr+" with your certificate.")
}

// certBound reports whether c names addr and is one of the signing
// certificates the keyring binds to addr (the ones whose mail signatures
// authenticate it).
func (srv *Server) certBound(addr string, c *x509.Certificate) bool {
	named := false
	for _, e := range c.EmailAddresses {
		if strings.EqualFold(e, addr) {
			named = true
		}
	}
	if !named || srv.site.Keys == nil {
		return false
	}
	fpr := keyring.CertFingerprint(c)
	for _, f := range srv.site.Keys.SigningCerts(addr, srv.now()) {
		if f == fpr {
			return true
		}
	}
	return false
}

// clientCert returns the request's client certificate when it chains to
// one of the accepted CAs, is valid now and is for email protection (an
// S/MIME certificate) or client authentication; else nil.
func (srv *Server) clientCert(r *http.Request) *x509.Certificate {
	if srv.opts.ClientCAs == nil || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	leaf := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: srv.opts.ClientCAs, Intermediates: inter, CurrentTime: srv.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		srv.log.Warn("client certificate not accepted", "subject", leaf.Subject.String(), "err", err, "client", client(r))
		return nil
	}
	return leaf
}

// logout ends the session.
func (srv *Server) logout(w http.ResponseWriter, r *http.Request, s *session) {
	srv.sessions.drop(s)
	clearCookie(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// baseURL is where users reach the server, from the configuration only:
// never from the request's Host or SNI, which whoever asks for a login
// chooses (a link to their own host in the victim's login mail would hand
// them the code). Empty: the mail carries the code without a link.
func (srv *Server) baseURL() string {
	return strings.TrimRight(srv.opts.BaseURL, "/")
}
