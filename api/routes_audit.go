package api

import (
	"net/http"
	"strconv"
	"time"

	"cloister/service"
)

var (
	paramAuditList = Param{"list", "keep one list's entries (needed unless the token is site:admin)"}
	paramSince     = Param{"since", "keep entries at or after this RFC 3339 time"}
	paramLimit     = Param{"limit", "keep only the last N entries"}
)

func auditRoutes() []Route {
	return []Route{
		op(http.MethodGet, "/v1/audit", "audit", "The audit log: every change and refusal, with actor, method, via, token, scopes, operation, list, target and result (the whole site: site:admin)", ScopeRead,
			func(c *Call, _ none) ([]service.AuditEntry, error) {
				req := service.AuditRequest{List: c.Query("list")}
				if v := c.Query("since"); v != "" {
					t, err := time.Parse(time.RFC3339, v)
					if err != nil {
						return nil, apiError(service.CodeInvalid, "since must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
					}
					req.Since = t
				}
				if v := c.Query("limit"); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						return nil, apiError(service.CodeInvalid, "limit must be a number")
					}
					req.Limit = n
				}
				out, err := c.Svc.Audit(c.Ctx, c.Actor, req)
				if out == nil && err == nil {
					out = []service.AuditEntry{}
				}
				return out, err
			}).withQuery(paramAuditList, paramSince, paramLimit),
	}
}
