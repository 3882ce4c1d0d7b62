package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRouter walks the router and the served document and
// finds them equal: every route is documented with its method, path
// parameters, request body and scope, and every documented operation is
// routed to the pattern it names.
func TestOpenAPIMatchesRouter(t *testing.T) {
	h := New(nil, nil, Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d", rec.Code)
	}
	var doc Document
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}

	// Every documented operation is routed, to exactly that pattern.
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	var documented []string
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			m := strings.ToUpper(method)
			documented = append(documented, m+" "+path)
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s %s: operationId %q missing or repeated", m, path, op.OperationID)
			}
			ids[op.OperationID] = true
			if op.Summary == "" || op.Scope == "" {
				t.Errorf("%s %s: no summary or scope", m, path)
			}
			concrete := param.ReplaceAllString(path, "x@lists.example.test")
			_, pattern := h.Mux().Handler(httptest.NewRequest(m, concrete, nil))
			if pattern != m+" "+path {
				t.Errorf("documented %s %s is routed to %q", m, path, pattern)
			}
			wantParams := param.FindAllString(path, -1)
			var got []string
			for _, p := range op.Parameters {
				if p.In == "path" {
					got = append(got, "{"+p.Name+"}")
				}
			}
			if strings.Join(got, ",") != strings.Join(wantParams, ",") {
				t.Errorf("%s %s documents path parameters %v, want %v", m, path, got, wantParams)
			}
			for _, resp := range op.Responses {
				for _, mt := range resp.Content {
					checkRefs(t, doc, mt.Schema)
				}
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					checkRefs(t, doc, mt.Schema)
				}
			}
		}
	}

	// Every route is documented.
	var routed []string
	for _, r := range h.Routes() {
		routed = append(routed, r.Method+" "+r.Path)
		op, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("route %s %s is not documented", r.Method, r.Path)
			continue
		}
		if (r.Request != nil || len(r.RequestTypes) > 0) != (op.RequestBody != nil) {
			t.Errorf("route %s %s: request body documented %v, taken %v", r.Method, r.Path, op.RequestBody != nil, r.Request != nil)
		}
	}
	sort.Strings(routed)
	sort.Strings(documented)
	if strings.Join(routed, "\n") != strings.Join(documented, "\n") {
		t.Errorf("routes and document differ:\nrouted:\n%s\ndocumented:\n%s", strings.Join(routed, "\n"), strings.Join(documented, "\n"))
	}
	if len(routed) < 10 {
		t.Errorf("only %d routes", len(routed))
	}
}

// checkRefs fails on a $ref that names no component schema.
func checkRefs(t *testing.T, doc Document, s *Schema) {
	t.Helper()
	if s == nil {
		t.Error("missing schema")
		return
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("dangling $ref %s", s.Ref)
		}
		return
	}
	for _, p := range s.Properties {
		checkRefs(t, doc, p)
	}
	if s.Items != nil {
		checkRefs(t, doc, s.Items)
	}
	if s.AdditionalProperties != nil {
		checkRefs(t, doc, s.AdditionalProperties)
	}
}
