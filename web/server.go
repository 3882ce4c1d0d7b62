package web

import (
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/runners"
	"cloister/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the web server.
type Options struct {
	// BaseURL is the address users reach the server at, for the links in
	// the mails it sends (e.g. https://lists.example.org). Empty: the
	// mails carry no link (never one built from the request's Host).
	BaseURL string
	// ClientCAs enables client-certificate login: the CAs whose S/MIME
	// certificates may log in (nil: certificate login is off).
	ClientCAs *x509.CertPool
	// Now is the clock (tests move it); nil means time.Now.
	Now func() time.Time
	// Service runs every read and change; nil means the site's own
	// (NewService).
	Service *service.Service
}

// Server is the web interface of one site.
type Server struct {
	site     *site.Site
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	tokens   *loginTokens
	// Rate limits: login mails per address and per client, login code
	// attempts per client, other mails the web triggers per session address.
	// ownerMails bounds the mails owners' and moderators' actions trigger
	// (welcomes, rejection notices, key announcements) per session address.
	perAddress, perClient, attempts, mails, ownerMails *limiter
	pages                                              map[string]*template.Template
	svc                                                *service.Service
	mux                                                *http.ServeMux
}

// New returns the server of the site.
func New(s *site.Site, opts Options) (*Server, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	srv := &Server{
		site: s, opts: opts, log: s.Log.With("component", "web"), now: now,
		sessions:   newSessions(now),
		tokens:     newLoginTokens(now),
		perAddress: newLimiter(now, 3, 15*time.Minute),
		perClient:  newLimiter(now, 10, 15*time.Minute),
		attempts:   newLimiter(now, 20, 15*time.Minute),
		mails:      newLimiter(now, 10, time.Hour),
		ownerMails: newLimiter(now, 100, time.Hour),
	}
	srv.svc = opts.Service
	if srv.svc == nil {
		srv.svc = NewService(s, now)
	}
	if err := srv.parseTemplates(); err != nil {
		return nil, err
	}
	srv.routes()
	return srv, nil
}

// NewService returns the service the web runs on: the runners' (the
// site's cached scenarios, so mail and web decide alike; the moderation of
// held posts; the email commands' workflows, so a subscription asked on the
// web is confirmed by mail exactly as one asked by mail).
func NewService(s *site.Site, now func() time.Time) *service.Service {
	return runners.Service(s, service.WithClock(now))
}

// parseTemplates parses each page with the layout.
func (srv *Server) parseTemplates() error {
	srv.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("parse template %s: %w", n, err)
		}
		srv.pages[base] = t
	}
	return nil
}

var funcs = template.FuncMap{
	// dict builds a map from key, value pairs (arguments of a sub-template).
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m[k] = kv[i+1]
			}
		}
		return m
	},
	// choices returns the values of an enumerated setting type
	// ("no|yes|force"), or nil for a free one.
	"choices": func(typ string) []string {
		if !strings.Contains(typ, "|") || strings.ContainsAny(typ, " ,") {
			return nil
		}
		return strings.Split(typ, "|")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}

// ServeHTTP serves a request with the security headers every page carries.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	srv.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title   string
	Session *session
	CSRF    string
	Flash   string
	Error   string
	Data    any
}

// render writes a page with status code.
func (srv *Server) render(w http.ResponseWriter, r *http.Request, s *session, code int, name, title string, data any) {
	t := srv.pages[name]
	if t == nil {
		srv.log.Error("no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := page{Title: title, Session: s, Data: data}
	if s != nil {
		p.CSRF = s.csrf
		p.Flash, s.flash = s.flash, ""
	}
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		srv.log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprint(w, b.String())
}

// fail renders the error page.
// mailAllowed counts one mail the request triggers against the session
// address's budget (l: srv.mails for what a member asks for, srv.ownerMails
// for owners' and moderators' actions) and answers 429 when it is spent.
func (srv *Server) mailAllowed(w http.ResponseWriter, r *http.Request, s *session, l *limiter) bool {
	if l.allow(s.Address) {
		return true
	}
	srv.log.Warn("web mail refused: rate limit", "path", r.URL.Path, "address", s.Address, "client", client(r))
	srv.fail(w, r, s, http.StatusTooManyRequests, "Too many mails were asked for. Try again in an hour.")
	return false
}

func (srv *Server) fail(w http.ResponseWriter, r *http.Request, s *session, code int, msg string) {
	srv.render(w, r, s, code, "error", http.StatusText(code), msg)
}

// client is the client's address for rate limits.
func client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateKey is the client's key in the per-client rate limits: its IPv4
// address, or the /64 of its IPv6 address (a host is given a /64 and may
// use any address in it, a new one for each request).
func rateKey(r *http.Request) string {
	ip, err := netip.ParseAddr(client(r))
	if err != nil {
		return client(r)
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// current returns the request's live session, or nil.
func (srv *Server) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	return srv.sessions.get(c.Value)
}

// anon returns the request's session, starting an anonymous one (for the
// CSRF token of the login forms) when there is none.
func (srv *Server) anon(w http.ResponseWriter, r *http.Request) *session {
	if s := srv.current(r); s != nil {
		return s
	}
	s := srv.sessions.create()
	setCookie(w, s)
	return s
}

// handler is a page handler given the request's session.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

// public serves a page anyone may see; it has a session (maybe anonymous).
func (srv *Server) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := srv.anon(w, r)
		if srv.hidden(w, r, s) {
			return
		}
		h(w, r, s)
	}
}

// Bounds on a form's body: a logged-in session's forms take uploads (a
// member import, a key); the forms before a login (the address, the code,
// logout) are a few hundred bytes, and whoever has no session yet gets no
// more, so that a flood of anonymous posts costs little memory each.
const (
	maxFormBytes      = 8 << 20
	maxLoginFormBytes = 16 << 10
)

// post checks a state-changing request: a live session and its CSRF token
// in the form. A request failing either changes nothing.
func (srv *Server) post(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := srv.current(r)
		limit := int64(maxFormBytes)
		if s == nil || !s.loggedIn() {
			limit = maxLoginFormBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		// ParseForm first: ParseMultipartForm hides its error (a body over
		// the limit) behind ErrNotMultipart for a urlencoded form.
		err := r.ParseForm()
		if err == nil {
			if err = r.ParseMultipartForm(limit); err == http.ErrNotMultipart {
				err = nil
			}
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				srv.log.Warn("refused a form over its size limit", "path", r.URL.Path, "limit", limit, "client", client(r))
				srv.fail(w, r, s, http.StatusRequestEntityTooLarge, "The form is too large.")
				return
			}
			srv.fail(w, r, s, http.StatusBadRequest, "The form could not be read.")
			return
		}
		if !csrfOK(s, r.PostFormValue("csrf")) {
			srv.log.Warn("refused a form without its session's CSRF token", "path", r.URL.Path, "client", client(r))
			srv.fail(w, r, s, http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again.")
			return
		}
		if srv.hidden(w, r, s) {
			return
		}
		h(w, r, s)
	}
}

// auth serves a page that needs a logged-in session; others are sent to
// the login page.
func (srv *Server) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := srv.current(r)
		if s == nil || !s.loggedIn() {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if srv.hidden(w, r, s) {
			return
		}
		h(w, r, s)
	}
}

// authPost is post for logged-in sessions.
func (srv *Server) authPost(h handler) http.HandlerFunc {
	return srv.post(func(w http.ResponseWriter, r *http.Request, s *session) {
		if !s.loggedIn() {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r, s)
	})
}

// redirect sends the browser to path after a POST, with a message.
func redirect(w http.ResponseWriter, r *http.Request, s *session, path, flash string) {
	if s != nil {
		s.flash = flash
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
