package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"cloister/service"
)

// Scope names a route's documentation lists as needed (the service enforces
// them): the least scope that allows the operation.
const (
	ScopeAdmin     = "site:admin"
	ScopeOwner     = "list:LIST:owner"
	ScopeModerator = "list:LIST:moderator"
	ScopeRead      = "list:LIST:read"
	// ScopeAny: any valid token (the list directory, the styles).
	ScopeAny = "any"
)

// Param is a query parameter a route reads.
type Param struct {
	Name, Description string
}

// Route is one endpoint: the router and the OpenAPI document are both built
// from the table of routes.
type Route struct {
	// Method and Path form the http.ServeMux pattern; path wildcards are
	// {name}.
	Method, Path string
	// ID is the OpenAPI operationId.
	ID string
	// Summary is the one-line description.
	Summary string
	// Scope is the least scope that allows the operation.
	Scope string
	// Query lists the query parameters read.
	Query []Param
	// Request is the JSON body's type; nil when the route takes none.
	Request reflect.Type
	// Response is the JSON answer's type.
	Response reflect.Type
	// Status is the success status (200 unless set).
	Status int
	// RequestTypes, when set, are the media types of a raw request body
	// (a CSV import) handed to the route as bytes.
	RequestTypes []string
	// OptionalBody lets the JSON body be left out (its zero value is used).
	OptionalBody bool
	// ResponseTypes, when set, are the media types of a raw answer (an
	// export); the route returns a Raw.
	ResponseTypes []string

	serve func(c *Call) (any, error)
}

// Call is one authenticated request handed to a route.
type Call struct {
	// Ctx is the request's context.
	Ctx context.Context
	// Svc is the service layer.
	Svc service.API
	// Actor is the token's actor.
	Actor service.Actor
	// R is the request (path values, query).
	R    *http.Request
	body []byte
}

// Path returns the path wildcard's value.
func (c *Call) Path(name string) string { return c.R.PathValue(name) }

// Query returns the query parameter's value.
func (c *Call) Query(name string) string { return c.R.URL.Query().Get(name) }

// none is the request type of routes without a body.
type none struct{}

// decode reads the JSON body strictly into v: unknown fields, trailing data
// and an empty body are refused.
func (c *Call) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return apiError("invalid", "the request needs a JSON body")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiError("invalid", "bad JSON body: "+jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apiError("invalid", "bad JSON body: data after the JSON value")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing large input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// op builds a route whose handler decodes a Req (unless Req is none) and
// returns a Resp.
func op[Req, Resp any](method, path, id, summary, scope string, fn func(c *Call, req Req) (Resp, error)) Route {
	r := Route{Method: method, Path: path, ID: id, Summary: summary, Scope: scope,
		Response: reflect.TypeFor[Resp]()}
	if t := reflect.TypeFor[Req](); t != reflect.TypeFor[none]() {
		r.Request = t
	}
	r.serve = func(c *Call) (any, error) {
		var req Req
		if r.Request != nil && (!r.OptionalBody || len(bytes.TrimSpace(c.body)) > 0) {
			if err := c.decode(&req); err != nil {
				return nil, err
			}
		} else if len(bytes.TrimSpace(c.body)) > 0 {
			return nil, apiError("invalid", "this request takes no body")
		}
		return fn(c, req)
	}
	return r
}

// Raw is an answer sent as it is, with its media type (an export).
type Raw struct {
	ContentType string
	Data        []byte
}

// rawOp builds a route whose body is handed over as bytes (nil when empty),
// in one of the media types given.
func rawOp[Resp any](method, path, id, summary, scope string, types []string, fn func(c *Call, body []byte) (Resp, error)) Route {
	r := Route{Method: method, Path: path, ID: id, Summary: summary, Scope: scope,
		Response: reflect.TypeFor[Resp](), RequestTypes: types}
	r.serve = func(c *Call) (any, error) { return fn(c, c.body) }
	return r
}

// rawOut returns r documenting a raw answer in these media types.
func (r Route) rawOut(types ...string) Route {
	r.ResponseTypes = types
	return r
}

// withQuery returns r documenting query parameters.
func (r Route) withQuery(ps ...Param) Route {
	r.Query = append(r.Query, ps...)
	return r
}

// optional returns r taking its JSON body optionally.
func (r Route) optional() Route {
	r.OptionalBody = true
	return r
}

// created returns r answering 201.
func (r Route) created() Route {
	r.Status = http.StatusCreated
	return r
}
