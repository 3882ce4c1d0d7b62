// Package api is the REST API that `cloister api` serves: JSON over HTTP on a
// Unix socket or on loopback TCP with TLS. One route table (routes.go) holds
// every endpoint's method, path, scope, request and response types; the
// router and the OpenAPI 3.1 document served at /openapi.json are both built
// from it, so they cannot drift apart.
//
// Every request but /openapi.json carries `Authorization: Bearer SECRET`, a
// token made by `cloister token create` (package api/token). The handler turns
// the token into a service.Actor (method "token", the token's scopes, via
// "api") and calls the service layer, which authorizes the operation by scope
// and then by its own checks; no handler touches the stores. Errors are JSON,
// {"error":{"code":"forbidden","message":"..."}}, with the service's stable
// codes mapped to HTTP statuses (errors.go). Failed authentications are
// counted per client (peer uid on the Unix socket, IP on TCP) and refused for
// a while past a threshold (ratelimit.go), and logged without the token.
package api
