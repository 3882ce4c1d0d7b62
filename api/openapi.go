package api

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Document is an OpenAPI 3.1 document (the subset Cloister writes).
type Document struct {
	OpenAPI    string                          `json:"openapi"`
	Info       Info                            `json:"info"`
	Paths      map[string]map[string]Operation `json:"paths"`
	Components Components                      `json:"components"`
	Security   []map[string][]string           `json:"security"`
}

// Info describes the API.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

// Components holds the named schemas and the security scheme.
type Components struct {
	Schemas         map[string]*Schema        `json:"schemas"`
	SecuritySchemes map[string]SecurityScheme `json:"securitySchemes"`
}

// SecurityScheme is the bearer token scheme.
type SecurityScheme struct {
	Type   string `json:"type"`
	Scheme string `json:"scheme"`
}

// Operation is one method on one path.
type Operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	Parameters  []Parameter           `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]Response   `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
	// Scope is the least token scope that allows the operation.
	Scope string `json:"x-cloister-scope,omitempty"`
}

// Parameter is a path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required,omitempty"`
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is a JSON request body.
type RequestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]MediaType `json:"content"`
}

// Response is one documented answer.
type Response struct {
	Description string               `json:"description"`
	Content     map[string]MediaType `json:"content,omitempty"`
}

// MediaType holds a schema.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Schema is a JSON Schema (2020-12, as OpenAPI 3.1 uses).
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Type                 string             `json:"type,omitempty"`
	Format               string             `json:"format,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	AdditionalProperties *Schema            `json:"additionalProperties,omitempty"`
}

var wildcard = regexp.MustCompile(`\{([a-zA-Z_]+)\.*\}`)

// OpenAPI builds the document of the routes.
func OpenAPI(routes []Route) *Document {
	d := &Document{
		OpenAPI: "3.1.0",
		Info: Info{Title: "Cloister API", Version: "1",
			Description: "Manage a Cloister site's lists, members, keys, held posts, bounces and queues. " +
				"Every request carries Authorization: Bearer TOKEN (cloister token create); errors are " +
				`{"error":{"code":...,"message":...}}. See docs/api.md.`},
		Paths: map[string]map[string]Operation{},
		Components: Components{
			Schemas:         map[string]*Schema{},
			SecuritySchemes: map[string]SecurityScheme{"bearer": {Type: "http", Scheme: "bearer"}},
		},
		Security: []map[string][]string{{"bearer": {}}},
	}
	g := &schemaGen{d.Components.Schemas}
	g.schema(reflect.TypeFor[ErrorBody]())
	for _, r := range routes {
		op := Operation{OperationID: r.ID, Summary: r.Summary, Scope: r.Scope,
			Responses: map[string]Response{}}
		for _, m := range wildcard.FindAllStringSubmatch(r.Path, -1) {
			op.Parameters = append(op.Parameters, Parameter{Name: m[1], In: "path", Required: true, Schema: &Schema{Type: "string"}})
		}
		for _, q := range r.Query {
			op.Parameters = append(op.Parameters, Parameter{Name: q.Name, In: "query", Description: q.Description, Schema: &Schema{Type: "string"}})
		}
		if r.Request != nil {
			op.RequestBody = &RequestBody{Required: !r.OptionalBody, Content: map[string]MediaType{"application/json": {Schema: g.schema(r.Request)}}}
		}
		if len(r.RequestTypes) > 0 {
			op.RequestBody = &RequestBody{Required: true, Content: map[string]MediaType{}}
			for _, t := range r.RequestTypes {
				op.RequestBody.Content[t] = MediaType{Schema: &Schema{Type: "string"}}
			}
		}
		status := r.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := Response{Description: http.StatusText(status), Content: map[string]MediaType{}}
		if len(r.ResponseTypes) > 0 {
			for _, t := range r.ResponseTypes {
				ok.Content[t] = MediaType{Schema: &Schema{Type: "string"}}
			}
		} else {
			ok.Content["application/json"] = MediaType{Schema: g.schema(r.Response)}
		}
		op.Responses[strconv.Itoa(status)] = ok
		op.Responses["default"] = Response{Description: "an error with a stable code",
			Content: map[string]MediaType{"application/json": {Schema: &Schema{Ref: "#/components/schemas/ErrorBody"}}}}
		if r.Scope == "" {
			op.Security = []map[string][]string{}
		}
		path := wildcard.ReplaceAllString(r.Path, "{$1}")
		if d.Paths[path] == nil {
			d.Paths[path] = map[string]Operation{}
		}
		d.Paths[path][strings.ToLower(r.Method)] = op
	}
	return d
}

// schemaGen writes named structs into the components once and refers to them.
type schemaGen struct {
	named map[string]*Schema
}

var timeType = reflect.TypeFor[time.Time]()

func (g *schemaGen) schema(t reflect.Type) *Schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return &Schema{Type: "string", Format: "date-time"}
	case t.Kind() == reflect.String:
		return &Schema{Type: "string"}
	case t.Kind() == reflect.Bool:
		return &Schema{Type: "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return &Schema{Type: "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return &Schema{Type: "number"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return &Schema{Type: "string", Format: "byte"}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return &Schema{Type: "array", Items: g.schema(t.Elem())}
	case t.Kind() == reflect.Map:
		return &Schema{Type: "object", AdditionalProperties: g.schema(t.Elem())}
	case t.Kind() == reflect.Struct:
		name := t.Name()
		if name == "" {
			return g.object(t)
		}
		if t.PkgPath() != "" && !strings.HasSuffix(t.PkgPath(), "/api") {
			name = pkgName(t.PkgPath()) + name
		}
		if _, ok := g.named[name]; !ok {
			g.named[name] = &Schema{} // placeholder against recursion
			*g.named[name] = *g.object(t)
		}
		return &Schema{Ref: "#/components/schemas/" + name}
	case t.Kind() == reflect.Interface:
		return &Schema{}
	}
	return &Schema{}
}

func pkgName(path string) string {
	base := path[strings.LastIndex(path, "/")+1:]
	if base == "" {
		return ""
	}
	return strings.ToUpper(base[:1]) + base[1:]
}

// object lists a struct's JSON fields, embedded structs inlined.
func (g *schemaGen) object(t reflect.Type) *Schema {
	s := &Schema{Type: "object", Properties: map[string]*Schema{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range g.object(ft).Properties {
					s.Properties[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		s.Properties[name] = g.schema(f.Type)
	}
	return s
}
