package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"cloister/service"
)

// Audit reads the audit log (service.Service.Audit).
func (c *Client) Audit(ctx context.Context, _ service.Actor, req service.AuditRequest) ([]service.AuditEntry, error) {
	q := url.Values{}
	if req.List != "" {
		q.Set("list", req.List)
	}
	if !req.Since.IsZero() {
		q.Set("since", req.Since.Format(time.RFC3339))
	}
	if req.Limit > 0 {
		q.Set("limit", strconv.Itoa(req.Limit))
	}
	var out []service.AuditEntry
	return out, c.Do(ctx, http.MethodGet, "/v1/audit", q, nil, &out)
}
