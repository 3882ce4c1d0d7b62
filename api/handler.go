package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloister/api/token"
	"cloister/service"
)

// DefaultMaxBody is the largest request body accepted (member imports
// included), in bytes.
const DefaultMaxBody = 4 << 20

// Options configure a Handler.
type Options struct {
	// Log receives request failures and failed authentications (never a
	// token). Nil: slog.Default().
	Log *slog.Logger
	// MaxBody bounds request bodies in bytes (DefaultMaxBody when zero).
	MaxBody int64
	// Limiter counts failed authentications per client (a default one when nil).
	Limiter *Limiter
}

// Handler serves the API.
type Handler struct {
	svc     service.API
	tokens  *token.Store
	opts    Options
	mux     *http.ServeMux
	routes  []Route
	openapi []byte
}

// New returns the API handler over a service and a token store.
func New(svc service.API, tokens *token.Store, opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Limiter == nil {
		opts.Limiter = &Limiter{Failures: DefaultAuthFailures, Window: DefaultAuthWindow}
	}
	h := &Handler{svc: svc, tokens: tokens, opts: opts, mux: http.NewServeMux(), routes: Routes()}
	doc, err := json.MarshalIndent(OpenAPI(h.routes), "", "  ")
	if err != nil {
		panic(fmt.Sprintf("openapi document: %v", err))
	}
	h.openapi = doc
	h.mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(h.openapi)
	})
	for _, rt := range h.routes {
		h.mux.Handle(rt.Method+" "+rt.Path, h.serve(rt))
	}
	return h
}

// Routes returns the route table the handler serves.
func (h *Handler) Routes() []Route { return h.routes }

// Mux returns the router built from the route table.
func (h *Handler) Mux() *http.ServeMux { return h.mux }

// ServeHTTP routes the request; a path no route serves and a method a path
// does not take are answered with JSON errors.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		probe := &statusProbe{header: http.Header{}}
		handler, _ := h.mux.Handler(r)
		handler.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, h.opts.Log, r, apiError(CodeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path))
			return
		}
		writeError(w, h.opts.Log, r, apiError("not_found", "no such endpoint: "+r.URL.Path))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// statusProbe records what the mux's own error handler would answer.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int)      { p.status = status }

// serve wraps a route: authenticate, read the bounded body, call, answer.
func (h *Handler) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := h.authenticate(r)
		if err != nil {
			if se := (*service.Error)(nil); errors.As(err, &se) && se.Code == CodeRateLimited {
				w.Header().Set("Retry-After", strconv.Itoa(int(h.opts.Limiter.Window.Seconds())))
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="cloister"`)
			}
			writeError(w, h.opts.Log, r, err)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, h.opts.Log, r, apiError("too_large", fmt.Sprintf("the request body is larger than %d bytes", h.opts.MaxBody)))
				return
			}
			writeError(w, h.opts.Log, r, apiError("invalid", "could not read the request body"))
			return
		}
		if len(body) > 0 {
			if err := checkContentType(rt, r.Header.Get("Content-Type")); err != nil {
				writeError(w, h.opts.Log, r, err)
				return
			}
		}
		c := &Call{Ctx: r.Context(), Svc: h.svc, Actor: actor, R: r, body: body}
		resp, err := rt.serve(c)
		if err != nil {
			writeError(w, h.opts.Log, r, err)
			return
		}
		status := rt.Status
		if status == 0 {
			status = http.StatusOK
		}
		if raw, ok := resp.(Raw); ok {
			w.Header().Set("Content-Type", raw.ContentType)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			w.Write(raw.Data)
			return
		}
		writeJSON(w, status, resp)
	})
}

// checkContentType refuses a body in a media type the route does not take
// (no Content-Type is taken as the route's first type).
func checkContentType(rt Route, ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return apiError("invalid", "bad Content-Type")
	}
	want := rt.RequestTypes
	if len(want) == 0 {
		want = []string{"application/json"}
	}
	if !slices.Contains(want, mt) {
		return apiError("invalid", "the request body must be "+strings.Join(want, " or "))
	}
	return nil
}

// authenticate turns the bearer token into an actor, counting failures per
// client.
func (h *Handler) authenticate(r *http.Request) (service.Actor, error) {
	client := ClientOf(r)
	if blocked, _ := h.opts.Limiter.Blocked(client); blocked {
		h.opts.Log.Warn("api authentication refused: too many failures", "client", client, "path", r.URL.Path)
		return service.Actor{}, apiError(CodeRateLimited, "too many failed authentications; try again later")
	}
	fail := func(reason string, msg string) (service.Actor, error) {
		if err := h.opts.Limiter.Fail(client); err != nil {
			h.opts.Log.Error("api failed authentication not stored", "client", client, "err", err)
		}
		h.opts.Log.Warn("api authentication failed", "client", client, "path", r.URL.Path, "reason", reason)
		return service.Actor{}, apiError("unauthenticated", msg)
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return fail("no Authorization header", "an Authorization: Bearer token is required")
	}
	scheme, secret, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return fail("not a bearer token", "only Authorization: Bearer tokens are accepted")
	}
	tok, err := h.tokens.Authenticate(strings.TrimSpace(secret))
	switch {
	case errors.Is(err, token.ErrExpired):
		return fail("expired token", "the token has expired")
	case errors.Is(err, token.ErrUnknown), errors.Is(err, token.ErrMalformed):
		return fail(err.Error(), "the token is not valid")
	case err != nil:
		return service.Actor{}, &service.Error{Code: "unavailable", Message: "the token store is unavailable; try again", Err: err}
	}
	scopes := make([]service.Scope, 0, len(tok.Scopes))
	for _, s := range tok.Scopes {
		sc, err := service.ParseScope(s)
		if err != nil {
			return fail("token with a bad scope", "the token is not valid")
		}
		scopes = append(scopes, sc)
	}
	return service.Actor{Method: service.MethodToken, Scopes: scopes, Via: service.ViaAPI, Token: tok.ID, TokenCreated: tok.Created}, nil
}

type clientKey struct{}

// WithClient returns a context naming the connection's client (for
// http.Server.ConnContext): "uid:N" for a Unix socket peer, "ip:ADDR" for TCP.
func WithClient(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, clientKey{}, clientName(c))
}

// ClientOf returns the client a request came from.
func ClientOf(r *http.Request) string {
	if s, ok := r.Context().Value(clientKey{}).(string); ok {
		return s
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return "ip:" + r.RemoteAddr
	}
	return "ip:" + host
}

// clientName names the peer of a connection.
func clientName(c net.Conn) string {
	for {
		if u, ok := c.(interface{ NetConn() net.Conn }); ok {
			c = u.NetConn()
			continue
		}
		break
	}
	switch conn := c.(type) {
	case *net.UnixConn:
		if uid, err := peerUID(conn); err == nil {
			return "uid:" + strconv.Itoa(uid)
		}
		return "uid:unknown"
	case *net.TCPConn:
		if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			return "ip:" + a.IP.String()
		}
	}
	return "ip:" + c.RemoteAddr().String()
}

// readTimeout etc. are the daemon's connection limits.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 60 * time.Second
	WriteTimeout      = 120 * time.Second
	IdleTimeout       = 120 * time.Second
)
